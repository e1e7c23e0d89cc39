// What plan reads: the values validation checked, in their parsed forms, with the table's defaults
// applied. Built by validate from values the rules passed, so plan parses nothing and assumes nothing.
import { isCidr, parseCidr, type Cidr } from '../net/ip.js';
import { isSyslogProblem, parseSyslogServer, type SyslogServer } from '../syslog/server.js';
import type { Properties } from '../properties/schema.js';
import type { PropertyKey } from '../properties/table.js';
import type { Peer } from '../rhi/bird.js';
import type { ParsedRules } from '../rhi/rules.js';
import type { Finding } from './finding.js';

/** Errors on these keys mean even the management NIC cannot be configured safely. */
const MANAGEMENT_KEYS: readonly PropertyKey[] = [
  'network.management_ip',
  'network.management_gateway',
  'network.nameservers',
  'network.hostname',
];

/** What the management-only scope writes: the management NIC, the host name, SSH and time. */
export interface ManagementProperties {
  readonly 'network.hostname': string;
  readonly 'network.nameservers': readonly string[];
  /** Unset: DHCP. */
  readonly 'network.management_ip': Cidr | undefined;
  readonly 'network.management_gateway': string | undefined;
  readonly 'appliance.permit_root_login': boolean;
  /** Empty: the Debian defaults. */
  readonly 'network.ntp_servers': readonly string[];
}

/** Route health injection's values, parsed (present only when rhi.enabled is True). */
export interface RhiValues {
  readonly rules: ParsedRules;
  readonly localAs: number | undefined;
  readonly peers: readonly Peer[];
  readonly bfd: boolean;
  /** The dotted quad. */
  readonly ospfArea: string | undefined;
  /** rhi.router_id, else the static IPv4 management address; unset: BIRD picks one. */
  readonly routerId: string | undefined;
}

/** Two appliances' values (present only when ha.address and ha.peers are set). */
export interface HaValues {
  /** The floating management address, canonical text (its prefix is the management network's). */
  readonly address: string;
  readonly peers: readonly string[];
  readonly priority: number;
  readonly vrid: number;
}

/** Every value of a valid report. */
export interface ValidProperties extends ManagementProperties {
  readonly 'appliance.root_pwd': string;
  readonly 'appliance.ca_cert': string | undefined;
  readonly 'appliance.ca_cert_key': string | undefined;
  readonly 'appliance.metrics_port': number | undefined;
  readonly 'appliance.syslog_server': SyslogServer | undefined;
  readonly 'network.workload_ip': Cidr | undefined;
  readonly 'network.workload_gateway': string | undefined;
  readonly 'network.additional_workload_networks': readonly Cidr[];
  readonly 'network.frontend_ip': Cidr | undefined;
  readonly 'network.frontend_gateway': string | undefined;
  readonly 'loadbalance.service_ip_range': readonly Cidr[];
  readonly 'loadbalance.dataplane_port': number;
  readonly 'loadbalance.haproxy_user': string;
  readonly 'loadbalance.haproxy_pwd': string;
  /** Undefined: rhi.enabled is False. */
  readonly rhi: RhiValues | undefined;
  /** Undefined: a single appliance (ha.address blank). */
  readonly ha: HaValues | undefined;
}

const cidr = (s: string | undefined): Cidr | undefined => {
  if (s === undefined) return undefined;
  const c = parseCidr(s);
  return isCidr(c) ? c : undefined;
};
const cidrs = (list: readonly string[] | undefined): Cidr[] => (list ?? []).map(cidr).filter((c) => c !== undefined);

/** A key the table requires or defaults: a valid report always has it. */
function present<K extends PropertyKey>(props: Properties, key: K): NonNullable<Properties[K]> {
  const v = props[key];
  if (v === undefined || v === null) throw new Error(`internal: ${key} passed validation without a value`);
  return v;
}

/**
 * The management NIC's values when none of them has an error (first boot's management-only scope).
 * Other values may have errors here: a permit_root_login that is not a boolean is its default, True.
 */
export function managementProperties(props: Properties, errors: readonly Finding[]): ManagementProperties | undefined {
  if (errors.some((f) => f.keys.some((k) => MANAGEMENT_KEYS.includes(k)))) return undefined;
  return {
    'network.hostname': present(props, 'network.hostname'),
    'network.nameservers': props['network.nameservers'] ?? [],
    'network.management_ip': cidr(props['network.management_ip']),
    'network.management_gateway': props['network.management_gateway'],
    'appliance.permit_root_login': props['appliance.permit_root_login'] ?? true,
    'network.ntp_servers': props['network.ntp_servers'] ?? [],
  };
}

/** The values of a report without errors, parsed. */
export function validProperties(
  props: Properties,
  management: ManagementProperties,
  rhi: RhiValues | undefined,
): ValidProperties {
  const syslog = props['appliance.syslog_server'];
  const server = syslog === undefined ? undefined : parseSyslogServer(syslog);
  return {
    ...management,
    'appliance.permit_root_login': present(props, 'appliance.permit_root_login'),
    'appliance.root_pwd': present(props, 'appliance.root_pwd'),
    'appliance.ca_cert': props['appliance.ca_cert'],
    'appliance.ca_cert_key': props['appliance.ca_cert_key'],
    'appliance.metrics_port': props['appliance.metrics_port'],
    'appliance.syslog_server': server && !isSyslogProblem(server) ? server : undefined,
    'network.workload_ip': cidr(props['network.workload_ip']),
    'network.workload_gateway': props['network.workload_gateway'],
    'network.additional_workload_networks': cidrs(props['network.additional_workload_networks']),
    'network.frontend_ip': cidr(props['network.frontend_ip']),
    'network.frontend_gateway': props['network.frontend_gateway'],
    'loadbalance.service_ip_range': cidrs(present(props, 'loadbalance.service_ip_range')),
    'loadbalance.dataplane_port': present(props, 'loadbalance.dataplane_port'),
    'loadbalance.haproxy_user': present(props, 'loadbalance.haproxy_user'),
    'loadbalance.haproxy_pwd': present(props, 'loadbalance.haproxy_pwd'),
    rhi,
    ha: haValues(props),
  };
}

function haValues(props: Properties): HaValues | undefined {
  const address = props['ha.address'];
  if (address === undefined) return undefined;
  return {
    address,
    peers: props['ha.peers'] ?? [],
    priority: present(props, 'ha.priority'),
    vrid: present(props, 'ha.vrid'),
  };
}
