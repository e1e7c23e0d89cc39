// HTTPS GETs between the appliances of a pair: the active's Data Plane API (with its credentials) and
// the peers' status endpoints (none). Only the pair's CA is trusted, the address is checked against the
// certificate's SANs, answers are bounded in size and time. The password goes into the Authorization
// header only: errors name the URL, never a credential.
import { request, type Agent } from 'node:https';
import { MAX_INPUT_BYTES } from '../core/regular-file.js';

export interface GetOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly ca: string;
  readonly credentials?: { readonly user: string; readonly password: string };
  readonly timeoutMs: number;
  /** A keep-alive agent for requests made every fraction of a second (no TLS handshake each time). */
  readonly agent?: Agent;
}

export type GetResult = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly error: string };

const WHY: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'no answer in time',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate is not signed by this appliance's CA",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate is not signed by this appliance's CA",
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name that address',
  CERT_HAS_EXPIRED: 'its certificate has expired',
};

/** The HTTP Basic header value for these credentials. */
export const basic = (c: { readonly user: string; readonly password: string }): string =>
  `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;

export function get(o: GetOptions): Promise<GetResult> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.credentials) headers.authorization = basic(o.credentials);
    const req = request(
      {
        host: o.host,
        port: o.port,
        path: o.path,
        method: 'GET',
        ca: o.ca,
        headers,
        timeout: o.timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_INPUT_BYTES) {
            req.destroy();
            resolve({ ok: false, error: `the answer is over ${MAX_INPUT_BYTES} bytes` });
          } else chunks.push(d);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve({ ok: true, body });
          else if (res.statusCode === 401) resolve({ ok: false, error: 'HTTP 401: the credentials are refused' });
          else resolve({ ok: false, error: `HTTP ${res.statusCode}` });
        });
        res.on('error', (e) => resolve({ ok: false, error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ ok: false, error: WHY[e.code ?? ''] ?? `${e.code ?? 'error'}: ${e.message.slice(0, 120)}` }),
    );
    req.end();
  });
}
