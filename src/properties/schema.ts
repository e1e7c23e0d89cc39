// The input edge: raw deploy values (strings or null, as every source delivers them) → one typed,
// normalised Properties object. The zod schema is generated from the property table, one field
// schema per kind; meaning (CIDRs, ranges, cross-field) is checked later by the rules in validate/.
// zod's tree-shakable "mini" build: the full build costs ~8 ms of start-up on every boot and validate.
import * as z from 'zod/v4-mini';
import { PROPERTIES, type Kind, type PropertyKey, type PropertySpec } from './table.js';
import { repairPem } from './pem.js';
import { isCidr, parseCidr, parseIp } from '../net/ip.js';

type ListKind = 'addressList' | 'hostList' | 'networkList' | 'peerList';
export type ValueOfKind<K extends Kind> = K extends 'boolean'
  ? boolean
  : K extends 'port' | 'integer'
    ? number
    : K extends ListKind
      ? readonly string[]
      : string;

type Table = (typeof PROPERTIES)[number];
/** Normalised deploy values. A key is absent when it is unset and has no default (e.g. DHCP). */
export type Properties = { readonly [P in Table as P['key']]?: ValueOfKind<P['kind']> };

/** Raw values as a source delivers them, by canonical key. */
export type RawValues = ReadonlyMap<PropertyKey, string | null>;

const BOOLEANS: Record<string, boolean> = {
  true: true,
  yes: true,
  on: true,
  '1': true,
  false: false,
  no: false,
  off: false,
  '0': false,
};

/** Comma lists tolerate spaces, a trailing comma, and whitespace as a separator. */
export const splitList = (s: string): string[] => s.split(/[\s,]+/).filter((x) => x.length > 0);

type Ctx = { issues: unknown[] };
const problem = (ctx: Ctx, input: string, rule: string, message: string, hint: string) => {
  ctx.issues.push({ code: 'custom', message, input, params: { rule, hint } });
  return z.NEVER;
};

const text = z.string();
const list = z.pipe(z.string(), z.transform(splitList));
// What gets rendered is the parser's canonical text, never the input: a value that does not parse is
// kept as written only so the rules can quote it (and then nothing is rendered).
const canonIp = (s: string): string => parseIp(s)?.text ?? s;
const canonCidr = (s: string): string => {
  const c = parseCidr(s);
  return isCidr(c) ? c.text : s;
};
const ipText = z.pipe(z.string(), z.transform(canonIp));
const cidrText = z.pipe(z.string(), z.transform(canonCidr));
/** Nameservers: an address given twice is used once (rule nameservers.duplicate warns). */
const ipSet = z.pipe(
  z.string(),
  z.transform((s: string) => [...new Set(splitList(s).map(canonIp))]),
);
const ipList = z.pipe(
  z.string(),
  z.transform((s: string) => splitList(s).map(canonIp)),
);
const cidrList = z.pipe(
  z.string(),
  z.transform((s: string) => splitList(s).map(canonCidr)),
);
const pem = z.pipe(
  z.string(),
  z.transform((s: string) => repairPem(s) ?? s),
);

const KIND_SCHEMAS: Record<Kind, z.ZodMiniType<unknown, string>> = {
  password: text, // kept exactly as typed: a password may legitimately begin with a space or '-'
  boolean: z.pipe(
    z.string(),
    z.transform(
      (s: string, ctx: Ctx) =>
        BOOLEANS[s.toLowerCase()] ?? problem(ctx, s, 'boolean.syntax', 'is not a boolean', 'write True or False'),
    ),
  ),
  certificate: pem,
  privateKey: pem,
  // DNS names are case-insensitive; /etc/hostname, the certificate and the prompt get lower case
  // (rule hostname.case warns when the value had upper case).
  hostname: z.pipe(
    z.string(),
    z.transform((s: string) => s.replace(/\.$/, '').toLowerCase()),
  ),
  addressList: ipSet,
  hostList: ipList, // host names pass unchanged
  interfaceAddress: cidrText,
  address: ipText,
  networkList: cidrList,
  port: z.pipe(
    z.string(),
    z.transform((s: string, ctx: Ctx) =>
      /^\d{1,5}$/.test(s)
        ? Number(s)
        : problem(ctx, s, 'port.syntax', 'is not a port number', 'write a whole number from 1 to 65535, e.g. 5556'),
    ),
  ),
  userName: text,
  asNumber: text,
  routerId: text,
  peerList: list,
  ospfArea: text,
  rhiRules: text,
  syslogServer: text, // parsed by the syslog.* rules and the plan (src/syslog/server.ts)
  integer: z.pipe(
    z.string(),
    z.transform((s: string, ctx: Ctx) =>
      /^\d{1,9}$/.test(s)
        ? Number(s)
        : problem(ctx, s, 'integer.syntax', 'is not a whole number', 'write a whole number, e.g. 100'),
    ),
  ),
};

