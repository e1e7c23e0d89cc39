// Address arithmetic for validation and rendering. ip-cidr (and its ip-address) does the parsing,
// which is where the edge cases live (leading zeros, IPv6 forms, mask ranges); ranges are compared
// as bigint intervals so IPv4 and IPv6 share one code path.
import IPCIDR from 'ip-cidr';
import ipAddress from 'ip-address';

export type Family = 4 | 6;

export interface Ip {
  readonly family: Family;
  readonly value: bigint;
  readonly text: string; // canonical form
}

export interface Cidr {
  readonly family: Family;
  readonly address: Ip;     // the address as written (may have host bits set)
  readonly prefix: number;
  readonly network: bigint; // first address of the prefix
  readonly last: bigint;    // last address of the prefix
  readonly text: string;    // as written, canonicalised: `address/prefix`
}

const bitsOf = (f: Family): number => (f === 4 ? 32 : 128);

function toIp(a: InstanceType<typeof ipAddress.Address4> | InstanceType<typeof ipAddress.Address6>, family: Family): Ip {
  return { family, value: BigInt(a.bigInteger().toString()), text: formatIp(BigInt(a.bigInteger().toString()), family) };
}

export function formatIp(value: bigint, family: Family): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 255n).toString()).join('.');
  }
  return ipAddress.Address6.fromBigInteger(value as never).correctForm();
}

/** A bare address, no prefix. */
export function parseIp(text: string): Ip | undefined {
  const s = text.trim();
  if (s.includes('/') || !IPCIDR.isValidAddress(s)) return undefined;
  return s.includes(':') ? toIp(new ipAddress.Address6(s), 6) : toIp(new ipAddress.Address4(s), 4);
}

export type CidrProblem = 'syntax' | 'no-prefix';

/** `address/prefix`; a bare address is reported as `no-prefix` so the caller can suggest one. */
export function parseCidr(text: string): Cidr | CidrProblem {
  const s = text.trim();
  if (!s.includes('/')) return parseIp(s) ? 'no-prefix' : 'syntax';
  const [addr, len] = s.split('/', 2) as [string, string];
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
