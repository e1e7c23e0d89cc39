import { writeSync } from 'node:fs';
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

/**
 * Whole writes straight to the file descriptor: touching process.stdout builds a stream stack that
 * costs milliseconds at every start, and a CLI that prints once and exits needs none of it.
 */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe that is full: try again
      if (code === 'EPIPE') return; // the reader went away (e.g. `| head`)
      throw e;
    }
  }
}

export const processIO: CommandIO = {
  stdout: (t) => writeAll(1, t),
  stderr: (t) => writeAll(2, t),
  help(spec) {
    writeAll(1, helpText(spec));
    return EXIT.ok;
  },
  inputError(e) {
    writeAll(2, `ovactl: ${e.origin}: ${e.message}\n`);
    return EXIT.usage;
  },
};
