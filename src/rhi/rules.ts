// The route health injection rules: HAProxy Enterprise's RHI syntax (seed 004), same meaning.
//
//   [%protocol ]network[, network…] = all|any|never(b:backend|f:frontend, …)   # comment
//   protocol%network                    (the seed's example spelling of the same thing)
//   auto                                (one /32 or /128 per VIP bound by a haproxy frontend; auto.ts)
//
// A network without a prefix length is one address (/32, /128). `%name` picks the BIRD static
// protocol the route is injected into; without it IPv4 routes go to `rhi` and IPv6 routes to `rhi6`.
// Rules are separated by line breaks or ";" (the OVF property is one line). Every error is reported
// with its line and column, all of them in one pass; pure and small: `ovactl validate` loads it.
import { hasHostBits, hostRange, networkText, parseIp, type Family } from '../net/ip.js';

/** The rules file the daemon follows; first boot writes it from the rhi.rules property. */
export const RULES_FILE = '/etc/ovactl/rhi.rules';

export type Aggregate = 'all' | 'any' | 'never';
const AGGREGATES: readonly Aggregate[] = ['all', 'any', 'never'];

/** The BIRD static protocols routes go to when a rule names none. */
export const DEFAULT_PROTOCOL: Record<Family, string> = { 4: 'rhi', 6: 'rhi6' };

export interface Target {
  /** The route, canonical: `203.0.113.10/32`. */
  readonly network: string;
  readonly family: Family;
  readonly protocol: string;
  /** Whether the rule named the protocol (`%name`). */
  readonly explicitProtocol: boolean;
  readonly column: number;
}

export interface Ref {
  /** `b`: a backend (or the backend side of a listen section); `f`: a frontend. */
  readonly kind: 'b' | 'f';
  readonly name: string;
}

export interface RuleDef {
  readonly line: number;
  readonly column: number;
  readonly targets: readonly Target[];
  readonly aggregate: Aggregate;
  readonly refs: readonly Ref[];
  /** The rule as written, trimmed. */
  readonly source: string;
}

export type ErrorKind =
  | 'syntax'
  | 'network'
  | 'prefix'
  | 'host-bits'
  | 'protocol'
  | 'aggregate'
  | 'reference'
  | 'empty'
  | 'duplicate'
  | 'family'
  | 'auto';

export interface RuleError {
  readonly kind: ErrorKind;
  readonly line: number;
  /** 1-based, in characters. */
  readonly column: number;
  readonly message: string;
  readonly hint?: string;
}

export interface ParsedRules {
  readonly rules: readonly RuleDef[];
  /** Where `auto` was given, if it was. */
  readonly auto?: { readonly line: number; readonly column: number };
  readonly errors: readonly RuleError[];
}

export const refText = (r: Ref): string => `${r.kind}:${r.name}`;
const targetText = (t: Target): string => `${t.explicitProtocol ? `%${t.protocol} ` : ''}${t.network}`;
/** A rule in canonical form: `%vol1 192.0.2.10/32 = all(b:be_static, b:be_app)`. */
export const ruleText = (r: Pick<RuleDef, 'targets' | 'aggregate' | 'refs'>): string =>
  `${r.targets.map(targetText).join(', ')} = ${r.aggregate}(${r.refs.map(refText).join(', ')})`;

const PROTOCOL_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
/** haproxy proxy names: letters, digits, "-", "_", ".", ":". */
const PROXY_NAME = /^[A-Za-z0-9_.:-]+/;
const MAX_PROTOCOL_NAME = 32;
/**
 * Names a static protocol cannot have in the generated bird.conf: BIRD keywords people are likely
 * to type, and the names of the appliance's other protocols.
 */
const RESERVED = new RegExp(
  '^(' +
    'all|any|none|bgp|ospf|static|kernel|device|direct|bfd|rip|babel|rpki|pipe|perf|mrt|radv|ipv4|ipv6|' +
    'table|protocol|filter|function|define|route|import|export|where|from|to|via|true|false|on|off|yes|no|' +
    String.raw`peer\d+|ospf\d+` +
    ')$',
  'i',
);

