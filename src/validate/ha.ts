// Two appliances (ha.* values): the bodies of the rules.ts entries that name them. The pair's values are
// checked like every other value, and together: the floating address and the peers in the management
// network, none of them an address of this appliance, the same CA on both (a given one).
import { contains, parseIp, type Ip } from '../net/ip.js';
import { splitList } from '../properties/schema.js';
import type { PropertyKey } from '../properties/table.js';
import type { Context } from './context.js';
import type { Problem } from './finding.js';

const p = (keys: readonly PropertyKey[], message: string, hint?: string): Problem =>
  hint === undefined ? { keys, message } : { keys, message, hint };

/** Whether the values ask for a pair: a floating address or peers (the rules below say when one is missing). */
const haAsked = (ctx: Context): boolean => ctx.isSet('ha.address') || ctx.isSet('ha.peers');

/** The peers as written (duplicates kept, so they can be reported), each parsed. */
const peersOf = (ctx: Context): { text: string; ip: Ip | undefined }[] =>
  splitList(ctx.isSet('ha.peers') ? ctx.rawText('ha.peers') : '').map((text) => ({ text, ip: parseIp(text) }));

/** This appliance's own addresses: a floating address or a peer must be none of them. */
function ownAddresses(ctx: Context): { key: PropertyKey; ip: Ip; what: string }[] {
  const out: { key: PropertyKey; ip: Ip; what: string }[] = [];
  for (const nic of ctx.nics) {
    const a = ctx.iface(nic.ip);
    if (a) out.push({ key: nic.ip, ip: a.address, what: `this appliance's ${nic.name} address` });
    const g = ctx.ip(nic.gateway);
    if (g) out.push({ key: nic.gateway, ip: g, what: `the ${nic.name} gateway` });
  }
  return out;
}

const EXAMPLE_PEER = "the other appliance's network.management_ip without its prefix, e.g. 192.0.2.12";

export const HA_CHECKS: Readonly<Record<string, (ctx: Context) => Iterable<Problem>>> = {
  'ha.incomplete': function* (ctx) {
    if (ctx.isSet('ha.address') && !ctx.isSet('ha.peers'))
      yield p(
        ['ha.address', 'ha.peers'],
        'ha.address is set but ha.peers is not: there is no other appliance to take the address over',
        `list the other appliances in ha.peers (${EXAMPLE_PEER}), or leave ha.address blank for a single appliance`,
      );
    if (ctx.isSet('ha.peers') && !ctx.isSet('ha.address'))
      yield p(
        ['ha.peers', 'ha.address'],
        'ha.peers is set but ha.address is not: the Supervisor needs one address that follows the active appliance',
        'set ha.address to a free address in the management network, the same on every appliance, e.g. 192.0.2.20',
      );
  },
  'ha.management-static': function* (ctx) {
    if (haAsked(ctx) && !ctx.isSet('network.management_ip'))
      yield p(
        ['network.management_ip', 'ha.address'],
        'two appliances need a static management address (network.management_ip is blank: DHCP)',
        'give each appliance its own network.management_ip, e.g. 192.0.2.11/24',
      );
  },
  'ha.address-network': function* (ctx) {
    const mgmt = ctx.iface('network.management_ip');
    // An ha.address that is no address at all is gateway.syntax's (every address-kind value): said once.
    const ip = ctx.ip('ha.address');
    if (!mgmt || !ip) return;
    if (ip.family !== mgmt.address.family || !contains(mgmt, ip))
      yield p(
        ['ha.address', 'network.management_ip'],
        `ha.address ${ctx.plain(ip.text)} is not in the management network ${ctx.plain(mgmt.text)}`,
        'use a free address of the management network: VRRP moves it between the appliances on that network',
      );
  },
  'ha.address-taken': function* (ctx) {
    const ip = ctx.ip('ha.address');
    if (!ip) return;
    for (const own of ownAddresses(ctx))
      if (own.ip.text === ip.text)
        yield p(
          ['ha.address', own.key],
          `ha.address ${ctx.plain(ip.text)} is ${own.what} (${own.key})`,
          'use a free address of the management network that no appliance or router has',
        );
    for (const peer of peersOf(ctx))
      if (peer.ip?.text === ip.text)
        yield p(
          ['ha.address', 'ha.peers'],
          `ha.address ${ctx.plain(ip.text)} is also listed in ha.peers`,
          "ha.peers lists the other appliances' own management addresses, not the floating one",
        );
  },
  'ha.peer-syntax': function* (ctx) {
    for (const peer of peersOf(ctx))
      if (!peer.ip)
        yield p(['ha.peers'], `ha.peers entry ${ctx.quote(peer.text)} is not an IP address`, `write ${EXAMPLE_PEER}`);
  },
  'ha.peer-network': function* (ctx) {
    const mgmt = ctx.iface('network.management_ip');
    if (!mgmt) return;
    for (const peer of peersOf(ctx))
      if (peer.ip && (peer.ip.family !== mgmt.address.family || !contains(mgmt, peer.ip)))
        yield p(
          ['ha.peers', 'network.management_ip'],
          `ha.peers entry ${ctx.plain(peer.ip.text)} is not in the management network ${ctx.plain(mgmt.text)}`,
          'the appliances of a pair share the management network: VRRP speaks to them directly',
        );
  },
  'ha.peer-own': function* (ctx) {
    for (const peer of peersOf(ctx))
      for (const own of ownAddresses(ctx))
        if (peer.ip && own.ip.text === peer.ip.text)
          yield p(
            ['ha.peers', own.key],
            `ha.peers entry ${ctx.plain(peer.ip.text)} is ${own.what} (${own.key})`,
            "list only the other appliances' management addresses",
          );
  },
  'ha.peer-duplicate': function* (ctx) {
    const seen = new Set<string>();
    for (const peer of peersOf(ctx)) {
      if (!peer.ip) continue;
      if (seen.has(peer.ip.text))
        yield p(['ha.peers'], `ha.peers lists ${ctx.plain(peer.ip.text)} twice`, 'list each appliance once');
      seen.add(peer.ip.text);
    }
  },
  'ha.ca-required': function* (ctx) {
    if (!haAsked(ctx) || (ctx.isSet('appliance.ca_cert') && ctx.isSet('appliance.ca_cert_key'))) return;
    yield p(
      ['appliance.ca_cert', 'appliance.ca_cert_key', 'ha.address'],
      'two appliances need the same CA, and neither appliance.ca_cert nor appliance.ca_cert_key may be blank: ' +
        'each would make its own, and the Supervisor trusts only one',
      'give every appliance the same appliance.ca_cert and appliance.ca_cert_key; to keep the CA of an appliance ' +
        'that made its own, take them from "ovactl export --for-successor" on it',
    );
  },
};
