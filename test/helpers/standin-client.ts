// A client of the Data Plane API stand-in (test/standin/dataplaneapi.cjs) on loopback, for the tests
// that drive it directly: one request, its status, headers and JSON (or text) answer, over HTTP or
// HTTPS; Basic credentials unless `auth` is null.
import http from 'node:http';
import https from 'node:https';

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: any;
}

export interface Endpoint {
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** With https, the only CA trusted (PEM); without one, the system's. */
  readonly ca?: Buffer | string;
  /** `user:password`; null sends no Authorization header. */
  readonly auth: string | null;
}

/** `path` under /v2; a string body is sent as it is (malformed JSON on purpose), anything else as JSON. */
export function standinRequest(e: Endpoint, method: string, path: string, body?: unknown): Promise<Reply> {
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const options: https.RequestOptions = {
    host: '127.0.0.1',
    port: e.port,
    method,
    path: `/v2${path}`,
    agent: false,
    ...(e.ca === undefined ? {} : { ca: e.ca }),
    headers: {
      ...(e.auth ? { Authorization: `Basic ${Buffer.from(e.auth).toString('base64')}` } : {}),
      ...(data === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }),
    },
    timeout: 30_000,
  };
  return new Promise((resolve, reject) => {
    const req = (e.scheme === 'https' ? https : http).request(options, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(data);
  });
}
