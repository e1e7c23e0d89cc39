// The rhi.* deploy values in their parsed forms: AS numbers, BGP peers (address:AS), OSPF areas.
// Pure and small: validation and the plan both use them.
import { parseIp, type Ip } from '../net/ip.js';

const AS_MAX = 4294967295;
/** AS_TRANS (RFC 6793): stands in for 4-byte AS numbers towards old speakers; never an AS of its own. */
const AS_TRANS = 23456;

export type AsResult = { as: number } | { problem: 'syntax' | 'range'; hint: string };

export function parseAs(text: string): AsResult {
  const s = text.trim().replace(/^AS/i, '');
  const dot = /^(\d{1,5})\.(\d{1,5})$/.exec(s);
  if (dot && Number(dot[1]) <= 65535 && Number(dot[2]) <= 65535)
    return { problem: 'syntax', hint: `write it as one number (asplain): ${Number(dot[1]) * 65536 + Number(dot[2])}` };
  if (!/^\d{1,10}$/.test(s))
    return {
      problem: 'syntax',
      hint: 'a whole number from 1 to 4294967295, e.g. 65010 (private: 64512–65534, 4200000000–4294967294)',
    };
  const n = Number(s);
  if (n < 1 || n > AS_MAX)
    return { problem: 'range', hint: 'use 1–4294967295; private AS numbers are 64512–65534 and 4200000000–4294967294' };
  if (n === AS_TRANS)
    return { problem: 'range', hint: '23456 is AS_TRANS, reserved by RFC 6793; use another, e.g. 65010' };
  return { as: n };
}

export type PeerResult =
  | { ip: Ip; as: number; asText: string }
  | { problem: string; hint: string; asProblem?: 'syntax' | 'range' };

/** `192.0.2.1:65001` or `[2001:db8::1]:65001`. `secret`: text the messages must not show (validate's secrets). */
export function parsePeer(text: string, secret: (s: string) => boolean = () => false): PeerResult {
  const shown = (s: string) => (secret(s) ? '(a value equal to a secret, not shown)' : s);
  const quoted = (s: string) => (secret(s) ? shown(s) : JSON.stringify(s));
  const m = /^\[([^\]]+)\]:(.*)$/.exec(text) ?? /^([^:]+):(.*)$/.exec(text);
  if (!m) {
    const bare = parseIp(text.replace(/^\[|\]$/g, ''));
    if (bare)
      return {
        problem: 'has no AS number',
        hint:
          `write address:AS, e.g. ${shown(bare.family === 6 ? `[${bare.text}]` : bare.text)}:65001 ` +
          '(the local AS for iBGP)',
      };
    return { problem: 'is not address:AS', hint: 'e.g. 192.0.2.1:65001, or [2001:db8::1]:65001 for IPv6' };
  }
  const ip = parseIp(m[1]!);
  if (!ip)
    return {
      problem: `does not start with an IP address (${quoted(m[1]!)})`,
      hint: 'e.g. 192.0.2.1:65001, or [2001:db8::1]:65001 for IPv6',
    };
  const as = parseAs(m[2]!);
  if ('problem' in as)
    return {
      problem: `has ${as.problem === 'syntax' ? 'no valid' : 'an out-of-range'} AS number (${quoted(m[2]!)})`,
      hint: as.hint,
      asProblem: as.problem,
    };
  return { ip, as: as.as, asText: m[2]! };
}

/** OSPF area: a number (0) or a dotted quad (0.0.0.0); normalised to the dotted quad. */
export function parseOspfArea(text: string): string | undefined {
  const s = text.trim();
  if (/^\d{1,10}$/.test(s) && Number(s) <= AS_MAX) {
    const n = Number(s);
    return [24, 16, 8, 0].map((b) => Math.floor(n / 2 ** b) % 256).join('.');
  }
  const ip = parseIp(s);
  return ip?.family === 4 ? ip.text : undefined;
}
