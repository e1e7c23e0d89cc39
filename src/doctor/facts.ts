// The facts doctor's checks share, read once from the tree: the ranges file, ovactl's .network files
// and the Data Plane API's listener (plan/network.ts's model and readers), haproxy.cfg's binds.
import { existsSync, readdirSync } from 'node:fs';
import { readRegularFile } from '../core/regular-file.js';
import { dirname, join } from 'node:path';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { DATAPLANEAPI_YAML, HAPROXY_CFG, NETWORK_DIR, RANGES_FILE, STATUS_FILE } from '../appliance/paths.js';
import { HA_STATE_FILE } from '../appliance/ha.js';
import { readApiEndpoint, readNetworkFile, type NetworkFile } from '../plan/network.js';
import { contains, formatIp, networkText, parseCidr, parseIp, isCidr, type Cidr } from '../net/ip.js';
import { nicAddresses, onNic, ownMacs, ownTargets, type DadTarget } from '../net/dad.js';
import { parseBinds } from '../haproxy/binds.js';
import type { Context, Facts, Interval } from './check.js';

/**
 * What every appliance holds (the image makes the state folder; first boot writes the ranges file).
 * Off an appliance the live checks could only report what a workstation lacks.
 */
export const APPLIANCE_MARKERS = [RANGES_FILE, dirname(STATUS_FILE)] as const;
export const isAppliance = (root: string): boolean => APPLIANCE_MARKERS.some((p) => existsSync(join(root, p)));

export function readFacts(root: string): Facts {
  const cache = new Map<string, string | undefined>();
  const read = (path: string): string | undefined => {
    if (!cache.has(path)) {
      try {
        cache.set(path, readRegularFile(join(root, path))); // a FIFO in the tree must not hang doctor
      } catch {
        cache.set(path, undefined);
      }
    }
    return cache.get(path);
  };
  const rangesText = read(RANGES_FILE);
  let names: string[] = [];
  try {
    names = readdirSync(join(root, NETWORK_DIR))
      .filter((n) => /^20-ovactl-.*\.network$/.test(n))
      .sort();
  } catch {
    // no network files
  }
  const networks = names.map((n) => readNetworkFile(n, read(`${NETWORK_DIR}/${n}`) ?? ''));
  const cfg = read(HAPROXY_CFG);
  const yaml = read(DATAPLANEAPI_YAML);
  return {
    read,
    ranges: rangesText === undefined ? undefined : parseRangesFile(rangesText),
    networks,
    binds: cfg ? parseBinds(cfg) : [],
    dataplane: yaml ? readApiEndpoint(yaml) : undefined,
  };
}

/** `A-B[,C-D…]`, or a CIDR; a usage error message, or the intervals. */
export function parseVipRanges(text: string): Interval[] | string {
  const out: Interval[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const c = part.includes('/') ? parseCidr(part) : undefined;
    if (c !== undefined) {
      if (!isCidr(c)) return `--vip-range: "${part}" is not a network`;
      out.push({ family: c.family, first: c.network, last: c.last, text: networkText(c) });
      continue;
    }
    const [a, b = a] = part.split('-').map((s) => s.trim()) as [string, string?];
    const first = parseIp(a),
      last = parseIp(b!);
    if (!first || !last) return `--vip-range: "${part}" is not START-END (e.g. 198.51.100.64-198.51.100.127)`;
    if (first.family !== last.family) return `--vip-range: "${part}" mixes IPv4 and IPv6`;
    if (first.value > last.value) return `--vip-range: "${part}" ends before it starts`;
    out.push({ family: first.family, first: first.value, last: last.value, text: `${first.text}-${last.text}` });
  }
  return out.length ? out : '--vip-range: no range given';
}

/** The parts of an interval no range covers, as intervals. */
export function outside(iv: Interval, ranges: readonly Cidr[]): { first: bigint; last: bigint }[] {
  const covering = ranges
    .filter((r) => r.family === iv.family && r.network <= iv.last && r.last >= iv.first)
    .sort((a, b) => (a.network < b.network ? -1 : 1));
  const gaps: { first: bigint; last: bigint }[] = [];
  let next = iv.first;
  for (const r of covering) {
    if (r.network > next) gaps.push({ first: next, last: r.network - 1n < iv.last ? r.network - 1n : iv.last });
    if (r.last + 1n > next) next = r.last + 1n;
    if (next > iv.last) break;
  }
  if (next <= iv.last) gaps.push({ first: next, last: iv.last });
  return gaps;
}

export const span = (g: { first: bigint; last: bigint }, family: 4 | 6): string =>
  g.first === g.last ? formatIp(g.first, family) : `${formatIp(g.first, family)}–${formatIp(g.last, family)}`;
export const listOf = (xs: readonly string[], max = 8): string =>
  xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', ');
export const rangesOf = (f: Facts): Cidr[] => [...(f.ranges?.ranges ?? [])];
export const vipNic = (f: Facts): NetworkFile | undefined =>
  f.networks.find((n) => n.policyFrom.some((p) => !/\/(32|128)$/.test(p))) ??
  f.networks.find((n) => /workload|frontend/.test(n.name));
export const unitName = 'anyip-routes.service';

/**
 * What duplicate address detection probes: the NICs' own IPv4 addresses (as the kernel has them: DHCP
 * included), then the VIPs that frontends bind inside the ranges and on a NIC's network (not on a pair member).
 */
export function dadTargets(ctx: Context, f: Facts): { targets: DadTarget[]; own: Set<string> } | string {
  const r = ctx.exec('ip', ['-j', '-4', 'addr', 'show']);
  if (r.code !== 0) return `ip -j addr show failed: ${r.stderr.trim().split('\n')[0] ?? ''}`;
  const nets = nicAddresses(r.stdout);
  if (typeof nets === 'string') return nets;
  const out = ownTargets(nets);
  // A pair's VIPs are answered by its active appliance (ovactl-ha.service runs: /run/ovactl/ha.json).
  if (f.read(HA_STATE_FILE) !== undefined) return { targets: out, own: ownMacs(r.stdout) };
  for (const b of f.binds) {
    const ip = parseIp(b.host);
    if (ip && rangesOf(f).some((x) => contains(x, ip))) onNic(out, nets, ip.text, `VIP of frontend ${b.frontend}`);
  }
  return { targets: out, own: ownMacs(r.stdout) };
}
