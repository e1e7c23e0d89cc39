// Certificates over time, the shell's part: renew the Data Plane API certificate when it is due (at
// boot with unchanged values, and from ovactl-certificates.timer), restart only the Data Plane API
// when it was renewed, and keep the CA warning of the status, the console and guestinfo up to date.
import { X509Certificate } from 'node:crypto';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { RANGES_FILE, STATUS_FILE, TLS_PATHS } from '../appliance/paths.js';
import { pemBlocks } from '../properties/pem.js';
import { renewCertificates, type CertificateResult } from '../tls/certificates.js';
import { CA_EXPIRING, caFinding } from '../tls/lifetime.js';
import type { Finding } from '../validate/finding.js';
import { publishGuestinfo, writeStatus } from './publish.js';
import { statusInForce, statusJson, type Status } from '../plan/status.js';
import { whyFailed, type System } from './system.js';
import { currentContent, under } from '../core/atomic-write.js';
import { metricsOn, writeCertificateMetrics } from './metrics.js';

const DATAPLANEAPI_UNIT = 'dataplaneapi.service';

/** The CA warning for ca.crt under root at `now` (none when it is far from its end, missing or unreadable). */
export function caFindings(root: string, now: Date): Finding[] {
  const block = pemBlocks(currentContent(under(root, TLS_PATHS.caCert)) ?? '').find((b) => b.label === 'CERTIFICATE');
  if (!block) return [];
  try {
    const f = caFinding(new X509Certificate(block.text), now);
    return f ? [f] : [];
  } catch {
    return [];
  }
}

/** The status's warnings with this run's CA warning in place of the last one. */
export const withCaFindings = (warnings: readonly Finding[], findings: readonly Finding[]): Finding[] => [
  ...warnings.filter((w) => w.rule !== CA_EXPIRING),
  ...findings,
];

/** Lines for the log about a certificate run: what was renewed and why (never key material). */
export function describeRenewal(r: CertificateResult): string[] {
  if (!r.changed) return [];
  return [`certificates renewed: ${r.reasons.join('; ') || 'files repaired'}`, ...r.written.map((w) => `wrote ${w}`)];
}

export interface RenewInput {
  readonly root: string;
  readonly system: System;
  /** The clock, read by the shell. */
  readonly now?: Date;
}

export interface RenewResult {
  /** renewed: new files (the Data Plane API restarted); kept: nothing due; none: no certificate to renew. */
  readonly outcome: 'renewed' | 'kept' | 'none' | 'failed';
  readonly lines: readonly string[];
}

/**
 * `ovactl certificates renew` (ovactl-certificates.timer, daily): the certificate in use renewed when
 * due, from the files on disk (the values of the last boot), then the CA warning of the status.
 */
export async function runRenew(input: RenewInput): Promise<RenewResult> {
  const { root, system } = input;
  const now = input.now ?? new Date();
  const lines: string[] = [];
  let r: CertificateResult | string;
  try {
    r = await renewCertificates(root, { now });
  } catch (e) {
    // TlsError: the step and openssl's redacted reason; the files are unchanged.
    lines.push(`failed: ${(e as Error).message}`);
    return { outcome: 'failed', lines };
  }
  if (typeof r === 'string') {
    lines.push(`nothing to renew: ${r} (first boot issues it: systemctl restart ovactl-firstboot)`);
    return { outcome: 'none', lines };
  }
  lines.push(...describeRenewal(r));
  if (!r.changed) lines.push('the certificates are not due for renewal');
  const failures: string[] = [];
  if (r.changed) {
    const res = await system.run('systemctl', ['try-restart', DATAPLANEAPI_UNIT]);
    const why = whyFailed(res);
    if (res.exitCode !== 0) failures.push(`systemctl try-restart: ${why}`);
    // The metrics frontend holds the old certificate until haproxy reloads (seamless: master-worker).
    if (metricsOn(root)) {
      const rl = await system.run('systemctl', ['try-reload-or-restart', 'haproxy.service']);
      if (rl.exitCode !== 0) failures.push(`systemctl try-reload-or-restart haproxy: ${whyFailed(rl)}`);
    }
  }
  const metrics = writeCertificateMetrics(root, now);
  if (metrics) lines.push(`metrics: ${metrics}`);
  const json = refreshStatus(root, caFindings(root, now), lines);
  const caChanged = r.written.includes(TLS_PATHS.caCert);
  if (json !== undefined || caChanged) {
    await publishGuestinfo({ system, json, caCert: caChanged ? r.caCert : undefined, lines });
    if (system.live && json !== undefined) await system.run('agetty', ['--reload']);
  }
  lines.push(...system.ran.map((c) => `${system.live ? 'ran' : 'would run'}: ${c}`));
  lines.push(...failures.map((f) => `failed: ${f}`));
  return { outcome: failures.length ? 'failed' : r.changed ? 'renewed' : 'kept', lines };
}

/**
 * The status on disk with `findings` as its CA warning, written (status.json and the banner) when
 * that changes it: only for an applied appliance (ready, starting) or one serving its last good
 * values, whose banner does not depend on the deploy values. Returns the JSON when it was written.
 */
function refreshStatus(root: string, findings: readonly Finding[], lines: string[]): string | undefined {
  const text = currentContent(under(root, STATUS_FILE));
  const ranges = parseRangesFile(currentContent(under(root, RANGES_FILE)) ?? '').ranges.map((c) => c.text);
  const status = statusInForce(text, ranges);
  if (!status) return undefined;
  const next: Status = { ...status, warnings: withCaFindings(status.warnings, findings) };
  // The same warnings: nothing to write (the banner is left as first boot wrote it).
  if (statusJson(next) === statusJson(status)) return undefined;
  return writeStatus(root, next, lines);
}
