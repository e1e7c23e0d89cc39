// Shared test helpers: the bundled example as the base of every case, and documents built from it.
import { readFileSync } from 'node:fs';
import { parseDocument } from '../src/source/detect.js';
import type { DeployDocument } from '../src/source/document.js';
import { validateDocument, type Report, type ValidateOptions } from '../src/validate/validate.js';

export const ROOT = new URL('..', import.meta.url).pathname;
export const BASE: Record<string, string> = JSON.parse(readFileSync(`${ROOT}examples/appliance.json`, 'utf8'));

export async function doc(text: string): Promise<DeployDocument> {
  const r = await parseDocument(text, 'test');
  if (!r.ok) throw new Error(`test document did not parse: ${r.error.message}`);
  return r.value;
}

/** The example with some values replaced (null deletes the key). */
export function withValues(overrides: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = { ...BASE };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

export async function check(overrides: Record<string, string | null>, opts: ValidateOptions = {}): Promise<Report> {
  return validateDocument(await doc(JSON.stringify(withValues(overrides))), opts);
}

export const rulesOf = (r: Report): string[] => [...r.errors, ...r.warnings].map((f) => f.rule);