/** Thrown inside one rule's parse; not an Error, so a line of 100,000 bad rules builds no stack traces. */
class LineError {
  constructor(
    readonly kind: ErrorKind,
    readonly index: number,
    readonly message: string,
    readonly hint?: string,
  ) {}
}

/**
 * Columns (1-based, in characters) of string indexes on one line, counted forward from the last one
 * asked: counting from the line's start for every rule made 8,000 rules on one line quadratic.
 */
class Columns {
  private index = 0;
  private column = 1;
  constructor(private readonly line: string) {}
  of(index: number): number {
    if (index < this.index) {
      this.index = 0;
      this.column = 1;
    }
    for (; this.index < index; this.index++) {
      const u = this.line.charCodeAt(this.index);
      if (u < 0xdc00 || u > 0xdfff) this.column++; // a low surrogate belongs to the character before
    }
    return this.column;
  }
}

/** Longest line parsed: the one-line rhi.rules property with thousands of rules (8,000: 220 KiB) fits. */
const MAX_RULES_LINE = 512 * 1024;
/** Largest rules file read (about 19,000 rules): parsing stays linear, and bounded in time too. */
export const MAX_RULES_BYTES = 512 * 1024;
/** Errors reported before parsing stops. */
const MAX_ERRORS = 1000;
/** Set for one parseRules call (which is synchronous): validate's secrets, never quoted. */
let isSecret: (s: string) => boolean = () => false;
const quote = (s: string): string =>
  isSecret(s) ? '(a value equal to a secret, not shown)' : JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s);

/** One rule (or `auto`) from `line`, between `start` and `end` (a ";", a "#" or the end of the line). */
class Cursor {
  constructor(
    readonly text: string,
    public pos: number,
    readonly end: number,
  ) {}
  ws(): void {
    while (this.pos < this.end && /\s/.test(this.text[this.pos]!)) this.pos++;
  }
  peek(): string | undefined {
    return this.pos < this.end ? this.text[this.pos] : undefined;
  }
  match(re: RegExp): string | undefined {
    const m = re.exec(this.text.slice(this.pos, this.end));
    if (!m || m.index !== 0) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  /** The word at the cursor (for messages), without moving. */
  word(): string {
    return /^[^\s,()=;#]*/.exec(this.text.slice(this.pos, this.end))![0] || (this.peek() ?? '');
  }
  atEnd(): boolean {
    return this.pos >= this.end;
  }
}

type RawTarget = { protocol?: string; network: string; family: Family; index: number };

function parseTarget(c: Cursor): RawTarget {
  const start = c.pos;
  let protocol: string | undefined;
  if (c.peek() === '%') {
    c.pos++;
    const name = c.match(PROTOCOL_NAME);
    if (!name)
      throw new LineError(
        'protocol',
        c.pos,
        `expected a BIRD protocol name after "%", found ${quote(c.word())}`,
        'a name of letters, digits and "_", starting with a letter, e.g. %vol1 192.0.2.10/32',
      );
    protocol = name;
    if (c.peek() === '%')
      c.pos++; // "%vol1%192.0.2.10": tolerated
    else if (c.peek() === undefined || !/\s/.test(c.peek()!)) {
      throw new LineError(
        'protocol',
        c.pos,
        `expected a space between the protocol name ${quote(name)} and the network`,
        'write "%vol1 192.0.2.10/32" (with a space) or "vol1%192.0.2.10/32": without a separator a name ending ' +
          'in digits and an address cannot be told apart',
      );
    }
    c.ws();
  } else {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)%/.exec(c.text.slice(c.pos, c.end));
    if (m) {
      protocol = m[1]!;
      c.pos += m[0].length;
    }
  }
  if (protocol !== undefined) {
    const at = start + (c.text[start] === '%' ? 1 : 0);
    if (protocol.length > MAX_PROTOCOL_NAME)
      throw new LineError(
        'protocol',
        at,
        `the protocol name ${quote(protocol)} is longer than ${MAX_PROTOCOL_NAME} characters`,
        'use a shorter name',
      );
    if (RESERVED.test(protocol))
      throw new LineError(
        'protocol',
        at,
        `${quote(protocol)} cannot name a route protocol: BIRD or the appliance uses it`,
        'use another name, e.g. vol1',
      );
  }
  const netStart = c.pos;
  const token = c.match(/^[^\s,=()#;]+/);
  if (!token)
    throw new LineError(
      'network',
      c.pos,
      c.atEnd()
        ? 'expected a network (an IPv4 or IPv6 address, optionally with /prefix)'
        : `expected a network, found ${quote(c.word())}`,
      'e.g. 192.0.2.10 or 192.0.2.0/28',
    );
  const slash = token.indexOf('/');
  const addrText = slash < 0 ? token : token.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) {
    const hint = /^\d+\.\d+\.\d+$/.test(addrText)
      ? 'an IPv4 address has four parts, e.g. 192.0.2.10'
      : /%/.test(addrText)
        ? 'a protocol name goes before the network: %vol1 192.0.2.10 or vol1%192.0.2.10'
        : 'write an IPv4 or IPv6 address, e.g. 192.0.2.10 or 2001:db8::10';
    throw new LineError('network', netStart, `${quote(addrText)} is not an IP address`, hint);
  }
  const bits = ip.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const len = token.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > bits) {
      throw new LineError(
        'prefix',
        netStart + slash + 1,
        `${quote(`/${len}`)} is not a prefix length of an IPv${ip.family} network (0–${bits})`,
        `e.g. ${ip.text}/${bits} for the one address`,
      );
    }
    prefix = Number(len);
  }
  const mask = (1n << BigInt(bits - prefix)) - 1n;
  const cidr = {
    family: ip.family,
    address: ip,
    prefix,
    network: ip.value & ~mask,
    last: (ip.value & ~mask) | mask,
    text: `${ip.text}/${prefix}`,
  };
  if (hasHostBits(cidr)) {
    const h = hostRange(cidr);
    throw new LineError(
      'host-bits',
      netStart,
      `${quote(token)} has host bits set; BIRD refuses such a route`,
      `use ${networkText(cidr)} (${h.first}–${h.last}), or ${ip.text}/${bits} for the one address`,
    );
  }
  return {
    ...(protocol !== undefined ? { protocol } : {}),
    network: networkText(cidr),
    family: ip.family,
    index: start,
  };
}

