// The appliance's own metrics that first boot and the certificates timer know: first boot's state and
// findings, and the certificates' days left. Written only when appliance.metrics_port is on.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { METRICS_CFG, TLS_PATHS } from '../appliance/paths.js';
import { servesMetrics } from '../plan/plan.js';
import { certificateFamilies, firstbootFamilies } from '../metrics/appliance.js';
import { metricsDir, writeMetrics } from '../metrics/prom.js';
import { currentContent, under } from '../core/atomic-write.js';

/** Whether the installed ovactl-metrics.cfg serves metrics (the plan's "off" file has no frontend). */
export const metricsOn = (root: string): boolean => servesMetrics(currentContent(under(root, METRICS_CFG)));

/** Days left of ca.crt and server.crt (their first certificate), those that are readable. */
function certificates(root: string): { name: string; notAfter: Date }[] {
  return (
    [
      ['server', TLS_PATHS.serverCert],
      ['ca', TLS_PATHS.caCert],
    ] as const
  ).flatMap(([name, path]) => {
    const text = currentContent(under(root, path));
    try {
      return text === undefined ? [] : [{ name, notAfter: new Date(new X509Certificate(text).validTo) }];
    } catch {
      return [];
    }
  });
}

/** certificates.prom: by first boot and by `ovactl certificates renew`. */
export function writeCertificateMetrics(root: string, now: Date): string | undefined {
  if (!metricsOn(root)) return undefined;
  return writeMetrics(metricsDir(root), 'certificates.prom', certificateFamilies(certificates(root), now));
}

/**
 * firstboot.prom and certificates.prom from the status just written. Makes the metrics folder when
 * metrics are on (the other writers write only into an existing one) and removes it when off.
 */
export function writeBootMetrics(o: {
  root: string;
  statusText: string | undefined;
  now: Date;
  lines: string[];
}): void {
  const dir = metricsDir(o.root);
  if (!metricsOn(o.root)) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  let s: { state?: unknown; errors?: unknown; warnings?: unknown } = {};
  try {
    s = JSON.parse(o.statusText ?? '{}') as typeof s;
  } catch {
    // an unreadable status: state unknown, no findings counted
  }
  const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);
  const problems = [
    writeMetrics(
      dir,
      'firstboot.prom',
      firstbootFamilies({
        state: typeof s.state === 'string' ? s.state : 'unknown',
        errors: count(s.errors),
        warnings: count(s.warnings),
        appliedAt: o.now,
      }),
    ),
    writeCertificateMetrics(o.root, o.now),
  ];
  for (const p of problems) if (p) o.lines.push(`metrics: ${p}`);
}
