// Paths on the appliance that more than one part of ovactl names: one spelling each.

/** haproxy's configuration: ovactl's global/defaults, the control plane's sections (src/haproxy/merge.ts). */
export const HAPROXY_CFG = '/etc/haproxy/haproxy.cfg';
/** Debian's haproxy: first boot checks the new haproxy.cfg with `haproxy -c` before it serves. */
export const HAPROXY_BIN = '/usr/sbin/haproxy';
/** The Data Plane API's users (its `userlist_file`): out of haproxy.cfg, which the control plane edits. */
export const DATAPLANEAPI_USERS = '/etc/haproxy/dataplaneapi-users.cfg';
export const DATAPLANEAPI_YAML = '/etc/haproxy/dataplaneapi.yaml';
/**
 * The Data Plane API's own state: its maps, uploaded certificates and transactions. The control
 * plane's data, like its sections of haproxy.cfg: ovactl never writes, moves or removes anything here.
 */
export const DATAPLANEAPI_STATE_DIRS = {
  maps: '/etc/haproxy/maps',
  ssl: '/etc/haproxy/ssl',
  transactions: '/var/lib/dataplaneapi/transactions',
} as const;
/** The Data Plane API's certificate (and the metrics frontend's): ovactl's CA and the server's. */
export const TLS_PATHS = {
  caCert: '/etc/haproxy/ca.crt',
  caKey: '/etc/haproxy/ca.key',
  serverCert: '/etc/haproxy/server.crt',
  serverKey: '/etc/haproxy/server.key',
} as const;
/** haproxy's runtime API socket (haproxy.cfg's `stats socket`), which route health injection reads. */
export const HAPROXY_ADMIN_SOCKET = '/run/haproxy/admin.sock';
/**
 * haproxy's master CLI (the unit's `-S`, build/systemd/haproxy.service.d/): which worker serves and how
 * many reloads it outlived, i.e. whether the last reload failed (src/haproxy/master.ts).
 */
export const HAPROXY_MASTER_SOCKET = '/run/haproxy-master.sock';
/** systemd-networkd's folder: ovactl's files are 10-ovactl-NIC.link and 20-ovactl-NIC.network. */
export const NETWORK_DIR = '/etc/systemd/network';
/** The VIP ranges anyip-routes keeps the kernel's local routes equal to (the seeds' AnyIP guide). */
export const RANGES_FILE = '/etc/vmware/anyip-routes.cfg';
/** The DHCP NICs route-tables.service follows (src/routetables/config.ts). */
export const ROUTE_TABLES_CFG = '/etc/vmware/route-tables.cfg';

/** Where the admin looks: the status document, the console banner (agetty shows /etc/issue.d), guestinfo. */
export const STATUS_FILE = '/var/lib/ovactl/status.json';
/** First boot's record of the values it applied (a hash) and the values in force. */
export const STATE_FILE = '/var/lib/ovactl/state.json';
export const ISSUE_FILE = '/etc/issue.d/ovactl.issue';
export const STATUS_GUESTINFO = 'guestinfo.ovactl.status';
export const CACERT_GUESTINFO = 'guestinfo.dataplaneapi.cacert';

/**
 * Metrics (appliance.metrics_port): a configuration file of ovactl's own that the haproxy unit loads
 * after haproxy.cfg (build/systemd/haproxy.service.d/), so the control plane never sees it, and the
 * Lua service it loads to serve the appliance's own metrics.
 */
export const METRICS_CFG = '/etc/haproxy/ovactl-metrics.cfg';
export const METRICS_LUA = '/etc/haproxy/ovactl-metrics.lua';
/** Where ovactl's processes write the appliance's metrics, one Prometheus text file per writer. */
export const METRICS_DIR = '/run/ovactl/metrics';
/** The writers' files there, in the order a scrape shows them. */
export const METRICS_FILES = ['firstboot.prom', 'status.prom', 'certificates.prom', 'anyip.prom', 'rhi.prom'] as const;
/** haproxy's chroot (haproxy.cfg), and METRICS_DIR as its workers see it there (bound by the unit). */
export const HAPROXY_CHROOT = '/var/lib/haproxy';
export const METRICS_DIR_IN_CHROOT = '/ovactl-metrics';
/** haproxy looks for the key of `crt server.crt` in server.crt.key: a link to server.key. */
export const SERVER_CRT_KEY_LINK = '/etc/haproxy/server.crt.key';
/** Where first boot puts the new haproxy.cfg and ovactl-metrics.cfg for `haproxy -c` (removed after). */
export const HAPROXY_CHECK_FILES = {
  cfg: '/etc/haproxy/.haproxy.cfg.ovactl-check',
  metrics: '/etc/haproxy/.ovactl-metrics.cfg.ovactl-check',
  lua: '/etc/haproxy/.ovactl-metrics.lua.ovactl-check',
} as const;
/** BIRD (Debian's bird2): route health injection announces the VIPs through it. */
export const BIRD_BIN = '/usr/sbin/bird';
/** The system files first boot writes: the host name, hosts, and its drop-ins for sshd, sysctl and timesyncd. */
export const SYSTEM_FILES = {
  hostname: '/etc/hostname',
  hosts: '/etc/hosts',
  sshd: '/etc/ssh/sshd_config.d/50-ovactl.conf',
  sysctl: '/etc/sysctl.d/90-ovactl.conf',
  timesyncd: '/etc/systemd/timesyncd.conf.d/50-ovactl.conf',
} as const;