function parseRule(c: Cursor): { targets: RawTarget[]; aggregate: Aggregate; refs: Ref[] } {
  const targets: RawTarget[] = [parseTarget(c)];
  c.ws();
  while (c.peek() === ',') {
    c.pos++;
    c.ws();
    targets.push(parseTarget(c));
    c.ws();
  }
  if (c.peek() !== '=') {
    throw new LineError(
      'syntax',
      c.pos,
      c.atEnd()
        ? 'expected "=" and a condition after the networks'
        : `expected "=" or "," after the network, found ${quote(c.word())}`,
      'e.g. 192.0.2.10 = all(b:be_app)',
    );
  }
  c.pos++;
  c.ws();
  const aggAt = c.pos;
  const agg = c.match(/^[A-Za-z_]+/);
  if (!agg)
    throw new LineError(
      'aggregate',
      aggAt,
      `expected all, any or never after "=", found ${quote(c.word())}`,
      'e.g. all(b:be_app)',
    );
  if (!(AGGREGATES as readonly string[]).includes(agg.toLowerCase())) {
    throw new LineError(
      'aggregate',
      aggAt,
      `unknown condition ${quote(agg)}`,
      'use all (every listed proxy up), any (at least one up) or never (always withdrawn)',
    );
  }
  const aggregate = agg.toLowerCase() as Aggregate;
  c.ws();
  if (c.peek() !== '(')
    throw new LineError(
      'syntax',
      c.pos,
      `expected "(" after ${aggregate}, found ${c.atEnd() ? 'the end of the rule' : quote(c.word())}`,
      `e.g. ${aggregate}(b:be_app)`,
    );
  c.pos++;
  c.ws();
  const refs: Ref[] = [];
  if (c.peek() === ')') {
    if (aggregate !== 'never')
      throw new LineError(
        'empty',
        c.pos,
        `${aggregate}() names no frontend or backend`,
        `list at least one, e.g. ${aggregate}(b:be_app)`,
      );
  } else {
    for (;;) {
      const at = c.pos;
      const m = /^([A-Za-z]+):/.exec(c.text.slice(c.pos, c.end));
      if (!m) {
        const w = c.word();
        throw new LineError(
          'reference',
          at,
          w
            ? `expected b:NAME or f:NAME, found ${quote(w)}`
            : `expected b:NAME or f:NAME, found ${c.atEnd() ? 'the end of the rule' : quote(c.peek()!)}`,
          w && PROXY_NAME.test(w)
            ? `b:${w} for the backend ${w}, f:${w} for the frontend`
            : 'b: names a backend, f: a frontend',
        );
      }
      const kind = m[1]!.toLowerCase();
      if (kind !== 'b' && kind !== 'f')
        throw new LineError(
          'reference',
          at,
          `unknown proxy type ${quote(`${m[1]}:`)}`,
          'b: names a backend, f: a frontend',
        );
      c.pos += m[0].length;
      const name = c.match(PROXY_NAME);
      if (!name)
        throw new LineError(
          'reference',
          c.pos,
          `expected the name of a ${kind === 'b' ? 'backend' : 'frontend'} after "${kind}:"`,
          'haproxy names use letters, digits, "-", "_", "." and ":"',
        );
      if (!refs.some((r) => r.kind === kind && r.name === name)) refs.push({ kind, name });
      c.ws();
      if (c.peek() === ',') {
        c.pos++;
        c.ws();
        continue;
      }
      if (c.peek() === ')') break;
      throw new LineError(
        'syntax',
        c.pos,
        c.atEnd()
          ? `expected ")" to close ${aggregate}(`
          : `expected "," or ")" after ${kind}:${name}, found ${quote(c.word())}`,
        `e.g. ${aggregate}(b:be_static, b:be_app)`,
      );
    }
  }
  c.pos++; // ")"
  c.ws();
  if (!c.atEnd())
    throw new LineError(
      'syntax',
      c.pos,
      `unexpected ${quote(c.word())} after the rule`,
      'one rule per line (or separate rules with ";"); comments start with "#"',
    );
  return { targets, aggregate, refs };
}

