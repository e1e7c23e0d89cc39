// The Data Plane API probe as text: the URL ovactl-ready.service asks, for render, first boot's lines
// and the status.
import { DATAPLANEAPI_PROBE_PATH } from '../appliance/dataplaneapi.js';
import { httpsUrl } from '../net/url.js';
import type { Action } from './types.js';

export type ProbeAction = Extract<Action, { kind: 'probe-dataplaneapi' }>;

/** The API's URL (the status's "dataplaneapi"), or undefined while the management address is DHCP's to give. */
export const apiUrl = (a: Pick<ProbeAction, 'host' | 'port'>): string | undefined =>
  a.host === null ? undefined : httpsUrl(a.host, a.port);

export const probeUrl = (a: Pick<ProbeAction, 'host' | 'port'>): string =>
  a.host === null
    ? `https://<management address from DHCP>:${a.port}${DATAPLANEAPI_PROBE_PATH}`
    : httpsUrl(a.host, a.port, DATAPLANEAPI_PROBE_PATH);