/** `""`, the literal `null` (some ESXi paths) and a missing key all mean unset. Passwords are not trimmed. */
function preprocess(spec: PropertySpec, raw: unknown): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const s = String(raw);
  const trimmed = s.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'null') return undefined;
  return spec.kind === 'password' ? s : trimmed;
}

/** The field schema of one property: unset → the table default → the kind's schema. */
const fieldSchema = (spec: PropertySpec) =>
  z.pipe(
    z.transform((raw: unknown) => preprocess(spec, raw) ?? spec.default),
    z.optional(KIND_SCHEMAS[spec.kind]),
  );

/**
 * The whole property set as one zod object, built from the same field schemas. ovactl itself does not
 * use it (validation runs the field schemas one by one in normalise(), which keeps `ovactl validate`
 * quick to start); test/table.test.ts parses with it to prove the two agree.
 */
let objectSchema: z.ZodMiniObject<Record<PropertyKey, ReturnType<typeof fieldSchema>>> | undefined;
export function propertiesSchema() {
  objectSchema ??= z.object(
    Object.fromEntries(PROPERTIES.map((p) => [p.key, fieldSchema(p)])) as Record<
      PropertyKey,
      ReturnType<typeof fieldSchema>
    >,
  );
  return objectSchema;
}

export interface TypeProblem {
  readonly key: PropertyKey;
  /** The validation rule it is reported under, e.g. `boolean.syntax`. */
  readonly rule: string;
  readonly message: string;
  readonly hint?: string;
}

/**
 * Longest value accepted: the descriptor's MaxLen for the PEM fields (65535), 4096 characters for the
 * rest. Anything longer is refused as a whole, before it is split into thousands of list entries.
 */
const maxLength = (spec: PropertySpec): number => Math.max(spec.qualifiers?.maxLen ?? 0, 4096);

/** Field by field, so one bad value does not hide the others. */
export function normalise(raw: RawValues): { properties: Properties; problems: TypeProblem[] } {
  const out: Record<string, unknown> = {};
  const problems: TypeProblem[] = [];
  for (const p of PROPERTIES as readonly (PropertySpec & { key: PropertyKey })[]) {
    const value = preprocess(p, raw.get(p.key)) ?? p.default;
    if (value === undefined) continue;
    const length = [...value].length;
    if (length > maxLength(p)) {
      problems.push({
        key: p.key,
        rule: 'value.too-long',
        message: `is ${length} characters long; at most ${maxLength(p)} are accepted`,
        hint: `check that ${p.key} holds only its own value`,
      });
      continue;
    }
    const r = KIND_SCHEMAS[p.kind].safeParse(value);
    if (r.success) {
      out[p.key] = r.data;
    } else {
      const issue = r.error.issues[0]! as { message: string; params?: { rule?: string; hint?: string } };
      const base = { key: p.key, rule: issue.params?.rule ?? `${p.kind}.syntax`, message: issue.message };
      problems.push(issue.params?.hint ? { ...base, hint: issue.params.hint } : base);
    }
  }
  return { properties: out as Properties, problems };
}

/** Whether the source itself set the key (as opposed to a default filling it). */
export const isSetIn = (raw: RawValues, key: PropertyKey): boolean => {
  const spec = PROPERTIES.find((p) => p.key === key)!;
  return preprocess(spec, raw.get(key)) !== undefined;
};
