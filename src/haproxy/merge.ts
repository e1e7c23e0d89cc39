// ovactl's sections of haproxy.cfg merged into the file the control plane edits. ovactl owns the
// `global` section and the first anonymous `defaults` section (client-native's config parser, under
// the Data Plane API, writes it back as `defaults unnamed_defaults_1`); every other section, the
// comments around them and the preamble belong to the control plane and are kept byte for byte and
// in order. Ownership is decided by section kind and name, never by text or comments; whether ovactl's
// sections already hold its values, by meaning (sections.ts's directives): after the API has rewritten
// the file in its parser's layout, the same values write nothing.
import { directives, joinSections, splitSections, type ConfigFile, type Section } from './sections.js';

/** How a section of the current file is treated: a table, one rule a row, the first match wins. */
interface OwnerRule {
  readonly kind: string;
  /** Whether a section of this kind and name is ovactl's. */
  readonly name: (name: string) => boolean;
  /** `replace`: its directives become the rendered ones; `drop`: an older ovactl's, now elsewhere. */
  readonly action: 'replace' | 'drop';
}

const UNNAMED_DEFAULTS = /^(|unnamed_defaults_\d+)$/;

const OWNER_RULES: readonly OwnerRule[] = [
  { kind: 'global', name: () => true, action: 'replace' },
  { kind: 'defaults', name: (n) => UNNAMED_DEFAULTS.test(n), action: 'replace' },
  // ovactl before 0.2 kept the Data Plane API's users here; they now live in a file of their own.
  { kind: 'userlist', name: (n) => n === 'controller', action: 'drop' },
];

const VERSION_LINE = /^# _version=(\d+)(\r?\n)?$/;
const MD5_LINE = /^# _md5hash=/;

export interface MergeResult {
  readonly content: string;
  /** The control plane's sections, kept as they were ("frontend web", "backend api", …). */
  readonly kept: readonly string[];
  /** ovactl's sections that were replaced, added or dropped (empty when the file already holds its values). */
  readonly changed: readonly string[];
}

/** "frontend web": a section as messages name it; a name of a hostile length is cut, with its length. */
const label = (s: Pick<Section, 'kind' | 'name'>): string =>
  !s.name
    ? s.kind
    : s.name.length > 80
      ? `${s.kind} ${s.name.slice(0, 60)}… (${s.name.length} characters)`
      : `${s.kind} ${s.name}`;

/**
 * The rendered file (ovactl's template: its global and defaults) merged into `current`. No current
 * file, or one without a section: the rendered file as it is.
 */
export function mergeHaproxyConfig(current: string | undefined, rendered: string): MergeResult {
  const mine = splitSections(rendered);
  const ours = new Map(mine.sections.map((s) => [s.kind, s]));
  const file = current === undefined ? undefined : splitSections(current);
  if (!file || file.sections.length === 0) return { content: rendered, kept: [], changed: mine.sections.map(label) };

  const claimed = new Set<string>();
  const replaced = new Set<Section>();
  const changed: string[] = [];
  const kept: string[] = [];
  const out: Section[] = [];
  for (const s of file.sections) {
    const rule = claimed.has(s.kind) ? undefined : OWNER_RULES.find((r) => r.kind === s.kind && r.name(s.name));
    if (!rule) {
      out.push(s);
      kept.push(label(s));
      continue;
    }
    if (rule.action === 'drop') {
      changed.push(`${label(s)} (removed)`);
      if (s.gap.length) out.push({ ...s, core: [] });
      continue;
    }
    claimed.add(s.kind);
    const wanted = ours.get(s.kind);
    // The header stays as the file has it: sections may refer to `from unnamed_defaults_1`.
    const next = wanted ? { ...s, core: [s.core[0]!, ...wanted.core.slice(1)] } : s;
    const same = directives(next) === directives(s);
    out.push(same ? s : next);
    replaced.add(same ? s : next);
    if (!same) changed.push(label(s));
  }
  // Owned sections the file lacks go first, in the template's order: defaults apply to what follows.
  const missing = mine.sections.filter((s) => !claimed.has(s.kind) && OWNER_RULES.some((r) => r.kind === s.kind));
  for (const s of missing) changed.push(`${label(s)} (added)`);
  // They go before the first section that is not ovactl's: the anonymous defaults must apply to all
  // of the control plane's proxies.
  const rank = (kind: string) => mine.sections.findIndex((x) => x.kind === kind);
  for (const m of missing) {
    const at = out.findIndex((x) => !replaced.has(x) || rank(x.kind) > rank(m.kind));
    const added = { ...m, gap: m.gap.length ? m.gap : ['\n'] };
    out.splice(at < 0 ? out.length : at, 0, added);
    replaced.add(added);
  }

  if (!changed.length) return { content: current!, kept, changed };
  const merged: ConfigFile = { preamble: apiHeaderAfterEdit(file.preamble), sections: out };
  // haproxy refuses a last line without its line end ("file might have been truncated").
  const content = joinSections(merged);
  return { content: content.endsWith('\n') ? content : `${content}\n`, kept, changed };
}

/**
 * The Data Plane API's header lines after ovactl's edit. Its `# _md5hash=` line goes: the running API
 * re-reads a file whose md5 line is missing or stale (raising the version and rewriting it in its own
 * layout) and ignores one whose md5 is valid, so a writer other than the API must never leave a valid
 * one. Its `# _version=N` becomes N+1: a client holding N gets a conflict, not a lost change.
 */
function apiHeaderAfterEdit(preamble: readonly string[]): readonly string[] {
  const out = preamble.filter((l) => !MD5_LINE.test(l));
  const at = out.findIndex((l) => VERSION_LINE.test(l));
  const m = at < 0 ? null : VERSION_LINE.exec(out[at]!);
  if (!m) return out;
  return out.map((l, i) => (i === at ? `# _version=${BigInt(m[1]!) + 1n}${m[2] ?? ''}` : l));
}

/**
 * ovactl's own sections of a file (its global and its first anonymous defaults), as a file of their own:
 * what a standby appliance keeps of its haproxy.cfg when it takes the active's (src/ha/sync.ts).
 */
export function ownSections(text: string): string {
  const claimed = new Set<string>();
  const sections = splitSections(text).sections.filter((s) => {
    if (claimed.has(s.kind)) return false;
    const rule = OWNER_RULES.find((r) => r.kind === s.kind && r.name(s.name));
    if (rule?.action !== 'replace') return false;
    claimed.add(s.kind);
    return true;
  });
  return joinSections({ preamble: [], sections });
}
