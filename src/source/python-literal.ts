// The deploy values as the Supervisor prints them in its log: a Python dict repr with single quotes
// (seed 003), e.g. {'network.hostname': 'haproxy.local', 'appliance.permit_root_login': 'True'}.
// Pasted logs get cut: a value whose closing quote is missing before the end of its line is read up
// to the line's end (minus a trailing comma) and reported, so one damaged line does not hide the rest.
import { err, ok, type Result } from '../core/result.js';

export interface LiteralPair {
  readonly key: string;
  readonly value: string | null;
  /** Set when the value's closing quote was missing and it was recovered at the end of the line. */
  readonly recovered?: boolean;
}

const STRUCTURAL = '{}[],:';

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };

class Reader {
  i = 0;
  constructor(readonly s: string) {}
  get line(): number {
    let n = 1;
    for (let k = this.s.indexOf('\n'); k !== -1 && k < this.i; k = this.s.indexOf('\n', k + 1)) n++;
    return n;
  }
  skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  peek(): string | undefined {
    return this.s[this.i];
  }
}

type Scalar = { value: string | null; recovered?: boolean };

function readString(r: Reader): Result<Scalar, string> {
  const quote = r.s[r.i++]!;
  let out = '';
  while (r.i < r.s.length) {
    const c = r.s[r.i++]!;
    if (c === quote) return ok({ value: out });
    if (c === '\n') {
      // Unterminated on this line: recover what the line held.
      return ok({ value: out.replace(/,\s*$/, '').trimEnd(), recovered: true });
    }
    if (c === '\\') {
      const e = r.s[r.i++];
      if (e === 'x' || e === 'u') {
        const n = e === 'x' ? 2 : 4;
        const hex = r.s.slice(r.i, r.i + n);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) return err(`bad \\${e} escape on line ${r.line}`);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        r.i += n;
      } else if (e !== undefined && e in ESCAPES) out += ESCAPES[e];
      else out += '\\' + (e ?? '');
      continue;
    }
    out += c;
  }
  return err(`unterminated string on line ${r.line}`);
}

function readScalar(r: Reader): Result<Scalar, string> {
  const c = r.peek();
  if (c === "'" || c === '"') return readString(r);
  if ((c === 'u' || c === 'r') && (r.s[r.i + 1] === "'" || r.s[r.i + 1] === '"')) {
    r.i++; // u'…' from Python 2 logs
    return readString(r);
  }
  const m = /^(None|True|False|-?\d{1,20}(?:\.\d{1,20})?)/.exec(r.s.slice(r.i, r.i + 48));
  // Only structural characters are named: any other character may be part of a secret.
  if (!m) {
    const what = c === undefined ? 'end of input' : STRUCTURAL.includes(c) ? JSON.stringify(c) : 'text';
    return err(`unexpected ${what} on line ${r.line}`);
  }
  r.i += m[1]!.length;
  return ok({ value: m[1] === 'None' ? null : m[1]! });
}

/** Parses `{ 'k': 'v', … }`. Only flat string-to-scalar maps: that is all the log ever holds. */
export function parsePythonDict(text: string): Result<LiteralPair[], string> {
  const r = new Reader(text);
  r.skipSpace();
  if (r.peek() !== '{') return err('expected "{" at the start');
  r.i++;
  const pairs: LiteralPair[] = [];
  for (;;) {
    r.skipSpace();
    if (r.peek() === '}') {
      r.i++;
      break;
    }
    const k = readScalar(r);
    if (!k.ok) return k;
    if (k.value.value === null || k.value.recovered)
      return err(`a key is not a complete quoted string on line ${r.line}`);
    r.skipSpace();
    // A stray quote can make a password the "key".
    if (r.peek() !== ':') return err(`expected ":" after the key that ends on line ${r.line}`);
    r.i++;
    r.skipSpace();
    const v = readScalar(r);
    if (!v.ok) return v;
    pairs.push({ key: k.value.value, value: v.value.value, ...(v.value.recovered ? { recovered: true } : {}) });
    r.skipSpace();
    if (v.value.recovered) continue; // the line's end stood in for the comma
    const c = r.peek();
    if (c === ',') r.i++;
    else if (c !== '}') return err(`expected "," or "}" on line ${r.line}`);
  }
  r.skipSpace();
  if (r.i < r.s.length) return err(`unexpected text after "}" on line ${r.line}`);
  return ok(pairs);
}
