// One request the Supervisor makes, made by the appliance itself: GET /v2/info over HTTPS, trusting
// only the CA that first boot publishes, with the Data Plane API's Basic credentials. The password
// goes into the Authorization header and nowhere else: outcomes name the user, never the password.
import { request } from 'node:https';
import { DATAPLANEAPI_PROBE_PATH } from '../appliance/dataplaneapi.js';

export interface ProbeTarget {
  /** The address to connect to (the management address). */
  readonly host: string;
  readonly port: number;
  /** PEM of the CA to trust (and no other). */
  readonly ca: string;
  /** Without credentials the probe asks only whether the API answers: its 401 counts as an answer. */
  readonly user?: string;
  readonly password?: string;
  /** Checked against the certificate's SANs instead of host (DHCP: the server certificate names the hostname). */
  readonly serverName?: string;
  readonly timeoutMs: number;
}

export type ProbeOutcome =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: string };

/** TLS and socket error codes → what they mean for the admin (a table, not a chain of ifs). */
const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there (connection refused)',
  EHOSTUNREACH: 'the address is unreachable (no route to host)',
  ENETUNREACH: 'the network is unreachable',
  EADDRNOTAVAIL: "the address is not the appliance's (yet)",
  ECONNRESET: 'the connection was reset',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not signed by the published CA (/etc/haproxy/ca.crt)',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate is not signed by the published CA (/etc/haproxy/ca.crt)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it serves a self-signed certificate, not one of the published CA',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet (is the clock right?)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name the address it listens on',
  EPROTO: 'it does not speak TLS there',
};

const reasonOf = (e: NodeJS.ErrnoException): string =>
  REASONS[e.code ?? ''] ?? `${e.code ?? 'error'}: ${e.message.split('\n')[0]!.slice(0, 160)}`;

export function probeOnce(t: ProbeTarget): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const anonymous = t.user === undefined;
    const auth = Buffer.from(`${t.user ?? ''}:${t.password ?? ''}`).toString('base64');
    const req = request(
      {
        host: t.host,
        port: t.port,
        path: DATAPLANEAPI_PROBE_PATH,
        method: 'GET',
        ca: t.ca,
        headers: anonymous
          ? { accept: 'application/json' }
          : { authorization: `Basic ${auth}`, accept: 'application/json' },
        ...(t.serverName ? { servername: t.serverName } : {}),
        timeout: t.timeoutMs,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 64 * 1024) body += c;
        });
        res.on('end', () => {
          if (res.statusCode === 401 && anonymous) return resolve({ ok: true, version: 'unknown' });
          if (res.statusCode === 401)
            return resolve({
              ok: false,
              reason: `it refuses the credentials of user ${JSON.stringify(t.user)} (HTTP 401)`,
            });
          if (res.statusCode !== 200) return resolve({ ok: false, reason: `it answers HTTP ${res.statusCode}` });
          try {
            const v = (JSON.parse(body) as { api?: { version?: unknown } }).api?.version;
            resolve({ ok: true, version: typeof v === 'string' ? v.slice(0, 40) : 'unknown' });
          } catch {
            resolve({ ok: false, reason: 'its answer is not the JSON of /v2/info' });
          }
        });
        res.on('error', (e) => resolve({ ok: false, reason: reasonOf(e) }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ ok: false, reason: e.code === 'ETIMEDOUT' ? `no answer within ${t.timeoutMs / 1000} s` : reasonOf(e) }),
    );
    req.end();
  });
}
