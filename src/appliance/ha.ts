// Two appliances (ha.*): the facts the plan, the daemon (ovactl-ha.service), the watcher and doctor share.

/** Debian's keepalived: first boot stops and disables it only where it is installed. */
export const KEEPALIVED_BIN = '/usr/sbin/keepalived';
/** keepalived's configuration (Debian's keepalived.service reads it). */
export const KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf';
/**
 * What ovactl-ha.service publishes of the pair, for the watcher (status.json's "ha"), doctor and the
 * peers' status endpoint: role, whom it follows, versions. Under /run: it says what is true now.
 */
export const HA_STATE_FILE = '/run/ovactl/ha.json';
/**
 * keepalived's track_file: 0 while this appliance may be active, 1 while it must not (haproxy not
 * running, the Data Plane API not answering, or it lost a split brain). Written by ovactl-ha.service.
 */
export const HA_HEALTH_FILE = '/run/ovactl/ha-health';
/**
 * Present while this appliance is standby without route health injection: anyip-routes then keeps no
 * local route (only the active answers for the VIP ranges). Written by ovactl-ha.service.
 */
export const HA_STANDBY_FILE = '/run/ovactl/ha-standby';
/**
 * Present while the local Data Plane API's memory is older than haproxy.cfg (a standby wrote the active's
 * configuration, which the API ignores): ovactl-ha.service restarts the API when this appliance takes over.
 */
export const HA_API_STALE_FILE = '/run/ovactl/ha-api-stale';
/**
 * The pair's status endpoint (HTTPS, the Data Plane API certificate, no credentials, no secret in it):
 * each appliance's ovactl-ha.service on its own management address; the peers read it to find a split
 * brain, doctor to compare the pair.
 */
export const HA_STATUS_PORT = 5557;
/** VRRP advertisements every 0.3 s (VRRPv3): a lost active is noticed in about a second. */
export const VRRP_ADVERT_SECONDS = 0.3;
/** The NIC VRRP runs on and the floating address lives on. */
export const HA_NIC = 'management';
/** The units of a pair: first boot enables them with ha.* values and disables them without. */
export const HA_UNITS = ['keepalived.service', 'ovactl-ha.service'] as const;
