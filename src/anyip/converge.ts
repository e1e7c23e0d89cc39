// One convergence pass: the file's ranges → the kernel's local table (our routes only).
import { parseRangesFile, type LineProblem } from './ranges-file.js';
import { applyBatch, localRoutes } from './routes.js';
import { diff, type RouteDiff } from './diff.js';
import { readRegularFile } from '../core/regular-file.js';
import { existsSync } from 'node:fs';

export interface Outcome {
  readonly missingFile: boolean;
  /** A standby of a pair (the standby file exists): no local route, whatever the file lists. */
  readonly standby: boolean;
  readonly diff: RouteDiff;
  readonly problems: readonly LineProblem[];
  readonly kernelError?: string;
}

/**
 * `missingAsEmpty`: the watcher treats a deleted file as "no ranges"; `up` refuses instead. `standbyFile`:
 * while it exists this appliance is the standby of a pair (src/ha/daemon.ts) and keeps no route.
 */
export async function converge(
  file: string,
  missingAsEmpty: boolean,
  standbyFile?: string,
): Promise<Outcome | { unreadable: string }> {
  let text: string;
  let missingFile = false;
  try {
    text = readRegularFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || !missingAsEmpty)
      return { unreadable: code === 'ENOENT' ? 'no such file' : (e as Error).message };
    text = '';
    missingFile = true;
  }
  const parsed = parseRangesFile(text);
  const standby = standbyFile !== undefined && existsSync(standbyFile);
  const { owned, foreign } = await localRoutes();
  const d = diff(standby ? [] : parsed.ranges, owned, foreign);
  const r = await applyBatch(d);
  return { missingFile, standby, diff: d, problems: parsed.problems, ...(r.ok ? {} : { kernelError: r.message }) };
}

/** One log line; at most LISTED ranges named per kind, so 10,000 ranges do not make a 150 kB line. */
const LISTED = 20;
export const listRanges = (rs: readonly string[]): string =>
  rs.length > LISTED ? `${rs.slice(0, LISTED).join(', ')} and ${rs.length - LISTED} more` : rs.join(', ');

export const describeChange = (d: RouteDiff): string => {
  const added = d.add.length ? `; added ${listRanges(d.add)}` : '';
  const removed = d.remove.length ? `; removed ${listRanges(d.remove)}` : '';
  return `${d.add.length} added, ${d.remove.length} removed, ${d.kept.length} unchanged${added}${removed}`;
};

/** Ranges another local route already serves: said once per change by the watcher, at every `up`. */
export const describeForeign = (d: RouteDiff): string => {
  // The commands for the ranges themselves (a few; then the first one as the pattern).
  const del = (r: string) => `ip route del local ${r} table local`;
  const how = d.foreign.length <= 3 ? d.foreign.map(del).join('; ') : `${del(d.foreign[0]!)} (and so on for each)`;
  const are = d.foreign.length === 1 ? 'is' : 'are';
  return (
    `${listRanges(d.foreign)} ${are} already a local route not made by anyip-routes: left alone (it answers; ` +
    `anyip-routes will not remove it when the range goes). To hand it over: ${how}, then systemctl restart anyip-routes`
  );
};

const describeProblem = (file: string, p: LineProblem): string =>
  `${file}:${p.line}: ${p.message}; skipped. Fix: ${p.hint}`;

/**
 * The bad lines as messages: the first LISTED, then one line that counts the rest, so a file of
 * 100,000 bad lines prints a screenful, not megabytes (`status --json` still lists every problem).
 */
export function describeProblems(file: string, problems: readonly LineProblem[]): string[] {
  const shown = problems.slice(0, LISTED).map((p) => describeProblem(file, p));
  const rest = problems.length - shown.length;
  if (rest > 0)
    shown.push(`${file}: ${rest} more bad line${rest === 1 ? '' : 's'} skipped, not shown (fix the ones above first)`);
  return shown;
}
