// The kernel side of AnyIP: `local` routes on lo in the local table, tagged with our protocol number
// so a reconcile removes only routes it created. State is read once (ip -json) and every change goes
// in one `ip -batch -` — never one process per range.
import { execa } from 'execa';
import { networkText, type Cidr } from '../net/ip.js';

/** Routes this service owns carry this protocol number (see /etc/iproute2/rt_protos.d/ovactl.conf). */
export const ANYIP_PROTO = 252;

export interface RouteDiff {
  readonly add: readonly string[];
  readonly remove: readonly string[];
  readonly kept: readonly string[];
}

/** Our routes now in the kernel, as network CIDRs. */
export async function ownedRoutes(): Promise<string[]> {
  const out: string[] = [];
  for (const family of ['-4', '-6']) {
    const r = await execa('ip', [family, '-json', 'route', 'show', 'table', 'local', 'proto', String(ANYIP_PROTO)], { reject: false });
    if (r.exitCode !== 0) throw new Error(`ip route show failed: ${r.stderr.trim()}`);
    const routes = JSON.parse(r.stdout || '[]') as { dst: string; type?: string }[];
    for (const route of routes) out.push(route.dst.includes('/') ? route.dst : `${route.dst}/${family === '-4' ? 32 : 128}`);
  }
  return out;
}

export function diff(wanted: readonly Cidr[], current: readonly string[]): RouteDiff {
  const want = new Set(wanted.map(networkText));
  const have = new Set(current);
  return {
    add: [...want].filter((r) => !have.has(r)),
    remove: [...have].filter((r) => !want.has(r)),
    kept: [...want].filter((r) => have.has(r)),
  };
}

export function batchScript(d: Pick<RouteDiff, 'add' | 'remove'>): string {
  return [
    ...d.remove.map((r) => `route del local ${r} dev lo table local proto ${ANYIP_PROTO}`),
    ...d.add.map((r) => `route add local ${r} dev lo table local proto ${ANYIP_PROTO}`),
  ].join('\n') + '\n';
}

/** Applies the changes in one ip process; `-force` goes on past a line the kernel refuses. */
export async function applyBatch(d: Pick<RouteDiff, 'add' | 'remove'>): Promise<{ ok: boolean; message: string }> {
  if (d.add.length === 0 && d.remove.length === 0) return { ok: true, message: '' };
  const r = await execa('ip', ['-force', '-batch', '-'], { input: batchScript(d), reject: false });
  return { ok: r.exitCode === 0, message: r.stderr.trim() };
}
