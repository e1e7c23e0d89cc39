// The steps `validate` and `render` share: the --deployment flag, then read → detect → validate.
import type { Result } from '../core/result.js';
import { parseDocument } from '../source/detect.js';
import type { DeployDocument } from '../source/document.js';
import { sourceFor } from '../source/read.js';
import { DEPLOYMENTS, type Deployment } from '../validate/context.js';
import { validateDocument, type Report } from '../validate/validate.js';
import { UsageError } from './usage.js';

export function deploymentFlag(value: string | boolean | undefined): Deployment | undefined {
  if (value === undefined) return undefined;
  if ((DEPLOYMENTS as readonly unknown[]).includes(value)) return value as Deployment;
  // `validate --deployment examples/x.json`: the file was taken as the flag's value.
  if (typeof value === 'string' && /[./]/.test(value)) {
    const needs = `--deployment needs a value (${DEPLOYMENTS.join('|')}) before INPUT`;
    throw new UsageError(`${needs}; ${JSON.stringify(value)} is not one`);
  }
  throw new UsageError(`--deployment must be "default" or "frontend", not ${JSON.stringify(value)}`);
}

/** INPUT ("-" for stdin) read, its format detected, its values validated. */
export async function loadDeployValues(input: string, deployment: Deployment | undefined): Promise<Result<{ doc: DeployDocument; report: Report }>> {
  const source = sourceFor(input);
  const text = await source.read();
  if (!text.ok) return text;
  const doc = await parseDocument(text.value, source.origin);
  if (!doc.ok) return doc;
  const report = await validateDocument(doc.value, deployment ? { deployment } : {});
  return { ok: true, value: { doc: doc.value, report } };
}
