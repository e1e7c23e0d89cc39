// Argument parsing shared by the commands: node:util parseArgs (no dependency), `--help` everywhere,
// and usage errors as values (exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  /** Lazily compiled command chunks carry their own copy of this class: main tests this, not instanceof. */
  readonly usageError = true;
}

export const isUsageError = (e: unknown): e is UsageError => typeof e === 'object' && e !== null && (e as { usageError?: unknown }).usageError === true;

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly help: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
}

export function parse(spec: CommandSpec, argv: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  try {
    const r = parseArgs({ args: argv, options: spec.options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    // parseArgs messages are one clear line, e.g. "Unknown option '--jsn'".
    throw new UsageError((e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
  }
}

export const helpText = (spec: CommandSpec): string => `Usage: ${spec.usage}\n\n${spec.summary}\n\n${spec.help.trim()}\n`;
