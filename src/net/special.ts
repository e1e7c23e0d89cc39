// Address ranges that must never become VIP ranges: a `local` route for any of them sends the
// gateway, the host itself or every multicast group to lo and cuts the appliance off. A table, most
// specific reason first; a range is refused when it overlaps any entry.
import { covers, overlaps, parseCidr, type Cidr } from './ip.js';

const TABLE: readonly [string, string][] = [
  ['255.255.255.255/32', 'the limited broadcast address'],
  ['0.0.0.0/8', 'the "this network" block 0.0.0.0/8'],
  ['127.0.0.0/8', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0/16', 'link-local (169.254.0.0/16)'],
  ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved (240.0.0.0/4)'],
  ['::/128', 'the unspecified address ::'],
  ['::1/128', 'loopback (::1)'],
  ['::ffff:0:0/96', 'IPv4-mapped addresses (::ffff:0:0/96)'],
  ['fe80::/10', 'link-local (fe80::/10)'],
  ['ff00::/8', 'multicast (ff00::/8)'],
];

const SPECIAL = TABLE.map(([text, why]) => ({ range: parseCidr(text) as Cidr, why }));

/** Why a range may not be served on this appliance, or undefined when it may. */
export function specialRange(c: Cidr): string | undefined {
  if (c.prefix === 0) return 'is the default route (every address)';
  const within = SPECIAL.find((s) => covers(s.range, c));
  if (within) return `is ${within.why}`;
  const hit = SPECIAL.find((s) => overlaps(s.range, c));
  return hit ? `contains ${hit.why}` : undefined;
}
