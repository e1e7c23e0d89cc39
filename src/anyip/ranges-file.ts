// /etc/vmware/anyip-routes.cfg: one network CIDR a line; "#" comments and blank lines ignored. A bad
// line is reported with its number and the fix, and skipped: the valid lines still apply.
import { hasHostBits, hostRange, networkText, parseCidr, type Cidr } from '../net/ip.js';

export const RANGES_FILE = '/etc/vmware/anyip-routes.cfg';

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
    const c = parseCidr(s);
    if (c === 'no-prefix') problems.push({ line, text: s, message: `"${s}" has no prefix length`, hint: `write ${s}/32 for one address, or the range's prefix` });
    else if (c === 'syntax') problems.push({ line, text: s, message: `"${s}" is not a network in CIDR form`, hint: 'one range a line, e.g. 192.0.2.64/26' });
    else if (hasHostBits(c)) {
      const h = hostRange(c);
      problems.push({ line, text: s, message: `"${s}" has host bits set; the kernel refuses it`, hint: `use ${networkText(c)} (hosts ${h.first}–${h.last})` });
    } else if (!seen.has(networkText(c))) {
      seen.add(networkText(c));
      ranges.push(c);
    }
  });
  return { ranges, problems };
}
