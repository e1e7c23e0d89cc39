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

export function styleFor(stream: NodeJS.WriteStream): Style {
  const colour = stream.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  return colour
    ? { red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), bold: wrap(1, 22), dim: wrap(2, 22) }
    : { red: plain, yellow: plain, green: plain, bold: plain, dim: plain };
}
