// The steps `validate` and `render` share: the --deployment flag, then read → detect → validate.
import type { Result } from '../core/result.js';
import { parseDocument } from '../source/detect.js';
import type { DeployDocument } from '../source/document.js';
import { sourceFor } from '../source/read.js';
import { firstAvailable, GuestinfoSource, IsoSource } from '../source/guestinfo.js';
import { DEPLOYMENTS, type Deployment } from '../appliance/nics.js';
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
export async function loadDeployValues(
  input: string,
  deployment: Deployment | undefined,
): Promise<Result<{ doc: DeployDocument; report: Report }>> {
  const source = sourceFor(input);
  const text = await source.read();
  if (!text.ok) return text;
  const doc = await parseDocument(text.value, source.origin);
  if (!doc.ok) return doc;
  const report = await validateDocument(doc.value, deployment ? { deployment } : {});
  return { ok: true, value: { doc: doc.value, report } };
}

/**
 * The appliance's own values at boot: INPUT when given (--env), else guestinfo.ovfEnv, then the ISO
 * transport. First boot and `ovactl ready` read them the same way.
 */
export async function loadBootValues(
  env: string | undefined,
  deployment: Deployment | undefined,
): Promise<Result<{ doc: DeployDocument; report: Report; origin: string }>> {
  const found = await firstAvailable(env !== undefined ? [sourceFor(env)] : [new GuestinfoSource(), new IsoSource()]);
  if (!found.ok) return found;
  const doc = await parseDocument(found.value.text, found.value.origin);
  if (!doc.ok) return doc;
  const report = await validateDocument(doc.value, deployment ? { deployment } : {});
  return { ok: true, value: { doc: doc.value, report, origin: found.value.origin } };
}
