// What a successor appliance needs to be accepted by the Supervisor unchanged: the values in force
// (as the OVF environment gives them, checked against first boot's record) and the CA in use, also a
// generated one, whose key exists nowhere else. The spec file itself is written by the CLI (secret-file).
import { NETWORKS } from '../ovf/descriptor.js';
import type { Filled } from '../ovf/spec.js';
import { inputError, type Result } from '../core/result.js';
import type { PropertyKey } from '../properties/table.js';
import type { DeployDocument } from '../source/document.js';
import { STATE_FILE, TLS_PATHS } from '../appliance/paths.js';
import type { Report } from '../validate/validate.js';
import { appliedState, inputsHash } from './state.js';
import { currentContent, under } from '../core/atomic-write.js';

export interface SuccessorInput {
  readonly doc: DeployDocument;
  readonly report: Report;
  readonly root: string;
  /** ovactl's version: part of first boot's hash of the values. */
  readonly version: string;
  /** Where the values came from, for the messages ("guestinfo.ovfEnv", a file). */
  readonly origin: string;
}

const AGAIN =
  'reboot the appliance (or run "systemctl restart ovactl-firstboot"), check "ovactl doctor", ' + 'then export again';

/** Why the values found are not the ones in force, as one line; or undefined when they are. */
function notInForce(input: SuccessorInput): string | undefined {
  const { report, root, version } = input;
  const applied = appliedState(root);
  if (!applied) return `first boot has applied no values here (no ${STATE_FILE}); fix: ${AGAIN}`;
  if (!report.valid) {
    const keys = [...new Set(report.errors.flatMap((e) => e.keys))].join(', ') || 'see "ovactl validate"';
    return `these values are invalid (${keys}), so they are not in force; fix: correct them, then ${AGAIN}`;
  }
  if (applied.inputs !== inputsHash(report, version)) {
    return (
      'these values are not the ones first boot applied: the appliance serves other (older) values; ' + `fix: ${AGAIN}`
    );
  }
  if (applied.state !== 'ready') {
    return `first boot could not apply these values without an error (see "ovactl doctor"); fix: ${AGAIN}`;
  }
  return undefined;
}

/** The OVF network → vSphere network, from the environment's adapters (by unit number) or a govc NetworkMapping. */
function networksOf(doc: DeployDocument): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of doc.adapters ?? []) {
    const n = NETWORKS.find((x) => String(x.unit) === a.unitNumber);
    if (n && a.network) out[n.name] = a.network;
  }
  for (const m of doc.networkMapping ?? []) if (m.name && m.network && !(m.name in out)) out[m.name] = m.network;
  return out;
}

/** A value as the document gives it ('' for an empty one); undefined when unset (the default applies). */
function given(doc: DeployDocument, key: string): string | undefined {
  const k = key as PropertyKey;
  return doc.values.has(k) ? (doc.values.get(k) ?? '') : undefined;
}

/** The spec's values: the appliance's own, with the CA certificate and key read from the files in use. */
export function successorValues(input: SuccessorInput): Result<Filled> {
  const why = notInForce(input);
  if (why) return { ok: false, error: inputError(input.origin, why) };
  const cert = currentContent(under(input.root, TLS_PATHS.caCert));
  const key = currentContent(under(input.root, TLS_PATHS.caKey));
  if (!cert || !key) {
    const missing = !cert ? TLS_PATHS.caCert : TLS_PATHS.caKey;
    return { ok: false, error: inputError(missing, `the CA in use is not there (${missing}); fix: ${AGAIN}`) };
  }
  const ca: Record<string, string> = { 'appliance.ca_cert': cert.trim(), 'appliance.ca_cert_key': key.trim() };
  const host = input.report.properties['network.hostname'] ?? 'haproxy';
  return {
    ok: true,
    value: {
      value: (k) => ca[k] ?? given(input.doc, k),
      networks: networksOf(input.doc),
      // The old VM stays (powered off, for a rollback): the new one needs a name of its own.
      name: `${host.split('.')[0]}-successor`,
    },
  };
}
