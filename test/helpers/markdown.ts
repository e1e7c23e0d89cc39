// The documentation as the tests read it: README.md and docs/*.md, their fenced shell examples and
// their links. The conventions for shell blocks are documented in docs/development.md.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** README.md first (its install steps build what the other pages use), then docs/*.md. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
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

export function fences(text: string): Fence[] {
  const out: Fence[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trimStart().startsWith(fence)) body.push(lines[j++]!);
    out.push({ lang: open[3]!, marker: open[4]!.trim(), line: i + 1, body });
    i = j;
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
    if (line === '') { current = undefined; continue; }
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
  const parts = pattern.trim().split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
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
  const lines = text.split('\n');
  const kept: string[] = [];
  let fence: string | undefined;
  for (const l of lines) {
    const m = /^\s*(`{3,}|~{3,})/.exec(l);
    if (fence) { if (m && l.trimStart().startsWith(fence)) fence = undefined; kept.push(''); continue; }
    if (m) { fence = m[1]; kept.push(''); continue; }
    kept.push(l.replace(/`[^`]*`/g, ''));
  }
  return kept.join('\n');
}

/** The heading anchors GitHub makes: lower case, punctuation dropped, spaces to "-", "-1" for repeats. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence: string | undefined;
  for (const l of text.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(l);
    if (fence) { if (m && l.trimStart().startsWith(fence)) fence = undefined; continue; }
    if (m) { fence = m[1]; continue; }
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!h) continue;
    const base = h[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
