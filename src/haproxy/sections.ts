// haproxy.cfg as haproxy reads it: a preamble, then sections, each opened by a line whose first word
// is a section keyword. Pure and lossless: joining the parts gives back the input byte for byte
// (CRLF line ends, a missing final newline and comments included), so sections can be kept verbatim.
import { words } from './words.js';

/** The keywords that open a section (haproxy's cfg_keywords of type section). */
export const SECTION_KEYWORDS: ReadonlySet<string> = new Set([
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'userlist',
  'peers',
  'resolvers',
  'mailers',
  'program',
  'http-errors',
  'ring',
  'cache',
  'fcgi-app',
  'log-forward',
  'traces',
  'crt-store',
  'acme',
]);

export interface Section {
  readonly kind: string;
  /** The section's name ("" for an anonymous defaults or global). */
  readonly name: string;
  /** The header line and every line up to the last directive, each with its line end. */
  readonly core: readonly string[];
  /** Blank and comment lines after the last directive, up to the next section: kept as they are. */
  readonly gap: readonly string[];
}

export interface ConfigFile {
  /** Comment and blank lines before the first section (the Data Plane API's `# _version=N` among them). */
  readonly preamble: readonly string[];
  readonly sections: readonly Section[];
}

/** Lines with their line ends; the last one may have none. */
const linesOf = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

const isQuiet = (line: string): boolean => words(line).length === 0;

export function splitSections(text: string): ConfigFile {
  const preamble: string[] = [];
  const sections: { kind: string; name: string; lines: string[] }[] = [];
  for (const line of linesOf(text)) {
    const w = words(line);
    const opens = w[0] !== undefined && SECTION_KEYWORDS.has(w[0]);
    if (opens) sections.push({ kind: w[0]!, name: w[1] ?? '', lines: [line] });
    else (sections.at(-1)?.lines ?? preamble).push(line);
  }
  return {
    preamble,
    sections: sections.map((s) => {
      let end = s.lines.length;
      while (end > 1 && isQuiet(s.lines[end - 1]!)) end--;
      return { kind: s.kind, name: s.name, core: s.lines.slice(0, end), gap: s.lines.slice(end) };
    }),
  };
}

export const joinSections = (f: ConfigFile): string =>
  [...f.preamble, ...f.sections.flatMap((s) => [...s.core, ...s.gap])].join('');

/**
 * Keywords whose second word names the setting (`option tcplog`, `timeout client`, `stats socket`):
 * their lines are grouped by both words.
 */
const TWO_WORD_KEYWORDS: ReadonlySet<string> = new Set([
  'option',
  'timeout',
  'stats',
  'no',
  'compression',
  'external-check',
  'rate-limit',
]);

/**
 * A section's directives as haproxy means them: words only (indentation and comments do not count),
 * without the header line (the Data Plane API names an anonymous `defaults` unnamed_defaults_1),
 * grouped by keyword in one fixed order (its parser writes keywords in an order of its own and moves
 * lines it does not know to the end), the order of the lines of one keyword kept (`log`, rules).
 */
export function directives(s: Section): string {
  const lines = s.core
    .slice(1)
    .map((l) => words(l))
    .filter((w) => w.length > 0);
  const key = (w: readonly string[]) => (TWO_WORD_KEYWORDS.has(w[0]!) ? `${w[0]} ${w[1] ?? ''}` : w[0]!);
  return lines
    .map((w, i) => ({ key: key(w), i, text: w.join(' ') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i))
    .map((x) => x.text)
    .join('\n');
}
