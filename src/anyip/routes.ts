// The kernel side of AnyIP: `local` routes on lo in the local table, tagged with our protocol number
// so a reconcile removes only routes it created. State is read once (ip -json) and every change goes
// in one `ip -batch -` — never one process per range.
import { runIp as ip } from '../net/iproute.js';
import { hasHostBits, networkText, type Cidr } from '../net/ip.js';

/** Routes this service owns carry this protocol number (see /etc/iproute2/rt_protos.d/ovactl.conf). */
const ANYIP_PROTO = 252;

export interface RouteDiff {
  readonly add: readonly string[];
  readonly remove: readonly string[];
  readonly kept: readonly string[];
  /**
   * Wanted ranges the local table already holds as a `local` route someone else made (an admin's
   * `ip route add local … dev lo`, an address of the host): they answer already, and adding ours
   * would fail with "File exists" at every pass. Left alone, reported.
   */
  readonly foreign: readonly string[];
}

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

export function diff(
  wanted: readonly Cidr[],
  current: readonly string[],
  foreignRoutes: readonly string[] = [],
): RouteDiff {
  // Without host bits a range's text is its network's text: no need to format it again.
  const want = new Set(wanted.map((c) => (hasHostBits(c) ? networkText(c) : c.text)));
  const have = new Set(current);
  const other = new Set(foreignRoutes);
  return {
    add: [...want].filter((r) => !have.has(r) && !other.has(r)),
    remove: [...have].filter((r) => !want.has(r)),
    kept: [...want].filter((r) => have.has(r)),
    foreign: [...want].filter((r) => !have.has(r) && other.has(r)),
  };
}

function batchScript(d: Pick<RouteDiff, 'add' | 'remove'>): string {
  return (
    [
      ...d.remove.map((r) => `route del local ${r} dev lo table local proto ${ANYIP_PROTO}`),
      ...d.add.map((r) => `route add local ${r} dev lo table local proto ${ANYIP_PROTO}`),
    ].join('\n') + '\n'
  );
}

/** Applies the changes in one ip process; `-force` goes on past a line the kernel refuses. */
export async function applyBatch(d: Pick<RouteDiff, 'add' | 'remove'>): Promise<{ ok: boolean; message: string }> {
  if (d.add.length === 0 && d.remove.length === 0) return { ok: true, message: '' };
  const r = await ip(['-force', '-batch', '-'], batchScript(d));
  return { ok: r.exitCode === 0, message: r.stderr.trim() };
}
