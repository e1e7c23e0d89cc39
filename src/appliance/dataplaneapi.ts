// The HAProxy Data Plane API on the appliance: where the image puts it and how first boot knows it
// answers. It is not a Debian package: build/dataplaneapi.sh installs the pinned release.

export const DATAPLANEAPI_BIN = '/usr/local/bin/dataplaneapi';
/** The request the Supervisor makes first; READY only once it answers (`ovactl ready`). */
export const DATAPLANEAPI_PROBE_PATH = '/v2/info';
/**
 * How long `ovactl ready` waits for the first answer. The API starts in well under a second on the
 * appliance; the rest covers DHCP and a slow network-online.target under a loaded ESXi host.
 */
export const DATAPLANEAPI_PROBE_WAIT_SECONDS = 120;
/** The unit that runs the probe after the API has started (build/systemd/ovactl-ready.service). */
export const READY_UNIT = 'ovactl-ready.service';
/**
 * The API reloads haproxy at most once this many seconds (its reload_delay): the original appliance
 * raised it from 5 to 30 s, because bursts of Supervisor changes made reload storms that exhausted memory.
 */
export const DATAPLANEAPI_RELOAD_DELAY_SECONDS = 30;