/** Parses a rules file (or the one-line `rhi.rules` property): every rule, and every error. */
/** `secret`: text the messages must not quote (validate passes the deploy values' secrets). */
export function parseRules(text: string, secret?: (s: string) => boolean): ParsedRules {
  isSecret = secret ?? (() => false);
  try {
    return parseAllRules(text);
  } finally {
    isSecret = () => false;
  }
}

function parseAllRules(text: string): ParsedRules {
  const rules: RuleDef[] = [];
  const errors: RuleError[] = [];
  let auto: { line: number; column: number } | undefined;
  const lines = text.split(/\r?\n/);
  let stopped = false;
  lines.forEach((line, i) => {
    if (stopped) return;
    const lineNo = i + 1;
    if (line.length > MAX_RULES_LINE) {
      errors.push({
        kind: 'syntax',
        line: lineNo,
        column: 1,
        message: `line ${lineNo} is ${line.length} characters long; at most ${MAX_RULES_LINE} are read`,
        hint: 'one rule a line, or fewer rules',
      });
      return;
    }
    const col = new Columns(line);
    const columnOf = (_line: string, index: number): number => col.of(index);
    const hash = line.indexOf('#');
    const body = hash < 0 ? line.length : hash;
    let start = 0;
    while (start <= body) {
      if (errors.length >= MAX_ERRORS) {
        // A compiler's rule: past this many errors the rest is noise, and parsing it costs time.
        errors.push({
          kind: 'syntax',
          line: lineNo,
          column: columnOf(line, start),
          message: `more than ${MAX_ERRORS} errors; the rest of the file was not read`,
          hint: 'fix the first errors and check again',
        });
        stopped = true;
        return;
      }
      let end = line.indexOf(';', start);
      if (end < 0 || end > body) end = body;
      const c = new Cursor(line, start, end);
      c.ws();
      if (!c.atEnd()) {
        const at = c.pos;
        const atColumn = columnOf(line, at);
        if (c.match(/^auto\b/i)) {
          c.ws();
          if (!c.atEnd())
            errors.push({
              kind: 'auto',
              line: lineNo,
              column: columnOf(line, c.pos),
              message: `unexpected ${quote(c.word())} after auto`,
              hint: '"auto" stands alone on its line (or between ";")',
            });
          else if (auto)
            errors.push({
              kind: 'auto',
              line: lineNo,
              column: atColumn,
              message: `auto is given twice (first on line ${auto.line})`,
              hint: 'remove one',
            });
          else auto = { line: lineNo, column: atColumn };
        } else {
          try {
            const r = parseRule(c);
            rules.push({
              line: lineNo,
              column: atColumn,
              targets: r.targets.map((t) => ({
                network: t.network,
                family: t.family,
                protocol: t.protocol ?? DEFAULT_PROTOCOL[t.family],
                explicitProtocol: t.protocol !== undefined,
                column: columnOf(line, t.index),
              })),
              aggregate: r.aggregate,
              refs: r.refs,
              source: line.slice(at, end).trim(),
            });
          } catch (e) {
            if (!(e instanceof LineError)) throw e;
            errors.push({
              kind: e.kind,
              line: lineNo,
              column: columnOf(line, e.index),
              message: e.message,
              ...(e.hint !== undefined ? { hint: e.hint } : {}),
            });
          }
        }
      }
      start = end + 1;
    }
  });
  errors.push(...crossRuleErrors(rules));
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { rules, ...(auto ? { auto } : {}), errors };
}

