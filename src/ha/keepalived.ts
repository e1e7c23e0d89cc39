// keepalived's configuration for a pair (templates/keepalived/keepalived.conf.hbs). Pure.
import { template } from '../render/templates.js';
import { HA_HEALTH_FILE, HA_NIC, VRRP_ADVERT_SECONDS } from '../appliance/ha.js';
import type { HaSettings } from './settings.js';

export const keepalivedConf = (s: HaSettings, hostname: string): string =>
  template('keepalived/keepalived.conf')({
    routerId: hostname,
    advert: VRRP_ADVERT_SECONDS,
    healthFile: HA_HEALTH_FILE,
    nic: HA_NIC,
    vrid: s.vrid,
    priority: s.priority,
    own: s.own,
    peers: s.peers,
    address: s.address,
    prefix: s.prefix,
  });
