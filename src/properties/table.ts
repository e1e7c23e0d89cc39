// The one property table. The zod schema (schema.ts), the reference in docs/properties.md (docs.ts),
// the OVF descriptor and the govc/PowerCLI specs (src/ovf/) are generated from this list; nothing else
// names a property's type, default or label. Keys and classes are those of the original appliance, so
// existing deploy scripts keep working.

/** What a value means; decides its normalisation, its TypeScript type and its field rules. */
export type Kind =
  | 'password' // secret text, kept exactly as typed
  | 'boolean'
  | 'certificate' // PEM, repaired when its newlines became spaces
  | 'privateKey' // PEM, secret
  | 'hostname'
  | 'addressList' // comma-separated IP addresses (nameservers)
  | 'hostList' // comma-separated IP addresses or host names (NTP servers)
  | 'interfaceAddress' // IP/prefix of one of the appliance's NICs; unset = DHCP
  | 'address' // one IP address (a gateway)
  | 'networkList' // comma-separated network CIDRs
  | 'port'
  | 'userName'
  | 'asNumber' // a BGP AS number, 1–4294967295
  | 'routerId' // a BGP/OSPF router ID: an IPv4 address
  | 'peerList' // comma-separated BGP peers, address:AS
  | 'ospfArea' // an OSPF area: a number or a dotted quad
  | 'rhiRules' // route health injection rules (src/rhi/rules.ts) or "auto"
  | 'syslogServer' // udp://, tcp:// or tls://host:port (src/syslog/server.ts)
  | 'integer'; // a whole number within the qualifiers' MinValue–MaxValue

export type OvfClass = 'appliance' | 'network' | 'loadbalance' | 'rhi' | 'ha';
/** `all`: both deployment options; `frontend`: only the 3-NIC option. */
export type Availability = 'all' | 'frontend';

export interface PropertySpec {
  readonly key: string; // full key as the guest sees it: `${class}.${ovfKey}`
  readonly ovfClass: OvfClass;
  readonly ovfKey: string;
  readonly kind: Kind;
  readonly ovfType: 'string' | 'boolean' | 'int';
  readonly qualifiers?: {
    readonly minLen?: number;
    readonly maxLen?: number;
    readonly minValue?: number;
    readonly maxValue?: number;
  };
  /** The value as the OVF descriptor carries it; used when the source leaves the key unset. */
  readonly default?: string;
  readonly required?: boolean;
  readonly label: string;
  readonly description: string;
  readonly category: string;
  readonly secret: boolean;
  readonly deployment: Availability;
  /** Shown as an example value in generated specs and docs where there is no default. */
  readonly example?: string;
}

const APPLIANCE = '1. Appliance Configuration';
const NETWORK = '2. Network Config';
const LOADBALANCE = '3. Load Balancing';
const RHI = '4. Route Health Injection';
const HA = '5. Two Appliances (High Availability)';

