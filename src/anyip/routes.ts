// The kernel side of AnyIP: `local` routes on lo in the local table, tagged with our protocol number
// so a reconcile removes only routes it created. State is read once (ip -json) and every change goes
// in one `ip -batch -` — never one process per range.
import { runIp as ip } from '../net/iproute.js';
import { ANYIP_PROTO, batchLines, type RouteDiff } from './diff.js';

// ip prints a host route without its prefix length, and the whole space as "default".
const cidrOf = (dst: string, family: string): string =>
  dst === 'default'
    ? family === '-4'
      ? '0.0.0.0/0'
      : '::/0'
    : dst.includes('/')
      ? dst
      : `${dst}/${family === '-4' ? 32 : 128}`;

/**
 * The local table's `local` routes as network CIDRs: ours (proto 252) and the others (the host's
 * own addresses, an admin's `ip route add local …`). One read per family; -N prints the protocol as
 * its number whatever rt_protos names it.
 */
export async function localRoutes(): Promise<{ owned: string[]; foreign: string[] }> {
  const owned: string[] = [];
  const foreign: string[] = [];
  await Promise.all(
    ['-4', '-6'].map(async (family) => {
      const r = await ip([family, '-N', '-json', 'route', 'show', 'table', 'local', 'type', 'local']);
      // No local table at all (a fresh namespace with lo down): no local routes.
      if (r.exitCode !== 0 && /FIB table does not exist/.test(r.stderr)) return;
      if (r.exitCode !== 0) throw new Error(`ip route show failed: ${r.stderr.trim()}`);
      for (const route of JSON.parse(r.stdout || '[]') as { dst: string; protocol?: string }[])
        (route.protocol === String(ANYIP_PROTO) ? owned : foreign).push(cidrOf(route.dst, family));
    }),
  );
  return { owned, foreign };
}

/** Our routes now in the kernel, as network CIDRs. */
export const ownedRoutes = async (): Promise<string[]> => (await localRoutes()).owned;

/**
 * Changes per ip process. iproute2 6.1's `ip -batch` keeps about 4 KB for every line it has run until
 * it exits (one batch of 100,000 routes peaked at ~400 MB resident): 10,000 lines a process bound it
 * (~43 MB, less than ovactl's own) at the cost of a few milliseconds a process.
 */
const BATCH_LINES = 10_000;

/** Applies the changes in ip processes of BATCH_LINES lines, one after the other; `-force` goes on past a
 * line the kernel refuses. */
export async function applyBatch(d: Pick<RouteDiff, 'add' | 'remove'>): Promise<{ ok: boolean; message: string }> {
  const lines = batchLines(d);
  let ok = true;
  const messages: string[] = [];
  for (let at = 0; at < lines.length; at += BATCH_LINES) {
    const r = await ip(['-force', '-batch', '-'], lines.slice(at, at + BATCH_LINES).join('\n') + '\n');
    if (r.exitCode !== 0) ok = false;
    if (r.stderr.trim()) messages.push(r.stderr.trim());
  }
  return { ok, message: messages.join('\n') };
}
