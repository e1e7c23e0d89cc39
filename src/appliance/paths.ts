// Paths on the appliance that more than one part of ovactl names: one spelling each.

/** haproxy's configuration: ovactl's global/defaults, the control plane's sections (src/haproxy/merge.ts). */
export const HAPROXY_CFG = '/etc/haproxy/haproxy.cfg';
/** The Data Plane API's users (its `userlist_file`): out of haproxy.cfg, which the control plane edits. */
export const DATAPLANEAPI_USERS = '/etc/haproxy/dataplaneapi-users.cfg';
export const DATAPLANEAPI_YAML = '/etc/haproxy/dataplaneapi.yaml';
/**
 * The Data Plane API's own state: its maps, uploaded certificates and transactions. The control
 * plane's data, like its sections of haproxy.cfg: ovactl never writes, moves or removes anything here.
 */
export const DATAPLANEAPI_STATE_DIRS = ['/etc/haproxy/maps', '/etc/haproxy/ssl', '/var/lib/dataplaneapi'] as const;
/** The DHCP NICs route-tables.service follows (src/routetables/config.ts). */
export const ROUTE_TABLES_CFG = '/etc/vmware/route-tables.cfg';

/** Where the admin looks: the status document, the console banner (agetty shows /etc/issue.d), guestinfo. */
export const STATUS_FILE = '/var/lib/ovactl/status.json';
export const ISSUE_FILE = '/etc/issue.d/ovactl.issue';
export const STATUS_GUESTINFO = 'guestinfo.ovactl.status';
export const CACERT_GUESTINFO = 'guestinfo.dataplaneapi.cacert';