export const PROPERTIES = [
  {
    key: 'appliance.root_pwd',
    ovfClass: 'appliance',
    ovfKey: 'root_pwd',
    kind: 'password',
    ovfType: 'string',
    qualifiers: { minLen: 6, maxLen: 128 },
    required: true,
    secret: true,
    deployment: 'all',
    category: APPLIANCE,
    label: '1.1 Root Password',
    description:
      'The initial password of the root user (6-128 characters). Any character is allowed; leading or trailing ' +
      'spaces are kept.',
  },
  {
    key: 'appliance.permit_root_login',
    ovfClass: 'appliance',
    ovfKey: 'permit_root_login',
    kind: 'boolean',
    ovfType: 'boolean',
    default: 'True',
    secret: false,
    deployment: 'all',
    category: APPLIANCE,
    label: '1.2 Permit Root Login',
    description: 'Whether root may log in over SSH (sshd PermitRootLogin). SSH listens on the management address only.',
  },
  {
    key: 'appliance.ca_cert',
    ovfClass: 'appliance',
    ovfKey: 'ca_cert',
    kind: 'certificate',
    ovfType: 'string',
    qualifiers: { maxLen: 65535 },
    secret: false,
    deployment: 'all',
    category: APPLIANCE,
    label: '1.3 TLS Certificate Authority Certificate (ca.crt)',
    description:
      'PEM certificate of the CA that signs the Data Plane API server certificate. Leave blank (with the key) ' +
      'to have the appliance generate a CA. Newlines turned into spaces by a one-line field are repaired.',
  },
  {
    key: 'appliance.ca_cert_key',
    ovfClass: 'appliance',
    ovfKey: 'ca_cert_key',
    kind: 'privateKey',
    ovfType: 'string',
    qualifiers: { maxLen: 65535 },
    secret: true,
    deployment: 'all',
    category: APPLIANCE,
    label: '1.4 TLS Certificate Authority Private Key (ca.key)',
    description: 'Unencrypted PEM private key (RSA, EC or PKCS#8) of the CA certificate above. Give both or neither.',
  },
  {
    key: 'appliance.metrics_port',
    ovfClass: 'appliance',
    ovfKey: 'metrics_port',
    kind: 'port',
    ovfType: 'string',
    qualifiers: { maxLen: 5 },
    secret: false,
    deployment: 'all',
    category: APPLIANCE,
    example: '9100',
    label: '1.5 Metrics Port',
    description:
      "TCP port for Prometheus metrics on the management address: haproxy's at /metrics, the appliance's own " +
      'at /metrics/appliance, over HTTPS with the Data Plane API certificate and credentials. Blank: no metrics.',
  },
  {
    key: 'appliance.syslog_server',
    ovfClass: 'appliance',
    ovfKey: 'syslog_server',
    kind: 'syslogServer',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: APPLIANCE,
    example: 'tls://logs.example.com:6514',
    label: '1.6 Syslog Server',
    description:
      "Forward the logs of haproxy and of the appliance's services (RFC 5424, with the host name) to " +
      "udp://HOST:514, tcp://HOST:514 or tls://HOST:6514. TLS verifies the server's certificate against the CA " +
      "certificate above when one is given, else against Debian's CA bundle; HOST must be a name the " +
      'certificate carries. Blank: no forwarding.',
  },
  {
    key: 'network.hostname',
    ovfClass: 'network',
    ovfKey: 'hostname',
    kind: 'hostname',
    ovfType: 'string',
    default: 'haproxy.local',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    label: '2.1 Host Name',
    description: 'Fully qualified host name of the appliance; also a name in the Data Plane API certificate.',
  },
  {
    key: 'network.nameservers',
    ovfClass: 'network',
    ovfKey: 'nameservers',
    kind: 'addressList',
    ovfType: 'string',
    default: '1.1.1.1, 1.0.0.1',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    label: '2.2 DNS',
    description: 'Up to three DNS server IP addresses, comma-separated.',
  },
  {
    key: 'network.management_ip',
    ovfClass: 'network',
    ovfKey: 'management_ip',
    kind: 'interfaceAddress',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    example: '192.0.2.10/24',
    label: '2.3 Management IP',
    description:
      'Static address of the management NIC with its prefix, e.g. 192.0.2.10/24. Blank for DHCP. The ' +
      'Supervisor reaches the Data Plane API here.',
  },
  {
    key: 'network.management_gateway',
    ovfClass: 'network',
    ovfKey: 'management_gateway',
    kind: 'address',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    example: '192.0.2.1',
    label: '2.4 Management Gateway',
    description: "Gateway of the management network; it is the appliance's default gateway. Blank with DHCP.",
  },
  {
    key: 'network.workload_ip',
    ovfClass: 'network',
    ovfKey: 'workload_ip',
    kind: 'interfaceAddress',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    example: '198.51.100.10/24',
    label: '2.5 Workload IP',
    description:
      'Static address of the workload NIC with its prefix. Blank for DHCP. Must be outside the load balancer ' +
      'IP ranges.',
  },
  {
    key: 'network.workload_gateway',
    ovfClass: 'network',
    ovfKey: 'workload_gateway',
    kind: 'address',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    example: '198.51.100.1',
    label: '2.6 Workload Gateway',
    description:
      'Gateway of the workload network; replies to workload traffic and the additional workload networks leave ' +
      'through it.',
  },
  {
    key: 'network.additional_workload_networks',
    ovfClass: 'network',
    ovfKey: 'additional_workload_networks',
    kind: 'networkList',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    label: '2.7 Additional Workload Networks',
    description:
      'Comma-separated network CIDRs reached through the workload gateway. Must not include the primary ' +
      'workload network.',
  },
  {
    key: 'network.frontend_ip',
    ovfClass: 'network',
    ovfKey: 'frontend_ip',
    kind: 'interfaceAddress',
    ovfType: 'string',
    secret: false,
    deployment: 'frontend',
    category: NETWORK,
    example: '203.0.113.10/24',
    label: '2.8 Frontend IP',
    description:
      'Static address of the frontend NIC with its prefix (frontend deployment only). Blank for DHCP. Must be ' +
      'outside the load balancer IP ranges.',
  },
  {
    key: 'network.frontend_gateway',
    ovfClass: 'network',
    ovfKey: 'frontend_gateway',
    kind: 'address',
    ovfType: 'string',
    secret: false,
    deployment: 'frontend',
    category: NETWORK,
    example: '203.0.113.1',
    label: '2.9 Frontend Gateway',
    description: 'Gateway of the frontend network (frontend deployment only).',
  },
  {
    key: 'network.ntp_servers',
    ovfClass: 'network',
    ovfKey: 'ntp_servers',
    kind: 'hostList',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: NETWORK,
    label: '2.10 NTP Servers',
    description:
      'Comma-separated NTP server addresses or host names for systemd-timesyncd. Blank keeps the Debian ' +
      'defaults (or servers from DHCP).',
  },
  {
    key: 'loadbalance.service_ip_range',
    ovfClass: 'loadbalance',
    ovfKey: 'service_ip_range',
    kind: 'networkList',
    ovfType: 'string',
    required: true,
    secret: false,
    deployment: 'all',
    category: LOADBALANCE,
    example: '198.51.100.64/26',
    label: '3.1 Load Balancer IP Ranges, comma-separated in CIDR format (e.g. 198.51.100.64/28,198.51.100.80/28)',
    description:
      'The virtual IP ranges the appliance answers (AnyIP), as network CIDRs. Must not contain any appliance ' +
      'address, gateway, nameserver or other host.',
  },
  {
    key: 'loadbalance.dataplane_port',
    ovfClass: 'loadbalance',
    ovfKey: 'dataplane_port',
    kind: 'port',
    ovfType: 'int',
    qualifiers: { minValue: 1, maxValue: 65535 },
    default: '5556',
    secret: false,
    deployment: 'all',
    category: LOADBALANCE,
    label: '3.2 Dataplane API Management Port',
    description: 'TCP port of the HAProxy Data Plane API on the management address (not 22).',
  },
  {
    key: 'loadbalance.haproxy_user',
    ovfClass: 'loadbalance',
    ovfKey: 'haproxy_user',
    kind: 'userName',
    ovfType: 'string',
    qualifiers: { minLen: 1, maxLen: 64 },
    default: 'admin',
    secret: false,
    deployment: 'all',
    category: LOADBALANCE,
    label: '3.3 HAProxy User ID',
    description:
      'User name for the Data Plane API (haproxy userlist "controller"): 1-64 letters, digits, dots, ' +
      'underscores and hyphens, starting with a letter or underscore (a colon can never log in with HTTP Basic auth).',
  },
  {
    key: 'loadbalance.haproxy_pwd',
    ovfClass: 'loadbalance',
    ovfKey: 'haproxy_pwd',
    kind: 'password',
    ovfType: 'string',
    qualifiers: { minLen: 6, maxLen: 128 },
    required: true,
    secret: true,
    deployment: 'all',
    category: LOADBALANCE,
    label: '3.4 HAProxy Password',
    description: 'Password for the Data Plane API user (6-128 characters, any characters).',
  },
  {
    key: 'rhi.enabled',
    ovfClass: 'rhi',
    ovfKey: 'enabled',
    kind: 'boolean',
    ovfType: 'boolean',
    default: 'False',
    secret: false,
    deployment: 'all',
    category: RHI,
    label: '4.1 Route Health Injection',
    description:
      'Announce the VIPs to routers (BGP, optionally OSPF) while the haproxy frontends and backends behind ' +
      'them are healthy, so several appliances can serve the same VIPs through ECMP and a failing one drops out. ' +
      'The other rhi values apply only when this is True.',
  },
  {
    key: 'rhi.local_as',
    ovfClass: 'rhi',
    ovfKey: 'local_as',
    kind: 'asNumber',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: RHI,
    example: '65010',
    label: '4.2 Local AS Number',
    description:
      'BGP autonomous system number of the appliance, 1-4294967295 (private: 64512-65534, ' +
      '4200000000-4294967294). Required with BGP peers.',
  },
  {
    key: 'rhi.router_id',
    ovfClass: 'rhi',
    ovfKey: 'router_id',
    kind: 'routerId',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: RHI,
    example: '192.0.2.10',
    label: '4.3 Router ID',
    description: 'BGP/OSPF router ID, an IPv4 address unique among the routers. Blank: the management address.',
  },
  {
    key: 'rhi.peers',
    ovfClass: 'rhi',
    ovfKey: 'peers',
    kind: 'peerList',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: RHI,
    example: '192.0.2.1:65001, 192.0.2.2:65002',
    label: '4.4 BGP Peers',
    description:
      'The routers that receive the VIP routes, as address:AS, comma-separated, e.g. 192.0.2.1:65001, ' +
      "192.0.2.2:65002 ([2001:db8::1]:65001 for IPv6). Each must be on one of the appliance's networks " +
      '(directly connected).',
  },
  {
    key: 'rhi.bfd',
    ovfClass: 'rhi',
    ovfKey: 'bfd',
    kind: 'boolean',
    ovfType: 'boolean',
    default: 'False',
    secret: false,
    deployment: 'all',
    category: RHI,
    label: '4.5 BFD',
    description:
      'Run BFD with the peers (and OSPF neighbours): a dead link or appliance is noticed in about 300 ms ' +
      'instead of the 9 s BGP hold time. The routers must run BFD too.',
  },
  {
    key: 'rhi.ospf_area',
    ovfClass: 'rhi',
    ovfKey: 'ospf_area',
    kind: 'ospfArea',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: RHI,
    example: '0.0.0.0',
    label: '4.6 OSPF Area',
    description:
      'Also announce the VIPs over OSPFv2 in this area (e.g. 0 or 0.0.0.0), on the NIC that carries the VIPs ' +
      '(workload; frontend in the frontend deployment). Blank: no OSPF.',
  },
  {
    key: 'rhi.rules',
    ovfClass: 'rhi',
    ovfKey: 'rules',
    kind: 'rhiRules',
    ovfType: 'string',
    default: 'auto',
    secret: false,
    deployment: 'all',
    category: RHI,
    label: '4.7 Announcement Rules',
    description:
      'auto: one /32 for each VIP a haproxy frontend binds, announced while that frontend and its backends are ' +
      'up. Or rules in the HAProxy Enterprise RHI syntax, separated by ";", e.g. 198.51.100.70 = all(b:be_app); ' +
      '%vol2 198.51.100.71 = any(b:be_a, b:be_b). Rules may also list auto. ' +
      'Their VIPs must lie in the load balancer IP ranges.',
  },
  {
    key: 'ha.address',
    ovfClass: 'ha',
    ovfKey: 'address',
    kind: 'address',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: HA,
    example: '192.0.2.20',
    label: '5.1 Floating Management Address',
    description:
      'The Data Plane API address to give the Supervisor when two (or more) appliances share the work: a free ' +
      'address in the management network that VRRP (keepalived) moves to the active appliance. Give the same ' +
      'value to every appliance of the pair, with ha.peers. Blank: a single appliance.',
  },
  {
    key: 'ha.peers',
    ovfClass: 'ha',
    ovfKey: 'peers',
    kind: 'addressList',
    ovfType: 'string',
    secret: false,
    deployment: 'all',
    category: HA,
    example: '192.0.2.12',
    label: '5.2 Peer Appliances',
    description:
      "The other appliances' management addresses (network.management_ip without the prefix), comma-separated. " +
      'Every appliance of the pair is deployed with the same values but its own addresses and this list.',
  },
  {
    key: 'ha.priority',
    ovfClass: 'ha',
    ovfKey: 'priority',
    kind: 'integer',
    ovfType: 'int',
    qualifiers: { minValue: 1, maxValue: 254 },
    default: '100',
    secret: false,
    deployment: 'all',
    category: HA,
    label: '5.3 VRRP Priority',
    description:
      'Which appliance becomes active when both start together: the higher priority (1-254; equal: the higher ' +
      'management address). Later an active appliance stays active until it fails: a returning one never takes ' +
      'the address back.',
  },
  {
    key: 'ha.vrid',
    ovfClass: 'ha',
    ovfKey: 'vrid',
    kind: 'integer',
    ovfType: 'int',
    qualifiers: { minValue: 1, maxValue: 255 },
    default: '51',
    secret: false,
    deployment: 'all',
    category: HA,
    label: '5.4 VRRP Router ID',
    description:
      'The VRRP virtual router ID (1-255), the same on every appliance of the pair and different from any other ' +
      'VRRP group on the management network.',
  },
] as const satisfies readonly PropertySpec[];

export type PropertyKey = (typeof PROPERTIES)[number]['key'];

const BY_KEY = new Map<string, PropertySpec>(PROPERTIES.map((p) => [p.key, p]));
const BY_LOWER_KEY = new Map<string, PropertyKey>(PROPERTIES.map((p) => [p.key.toLowerCase(), p.key]));

/** Canonical key for a key spelled in any case (govc treats keys case-insensitively). */
export function canonicalKey(key: string): PropertyKey | undefined {
  return BY_LOWER_KEY.get(key.trim().toLowerCase());
}

export function isSecret(key: string): boolean {
  return BY_KEY.get(key)?.secret ?? false;
}
