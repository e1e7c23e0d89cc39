// The documentation as the tests read it: README.md and docs/*.md, their fenced shell examples and
// their links. The conventions for shell blocks are documented in docs/development.md.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** README.md first (its install steps build what the other pages use), then docs/*.md. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export interface Fence {
  readonly lang: string;
  /** The info string after the language: "" (runnable here), "appliance" or "system". */
  readonly marker: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly body: string[];
}

/** An opening fence, as CommonMark reads it: a backtick fence's info string holds no backtick. */
function opening(line: string): { fence: string; info: string } | undefined {
  const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
  if (!m || (m[1]!.startsWith('`') && m[2]!.includes('`'))) return undefined;
  return { fence: m[1]!, info: m[2]!.trim() };
}

/** A closing fence: the same character, at least as many, nothing else. */
const closes = (line: string, fence: string) =>
  new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).test(line);

export function fences(text: string): Fence[] {
  const out: Fence[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = opening(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !closes(lines[j]!, open.fence)) body.push(lines[j++]!);
    const [lang = '', ...rest] = open.info.split(/\s+/);
    out.push({ lang, marker: rest.join(' '), line: i + 1, body });
    i = j;
  }
  return out;
}

/** Each line, and whether it is inside a fenced block (the fence lines included). */
function fenced(text: string): { line: string; code: boolean }[] {
  const out: { line: string; code: boolean }[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    if (fence) {
      if (closes(line, fence)) fence = undefined;
      out.push({ line, code: true });
      continue;
    }
    fence = opening(line)?.fence;
    out.push({ line, code: fence !== undefined });
  }
  return out;
}

export interface Step {
  readonly command: string;
  /** The `# …` lines right under the command (no blank line between): its expected output. */
  readonly expected: string[];
  readonly line: number;
}

/**
 * A shell block as steps. A `#` line right under a command (or under its expected lines) is expected
 * output; a `#` line after a blank line or at the top is a comment for the reader.
 */
export function steps(fence: Fence): Step[] {
  const out: { command: string; expected: string[]; line: number }[] = [];
  let current: (typeof out)[number] | undefined;
  for (let i = 0; i < fence.body.length; i++) {
    const raw = fence.body[i]!;
    const line = raw.trim();
    if (line === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('#')) {
      if (current) current.expected.push(line.replace(/^#\s?/, ''));
      continue;
    }
    let command = raw;
    while (command.endsWith('\\') && i + 1 < fence.body.length) {
      command = command.slice(0, -1) + '\n' + fence.body[++i]!;
    }
    current = { command, expected: [], line: fence.line + 1 + i };
    out.push(current);
  }
  return out;
}

/** Does `pattern` (an expected line; "…" matches anything) match `line`? Both are trimmed. */
export function lineMatches(pattern: string, line: string): boolean {
  const parts = pattern
    .trim()
    .split('…')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`).test(line.trim());
}

/** The expected lines, in order, as a subsequence of the output's lines; the first one missing. */
export function firstMissing(expected: readonly string[], output: string): string | undefined {
  const lines = output.split('\n');
  let at = 0;
  for (const e of expected) {
    while (at < lines.length && !lineMatches(e, lines[at]!)) at++;
    if (at === lines.length) return e;
    at++;
  }
  return undefined;
}

/** The text without fenced blocks and inline code spans, for finding links. */
export function prose(text: string): string {
  return fenced(text)
    .map((l) => (l.code ? '' : l.line.replace(/(`+)[^\n]*?\1/g, '')))
    .join('\n');
}

/** Each heading outside fenced blocks: its level and the anchor GitHub makes for it ("-1" for repeats). */
export function headings(text: string): { level: number; anchor: string }[] {
  const seen = new Map<string, number>();
  const out: { level: number; anchor: string }[] = [];
  for (const { line, code } of fenced(text)) {
    if (code) continue;
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[2]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.push({ level: h[1]!.length, anchor: n === 0 ? base : `${base}-${n}` });
  }
  return out;
}

/** The heading anchors GitHub makes: lower case, punctuation dropped, spaces to "-", "-1" for repeats. */
export function anchors(text: string): Set<string> {
  return new Set(headings(text).map((h) => h.anchor));
}
