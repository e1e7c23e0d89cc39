import { fstatSync } from 'node:fs';

// Terminal styling: colour only on a TTY, and never when NO_COLOR is set.
export interface Style {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const wrap = (code: number, reset: number) => (s: string) => `\x1b[${code}m${s}\x1b[${reset}m`;
const plain = (s: string) => s;

/**
 * For a file descriptor (1 = stdout). A terminal is a character device; node:tty would tell exactly
 * but loads node:net, which costs more start-up time than the whole validation.
 */
export function styleFor(fd: number): Style {
  let terminal = false;
  try {
    terminal = fstatSync(fd).isCharacterDevice();
  } catch {
    // closed descriptor: no colour
  }
  const colour =
    terminal && !('NO_COLOR' in process.env) && process.env.TERM !== undefined && process.env.TERM !== 'dumb';
  return colour
    ? { red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), bold: wrap(1, 22), dim: wrap(2, 22) }
    : { red: plain, yellow: plain, green: plain, bold: plain, dim: plain };
}
