// The input edge: raw deploy values (strings or null, as every source delivers them) → one typed,
// normalised Properties object. The zod schema is generated from the property table, one field
// schema per kind; meaning (CIDRs, ranges, cross-field) is checked later by the rules in validate/.
import { z } from 'zod';
import { PROPERTIES, type Kind, type PropertyKey, type PropertySpec } from './table.js';
import { repairPem } from './pem.js';

type ListKind = 'addressList' | 'hostList' | 'networkList';
export type ValueOfKind<K extends Kind> = K extends 'boolean' ? boolean : K extends 'port' ? number : K extends ListKind ? readonly string[] : string;

type Table = (typeof PROPERTIES)[number];
/** Normalised deploy values. A key is absent when it is unset and has no default (e.g. DHCP). */
export type Properties = { readonly [P in Table as P['key']]?: ValueOfKind<P['kind']> };

/** Raw values as a source delivers them, by canonical key. */
export type RawValues = ReadonlyMap<PropertyKey, string | null>;

const BOOLEANS: Record<string, boolean> = { true: true, yes: true, on: true, '1': true, false: false, no: false, off: false, '0': false };

/** Comma lists tolerate spaces, a trailing comma, and whitespace as a separator. */
export const splitList = (s: string): string[] => s.split(/[\s,]+/).filter((x) => x.length > 0);

const text = z.string();
const list = z.string().transform(splitList);

const KIND_SCHEMAS: Record<Kind, z.ZodType<unknown, z.ZodTypeDef, string>> = {
  password: text, // kept exactly as typed: a password may legitimately begin with a space or '-'
  boolean: z.string().transform((s, ctx) => {
    const b = BOOLEANS[s.toLowerCase()];
    if (b === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is not a boolean', params: { hint: 'write True or False' } });
      return z.NEVER;
    }
    return b;
  }),
  certificate: z.string().transform((s) => repairPem(s) ?? s),
  privateKey: z.string().transform((s) => repairPem(s) ?? s),
  hostname: z.string().transform((s) => s.replace(/\.$/, '')),
  addressList: list,
  hostList: list,
  interfaceAddress: text,
  address: text,
  networkList: list,
  port: z.string().transform((s, ctx) => {
    if (!/^\d{1,5}$/.test(s)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is not a port number', params: { hint: 'write a whole number from 1 to 65535, e.g. 5556' } });
      return z.NEVER;
    }
    return Number(s);
  }),
  userName: text,
};

/** `""`, the literal `null` (some ESXi paths) and a missing key all mean unset. Passwords are not trimmed. */
function preprocess(spec: PropertySpec, raw: unknown): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const s = String(raw);
  const trimmed = s.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'null') return undefined;
  return spec.kind === 'password' ? s : trimmed;
}

const fieldSchema = (spec: PropertySpec) =>
  z.preprocess((raw) => preprocess(spec, raw) ?? spec.default, KIND_SCHEMAS[spec.kind].optional());

/** The zod schema of the whole property set, generated from the table. */
export const FIELD_SCHEMAS = Object.fromEntries(PROPERTIES.map((p) => [p.key, fieldSchema(p)])) as Record<PropertyKey, ReturnType<typeof fieldSchema>>;
export const propertiesSchema = z.object(FIELD_SCHEMAS);

export interface TypeProblem {
  readonly key: PropertyKey;
  readonly kind: Kind;
  readonly message: string;
  readonly hint?: string;
}

/** Field by field, so one bad value does not hide the others. */
export function normalise(raw: RawValues): { properties: Properties; problems: TypeProblem[] } {
  const out: Record<string, unknown> = {};
  const problems: TypeProblem[] = [];
  for (const p of PROPERTIES) {
    const r = FIELD_SCHEMAS[p.key].safeParse(raw.get(p.key) ?? undefined);
    if (r.success) {
      if (r.data !== undefined) out[p.key] = r.data;
    } else {
      const issue = r.error.issues[0]!;
      const hint = (issue as { params?: { hint?: string } }).params?.hint;
      problems.push(hint ? { key: p.key, kind: p.kind, message: issue.message, hint } : { key: p.key, kind: p.kind, message: issue.message });
    }
  }
  return { properties: out as Properties, problems };
}

/** Whether the source itself set the key (as opposed to a default filling it). */
export const isSetIn = (raw: RawValues, key: PropertyKey): boolean => {
  const spec = PROPERTIES.find((p) => p.key === key)!;
  return preprocess(spec, raw.get(key)) !== undefined;
};
