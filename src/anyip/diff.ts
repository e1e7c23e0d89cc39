// The pure half of AnyIP's reconcile: the wanted ranges against the kernel's routes, and the one
// `ip -batch` script that makes them equal. routes.ts reads the kernel and runs the script.
import { hasHostBits, networkText, type Cidr } from '../net/ip.js';

/** Routes this service owns carry this protocol number (see /etc/iproute2/rt_protos.d/ovactl.conf). */
export const ANYIP_PROTO = 252;

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

/** The `ip -batch` lines that make the kernel's routes equal to the wanted ranges: removals first. */
export function batchLines(d: Pick<RouteDiff, 'add' | 'remove'>): string[] {
  return [
    ...d.remove.map((r) => `route del local ${r} dev lo table local proto ${ANYIP_PROTO}`),
    ...d.add.map((r) => `route add local ${r} dev lo table local proto ${ANYIP_PROTO}`),
  ];
}