/** Errors between rules: one network announced by two rules, one protocol given two families. */
function crossRuleErrors(rules: readonly RuleDef[]): RuleError[] {
  const errors: RuleError[] = [];
  const networks = new Map<string, RuleDef>();
  const families = new Map<string, { family: Family; rule: RuleDef }>();
  const defaults = new Map(Object.entries(DEFAULT_PROTOCOL).map(([f, name]) => [name, Number(f) as Family]));
  for (const r of rules) {
    for (const t of r.targets) {
      const first = networks.get(t.network);
      if (first) {
        errors.push({
          kind: 'duplicate',
          line: r.line,
          column: t.column,
          message:
            `${t.network} is already announced by the rule on line ${first.line}` +
            `${first === r ? ' (this one)' : ''}`,
          hint: 'one rule per network: merge the conditions, or remove one',
        });
        continue;
      }
      networks.set(t.network, r);
      const fixed = defaults.get(t.protocol);
      if (fixed !== undefined && fixed !== t.family) {
        errors.push({
          kind: 'family',
          line: r.line,
          column: t.column,
          message: `protocol ${t.protocol} carries IPv${fixed} routes; ${t.network} is IPv${t.family}`,
          hint:
            `leave out %${t.protocol} (IPv${t.family} routes go to ${DEFAULT_PROTOCOL[t.family]}), ` +
            'or name another protocol',
        });
        continue;
      }
      const seen = families.get(t.protocol);
      if (seen && seen.family !== t.family) {
        errors.push({
          kind: 'family',
          line: r.line,
          column: t.column,
          message:
            `protocol ${t.protocol} already carries IPv${seen.family} routes (line ${seen.rule.line}); ` +
            `${t.network} is IPv${t.family}`,
          hint: 'a BIRD static protocol holds one address family: name another protocol for these routes',
        });
        continue;
      }
      if (!seen) families.set(t.protocol, { family: t.family, rule: r });
    }
  }
  return errors;
}

/** `FILE:LINE:COLUMN: message` — the form compilers use, which editors jump to. */
export const describeError = (origin: string, e: RuleError): string =>
  `${origin}:${e.line}:${e.column}: ${e.message}${e.hint ? `\n  fix: ${e.hint}` : ''}`;

/** The protocols the rules put routes into, with their family (the defaults included when used). */
export function protocolsOf(rules: readonly Pick<RuleDef, 'targets'>[]): Map<string, Family> {
  const out = new Map<string, Family>();
  for (const r of rules) for (const t of r.targets) if (!out.has(t.protocol)) out.set(t.protocol, t.family);
  return out;
}
