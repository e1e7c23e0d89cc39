// The appliance's own metrics in the Prometheus text format (version 0.0.4): one file per writer in
// METRICS_DIR, which haproxy's Lua service concatenates at each scrape (templates/haproxy/ovactl-metrics.lua.hbs).
// A writer writes only when the folder exists: first boot makes it when appliance.metrics_port is set.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { METRICS_DIR, type METRICS_FILES } from '../appliance/paths.js';

type MetricsFile = (typeof METRICS_FILES)[number];

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: readonly Sample[];
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const labelText = (l: Readonly<Record<string, string>> | undefined): string => {
  const pairs = Object.entries(l ?? {});
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
};

/** The exposition text: HELP and TYPE, then one line a sample. */
function promText(families: readonly Family[]): string {
  return families
    .map(
      (f) =>
        [
          `# HELP ${f.name} ${escapeHelp(f.help)}`,
          `# TYPE ${f.name} ${f.type}`,
          ...f.samples.map((s) => `${f.name}${labelText(s.labels)} ${Number.isFinite(s.value) ? s.value : 'NaN'}`),
        ].join('\n') + '\n',
    )
    .join('');
}

/** METRICS_DIR under a root (`/` on the appliance). */
export const metricsDir = (root: string): string => (root === '/' ? METRICS_DIR : join(root, METRICS_DIR));

/**
 * Writes one writer's file atomically (a scrape never reads half a file) when its folder exists,
 * i.e. when metrics are on. Never throws: metrics must not break the writer. Returns a problem line.
 */
export function writeMetrics(dir: string, name: MetricsFile, families: readonly Family[]): string | undefined {
  const path = join(dir, name);
  if (!existsSync(dirname(path))) return undefined;
  try {
    writeFileAtomic(path, promText(families), 0o644);
    return undefined;
  } catch (e) {
    return `cannot write ${path}: ${(e as Error).message}`;
  }
}
