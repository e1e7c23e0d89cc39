// Address arithmetic for validation and rendering. Ranges are compared as bigint intervals, so IPv4
// and IPv6 share one code path. Hand-written on purpose: `ovactl validate` runs at every boot and
// must start fast (bench/cold-start.mjs); ip-cidr and node:net each cost more start-up time than
// all of validation. test/net.test.ts cross-checks this parser against both of them.

export type Family = 4 | 6;

export interface Ip {
  readonly family: Family;
  readonly value: bigint;
  readonly text: string; // canonical form
}

export interface Cidr {
  readonly family: Family;
  readonly address: Ip; // the address as written (may have host bits set)
  readonly prefix: number;
  readonly network: bigint; // first address of the prefix
  readonly last: bigint; // last address of the prefix
  readonly text: string; // as written, canonicalised: `address/prefix`
}

const bitsOf = (f: Family): number => (f === 4 ? 32 : 128);

const v4Value = (s: string): bigint => s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);

function v6Value(s: string): bigint {
  let text = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4Value(v4[1]!);
    text = text.slice(0, v4.index) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of zero groups (≥ 2) as "::". */
function v6Text(value: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1,
    bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function formatIp(value: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 255n).toString()).join('.');
  return v6Text(value);
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const V4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** Dotted quad, no leading zeros (which some tools read as octal). */
const isIPv4 = (s: string): boolean => V4.test(s);

/** RFC 4291 text forms: eight groups, one "::", an optional trailing dotted quad; no zone. */
function isIPv6(s: string): boolean {
  const parts = s.split('::');
  if (parts.length > 2) return false;
  const groups = (p: string) => (p === '' ? [] : p.split(':'));
  const all = parts.flatMap(groups);
  let count = all.length;
  const last = all[all.length - 1];
  if (last?.includes('.')) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1; // a dotted quad fills two groups
  }
  if (!all.every((g) => HEXTET.test(g))) return false;
  return parts.length === 2 ? count <= 7 : count === 8;
}

/** A bare address, no prefix, no IPv6 zone. */
export function parseIp(text: string): Ip | undefined {
  const s = text.trim();
  if (isIPv4(s)) {
    const value = v4Value(s);
    return { family: 4, value, text: formatIp(value, 4) };
  }
  if (isIPv6(s)) {
    const value = v6Value(s);
    return { family: 6, value, text: formatIp(value, 6) };
  }
  return undefined;
}

export type CidrProblem = 'syntax' | 'no-prefix';

/** `address/prefix`; a bare address is reported as `no-prefix` so the caller can suggest one. */
export function parseCidr(text: string): Cidr | CidrProblem {
  const s = text.trim();
  if (!s.includes('/')) return parseIp(s) ? 'no-prefix' : 'syntax';
  // Exactly one "/": `a/b/c` once passed with its tail ignored, and went verbatim into networkd.
  const slash = s.indexOf('/');
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) return 'syntax';
  const ip = parseIp(addr);
  if (!ip) return 'syntax';
  const prefix = Number(len);
  const bits = bitsOf(ip.family);
  if (prefix > bits) return 'syntax';
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = ip.value & ~hostMask;
  return { family: ip.family, address: ip, prefix, network, last: network | hostMask, text: `${ip.text}/${prefix}` };
}

export const isCidr = (c: Cidr | CidrProblem): c is Cidr => typeof c !== 'string';

export const hasHostBits = (c: Cidr): boolean => c.address.value !== c.network;

/** The aligned network of a prefix, e.g. 10.10.18.18/28 → 10.10.18.16/28. */
export const networkText = (c: Cidr): string => `${formatIp(c.network, c.family)}/${c.prefix}`;

/** Usable host range: excludes network and broadcast for IPv4 prefixes up to /30. */
export function hostRange(c: Cidr): { first: string; last: string; count: bigint } {
  const reserve = c.family === 4 && c.prefix <= 30 ? 1n : 0n;
  const first = c.network + reserve;
  const last = c.last - reserve;
  return { first: formatIp(first, c.family), last: formatIp(last, c.family), count: last - first + 1n };
}

export const contains = (c: Cidr, ip: Ip): boolean =>
  c.family === ip.family && ip.value >= c.network && ip.value <= c.last;

export const overlaps = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.network <= b.last && b.network <= a.last;

/** a fully contains b */
export const covers = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.network <= b.network && b.last <= a.last;

export const isNetworkAddress = (c: Cidr): boolean => c.family === 4 && c.prefix <= 30 && c.address.value === c.network;
export const isBroadcastAddress = (c: Cidr): boolean => c.family === 4 && c.prefix <= 30 && c.address.value === c.last;
