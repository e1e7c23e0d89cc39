// Shared test values: the bundled example (examples/appliance.json) as the base of every case, and
// documents built from it.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from '../../src/source/detect.js';
import type { DeployDocument } from '../../src/source/document.js';
import { validateDocument, type Report, type ValidateOptions } from '../../src/validate/validate.js';
import type { ValidProperties } from '../../src/validate/values.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
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

/** The parsed values of a report that must be valid (plan's input). */
export function valuesOf(r: Report): ValidProperties {
  if (!r.valid) throw new Error(`the test values are invalid: ${r.errors.map((e) => e.message).join('; ')}`);
  return r.values;
}

/** The Data Plane API's test stand-in (test code: the real binary cannot be downloaded here). */
export const DATAPLANEAPI_STANDIN = ['cjs', 'mjs']
  .map((x) => `${ROOT}test/standin/dataplaneapi.${x}`)
  .find((p) => existsSync(p))!;

/**
 * A root that carries what the appliance image carries, so first boot can say "starting": the Data
 * Plane API at /usr/local/bin/dataplaneapi (its stand-in). Returns root.
 */
export function withImage(root: string): string {
  const bin = join(root, 'usr/local/bin/dataplaneapi');
  if (!existsSync(bin)) {
    mkdirSync(dirname(bin), { recursive: true });
    copyFileSync(DATAPLANEAPI_STANDIN, bin);
    chmodSync(bin, 0o755);
  }
  return root;
}
