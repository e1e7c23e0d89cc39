// Argument parsing shared by the commands: node:util parseArgs (no dependency), `--help` everywhere,
// and usage errors as values (exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  /** Lazily compiled command chunks carry their own copy of this class: main tests this, not instanceof. */
  readonly usageError = true;
}

export const isUsageError = (e: unknown): e is UsageError =>
  typeof e === 'object' && e !== null && (e as { usageError?: unknown }).usageError === true;

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly help: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
}

export function parse(
  spec: CommandSpec,
  argv: string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  try {
    const r = parseArgs({ args: argv, options: spec.options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? unknownOption(spec, argv) : undefined;
    if (unknown) throw new UsageError(unknown);
    // parseArgs messages are one clear line, e.g. "Unknown option '--jsn'".
    throw new UsageError((e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
  }
}

/** Edit distance (insert, delete, replace, swap two neighbours). */
function distance(a: string, b: string): number {
  const row = (i: number) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0));
  const d = Array.from({ length: a.length + 1 }, (_, i) => row(i));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      if (swapped) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word nearest to `word`, when it is near: at most 2 edits, and fewer than a third of it. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  if (word.length > 64) return undefined; // a hostile argument costs no quadratic time
  let best: { w: string; d: number } | undefined;
  for (const w of known) {
    const d = distance(word.toLowerCase(), w);
    if (d <= 2 && d * 3 <= w.length && (!best || d < best.d)) best = { w, d };
  }
  return best?.w;
}

/** "Unknown option '-json'; did you mean --json?": govc's one-dash flags and misspelt long ones. */
function unknownOption(spec: CommandSpec, argv: readonly string[]): string | undefined {
  const known = [...Object.keys(spec.options).map((o) => `--${o}`), '--help'];
  for (const arg of argv) {
    if (arg === '--') break;
    const name = arg.split('=')[0]!;
    if (!name.startsWith('-') || name === '-' || known.includes(name)) continue;
    const short = !name.startsWith('--') && name.length === 2;
    if (short && Object.values(spec.options).some((o) => o.short === name[1])) continue;
    const near = suggest(name.startsWith('--') ? name : `-${name}`, known);
    return `unknown option ${JSON.stringify(name)}${near ? `; did you mean ${near}?` : ''}`;
  }
  return undefined;
}

/** The help; only blank lines are trimmed, so a first line indented as a table row stays aligned. */
export const helpText = (spec: CommandSpec): string =>
  `Usage: ${spec.usage}\n\n${spec.summary}\n\n${spec.help.replace(/^\n+/, '').trimEnd()}\n`;
