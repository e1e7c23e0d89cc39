// Two appliances: what the plan and ovactl-ha.service derive from the values. Pure.
import { createHash } from 'node:crypto';
import { HA_STATUS_PORT } from '../appliance/ha.js';
import type { ValidProperties } from '../validate/values.js';

export interface HaSettings {
  /** The floating management address and the management network's prefix. */
  readonly address: string;
  readonly prefix: number;
  /** This appliance's own management address (VRRP's source, the status endpoint's address). */
  readonly own: string;
  readonly peers: readonly string[];
  readonly priority: number;
  readonly vrid: number;
  /** The Data Plane API port: the floating address forwards to it. */
  readonly port: number;
  /** Route health injection: every appliance announces and serves (ECMP); the address picks the API. */
  readonly rhi: boolean;
  /** The NIC the VIPs are on (gratuitous ARP after a takeover). */
  readonly vipNic: 'workload' | 'frontend';
  readonly statusPort: number;
  /** What must be the same on every appliance of the pair, as a digest (no secret goes into it). */
  readonly digest: string;
}

/** The pair's settings, or undefined for a single appliance. */
export function haSettings(v: ValidProperties, deployment: 'default' | 'frontend'): HaSettings | undefined {
  const mgmt = v['network.management_ip'];
  if (!v.ha || !mgmt) return undefined;
  const port = v['loadbalance.dataplane_port'];
  // The values every appliance of the pair must share (its own addresses and peers differ by design).
  // The CA key and the passwords stay out: only the CA certificate's text, which is public.
  const shared = {
    address: v.ha.address,
    vrid: v.ha.vrid,
    port,
    user: v['loadbalance.haproxy_user'],
    ranges: v['loadbalance.service_ip_range'].map((r) => r.text),
    ca: v['appliance.ca_cert'] ?? '',
    rhi: v.rhi !== undefined,
    deployment,
  };
  return {
    address: v.ha.address,
    prefix: mgmt.prefix,
    own: mgmt.address.text,
    peers: v.ha.peers,
    priority: v.ha.priority,
    vrid: v.ha.vrid,
    port,
    rhi: v.rhi !== undefined,
    vipNic: deployment === 'frontend' ? 'frontend' : 'workload',
    statusPort: HA_STATUS_PORT,
    digest: createHash('sha256').update(JSON.stringify(shared)).digest('hex').slice(0, 16),
  };
}
