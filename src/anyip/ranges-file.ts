// /etc/vmware/anyip-routes.cfg: one network CIDR a line; "#" comments and blank lines ignored. A bad
// line is reported with its number and the fix, and skipped: the valid lines still apply.
import { hasHostBits, hostRange, networkText, parseCidr, parseIp, type Cidr } from '../net/ip.js';
import { q } from '../core/quote.js';
import { specialRange } from '../net/special.js';

export interface LineProblem {
  readonly line: number;
  readonly text: string;
  readonly message: string;
  readonly hint: string;
}

export interface RangesFile {
  readonly ranges: readonly Cidr[];
  readonly problems: readonly LineProblem[];
}

export function parseRangesFile(text: string): RangesFile {
  const ranges: Cidr[] = [];
  const problems: LineProblem[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const s = raw.replace(/#.*$/, '').trim();
    if (s === '') return;
    const line = i + 1;
    const c = parseV4Fast(s) ?? parseCidr(s);
    if (c === 'no-prefix')
      problems.push({
        line,
        text: s,
        message: `${q(s)} has no prefix length`,
        hint: `write ${s}/32 for one address, or the range's prefix`,
      });
    else if (c === 'syntax')
      problems.push(
        prefixTooLong(line, s) ?? {
          line,
          text: s,
          message: `${q(s)} is not a network in CIDR form`,
          hint: 'one range a line, e.g. 192.0.2.64/26',
        },
      );
    else if (hasHostBits(c)) {
      const h = hostRange(c);
      problems.push({
        line,
        text: s,
        message: `${q(s)} has host bits set; the kernel refuses it`,
        hint: `use ${networkText(c)} (hosts ${h.first}–${h.last})`,
      });
    } else if (specialRange(c)) {
      problems.push({
        line,
        text: s,
        message: `${c.text} ${specialRange(c)}: a local route for it would cut the appliance off`,
        hint: 'list only the VIP ranges of the load balancer, e.g. 192.0.2.64/26',
      });
    } else if (!seen.has(c.text)) {
      // No host bits: c.text is the network's text already (networkText would format it again).
      seen.add(c.text);
      ranges.push(c);
    }
  });
  return { ranges, problems };
}

/**
 * The common line, `a.b.c.d/n`, with 32-bit numbers instead of parseCidr's bigint arithmetic: the
 * same Cidr several times faster (parsing was most of `anyip up`'s own time at 10,000 ranges). Anything else
 * (IPv6, leading zeros, bad octets or prefixes) goes to parseCidr, which also explains the problem.
 */
const V4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
function parseV4Fast(s: string): Cidr | undefined {
  const m = V4_CIDR.exec(s);
  if (!m) return undefined;
  let value = 0;
  for (let k = 1; k <= 4; k++) {
    const o = m[k]!;
    if (o.length > 1 && o[0] === '0') return undefined;
    const n = Number(o);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  const prefix = Number(m[5]);
  if (prefix > 32) return undefined;
  const hostBits = prefix === 0 ? 0xffffffff : prefix === 32 ? 0 : 0xffffffff >>> prefix;
  const network = (value & ~hostBits) >>> 0;
  const address = `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}.${Number(m[4])}`;
  return {
    family: 4,
    address: { family: 4, value: BigInt(value), text: address },
    prefix,
    network: BigInt(network),
    last: BigInt((network | hostBits) >>> 0),
    text: `${address}/${prefix}`,
  };
}

/** An IPv4/IPv6 mixup: a valid address with a prefix longer than its family allows (`10.0.0.0/64`). */
function prefixTooLong(line: number, s: string): LineProblem | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const ip = m ? parseIp(m[1]!) : undefined;
  const bits = ip?.family === 4 ? 32 : 128;
  if (!m || !ip || Number(m[2]) <= bits) return undefined;
  const v = ip.family === 4 ? 'IPv4' : 'IPv6';
  const mixup = ip.family === 4 && Number(m[2]) <= 128 ? ` (/${m[2]} would be an IPv6 prefix)` : '';
  const other = ip.family === 4 ? 'IPv6' : 'IPv4';
  return {
    line,
    text: s,
    message: `${q(s)}: an ${v} range has a prefix of at most /${bits}${mixup}`,
    hint:
      `use /0–/${bits}, e.g. ${ip.text}/${ip.family === 4 ? 24 : 64} ` +
      `(an ${other} range needs an ${other} address)`,
  };
}
