import type { InputError } from '../core/result.js';
import { helpText, type CommandSpec } from './usage.js';

export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** What a command may do to the outside world; the CLI entry wires it to the process. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
  help(spec: CommandSpec): number;
  inputError(e: InputError): number;
}

export const processIO: CommandIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  help(spec) {
    process.stdout.write(helpText(spec));
    return EXIT.ok;
  },
  inputError(e) {
    process.stderr.write(`ovactl: ${e.origin}: ${e.message}\n`);
    return EXIT.usage;
  },
};
