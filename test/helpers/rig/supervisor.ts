// What the Supervisor does to a rig appliance, shared by the tests that act as it: the Data Plane API
// over HTTPS from the management network (curl in the host namespace, trusting only the given CA, with
// the Basic credentials), and a client on the workload side connecting to a VIP.
import type { Appliance } from './appliance.js';
import { MANAGEMENT_IP } from './values.js';

export interface ApiAnswer {
  readonly status: number;
  readonly json: any;
}

export type Api = (method: string, path: string, body?: unknown) => Promise<ApiAnswer>;

/**
 * The Data Plane API at https://MANAGEMENT_IP:5556 as the Supervisor calls it (`host`: another address,
 * e.g. a pair's floating one).
 */
export function dataplaneApi(a: Appliance, o: { ca: string; user: string; password: string; host?: string }): Api {
  return async (method, path, body) => {
    const args = [
      'curl',
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      o.ca,
      '-u',
      `${o.user}:${o.password}`,
      '-X',
      method,
      '-o',
      '-',
      '-w',
      '\n%{http_code}',
      ...(body === undefined ? [] : ['-H', 'Content-Type: application/json', '--data-binary', '@-']),
      `https://${o.host ?? MANAGEMENT_IP}:5556${path}`,
    ];
    const r = await a.host(args, body === undefined ? {} : { input: JSON.stringify(body) });
    const lines = r.stdout.trimEnd().split('\n');
    const status = Number(lines.pop());
    let json: unknown;
    try {
      json = JSON.parse(lines.join('\n'));
    } catch {
      json = lines.join('\n');
    }
    return { status, json };
  };
}

/** A TCP connection from the client namespace to vip:port: 'ok' when a backend answered, else why not. */
export async function reach(a: Appliance, vip: string, port: number): Promise<string> {
  const script =
    `const s=require('net').connect(${port},'${vip}',()=>s.write('x'));` +
    "s.on('data',()=>{console.log('ok');process.exit(0)});" +
    "s.on('error',e=>{console.log(e.code);process.exit(1)});setTimeout(()=>process.exit(2),2000)";
  return (await a.client([process.execPath, '-e', script])).stdout.trim();
}
