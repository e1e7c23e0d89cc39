// JSON inputs: a govc options file (`govc import.spec` shape) or a flat object of property keys.
import { err, inputError, ok, type Result } from '../core/result.js';
import { canonicalKey } from '../properties/table.js';
import type { DeployDocument, NetworkMap, SourceNote } from './document.js';
import { field, ValueCollector } from './keys.js';
import type { LiteralPair } from './python-literal.js';
import { keyText } from '../core/quote.js';

function scalar(v: unknown): string | null | undefined {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (v instanceof NumberText || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A JSON number as it was written (1e400 stays "1e400", not "Infinity"; 5556.0 stays "5556.0"). */
class NumberText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A JSON object (not a list, not a number read by parseJsonAsWritten). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof NumberText);

/** The number literals of valid JSON text, in order: one linear pass that skips strings. */
function numberLiterals(json: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < json.length && json.charCodeAt(i) !== 0x22; i++) if (json.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < json.length && /[0-9eE.+-]/.test(json[j]!)) j++;
      out.push(json.slice(i, j));
      i = j - 1;
    }
  }
  return out;
}

/**
 * JSON.parse, with each number as the text it was written in (a NumberText). The reviver sees the
 * numbers in source order, except where an object's integer-like keys or a repeated key reorder them:
 * a literal that does not match its value is not trusted, and the value's own text is used.
 */
export function parseJsonAsWritten(json: string): unknown {
  const literals = /[:,[]\s*-?\d/.test(json) ? numberLiterals(json) : [];
  let next = 0;
  return JSON.parse(json, (_key, v: unknown) => {
    if (typeof v !== 'number') return v;
    const text = literals[next++];
    return new NumberText(text !== undefined && Number(text) === v ? text : String(v));
  });
}

export const isGovcOptions = (obj: Record<string, unknown>): boolean =>
  ['PropertyMapping', 'NetworkMapping', 'Deployment', 'DiskProvisioning', 'IPAllocationPolicy'].some(
    (f) => field(obj, f) !== undefined,
  );

export function parseGovc(obj: Record<string, unknown>, origin: string): Result<DeployDocument> {
  const values = new ValueCollector();
  const mapping = field(obj, 'PropertyMapping') ?? [];
  if (!Array.isArray(mapping))
    return err(inputError(origin, 'PropertyMapping must be a list of {"Key": …, "Value": …} objects'));
  for (const [i, entry] of mapping.entries()) {
    const key = isObject(entry) ? field(entry, 'Key') : undefined;
    if (typeof key !== 'string') return err(inputError(origin, `PropertyMapping[${i}] has no "Key" string`));
    const value = scalar(field(entry as Record<string, unknown>, 'Value') ?? null);
    if (value === undefined)
      return err(inputError(origin, `PropertyMapping[${i}] (${keyText(key)}): "Value" must be a string`));
    values.add(key, value);
  }
  const deployment = field(obj, 'Deployment');
  if (deployment !== undefined && deployment !== null && typeof deployment !== 'string') {
    return err(inputError(origin, '"Deployment" must be a string such as "default" or "frontend"'));
  }
  const nm = field(obj, 'NetworkMapping') ?? [];
  if (!Array.isArray(nm))
    return err(inputError(origin, 'NetworkMapping must be a list of {"Name": …, "Network": …} objects'));
  const networkMapping: NetworkMap[] = nm
    .filter(isObject)
    .map((e) => ({ name: String(field(e, 'Name') ?? ''), network: String(field(e, 'Network') ?? '') }));
  return ok({
    format: 'govc',
    origin,
    values: values.values,
    unknownKeys: values.unknownKeys,
    ...(typeof deployment === 'string' && deployment.trim() !== '' ? { deployment: deployment.trim() } : {}),
    networkMapping,
    notes: [],
  });
}

export function parseFlatObject(obj: Record<string, unknown>, origin: string): Result<DeployDocument> {
  const values = new ValueCollector();
  for (const [k, v] of Object.entries(obj)) {
    const value = scalar(v);
    if (value === undefined)
      return err(inputError(origin, `the value of ${keyText(k)} must be a string, number, boolean or null`));
    values.add(k, value);
  }
  return ok({ format: 'json', origin, values: values.values, unknownKeys: values.unknownKeys, notes: [] });
}

export function fromPythonPairs(pairs: readonly LiteralPair[], origin: string): DeployDocument {
  const values = new ValueCollector();
  const notes: SourceNote[] = [];
  for (const p of pairs) {
    values.add(p.key, p.value);
    const key = canonicalKey(p.key);
    if (p.recovered) {
      notes.push({
        rule: 'source.unterminated-quote',
        keys: key ? [key] : [],
        message: `the value of ${keyText(p.key)} has no closing quote; it was read up to the end of its line`,
        hint: 'check that the value was copied whole from the log',
      });
    }
  }
  return { format: 'python-dict', origin, values: values.values, unknownKeys: values.unknownKeys, notes };
}
