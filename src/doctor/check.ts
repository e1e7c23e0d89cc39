// What a doctor check is: its context (the tree, live or offline, how commands run), the facts it
// reads, its outcome (ok, fail with the fix, warn, skip with the reason) and their constructors.
import type { RangesFile } from '../anyip/ranges-file.js';
import type { NetworkFile } from '../plan/network.js';
import { spawnSync } from 'node:child_process';
import type { Bind } from '../haproxy/binds.js';

export type Verdict = 'ok' | 'fail' | 'warn' | 'skip';
export interface Outcome {
  readonly verdict: Verdict;
  readonly detail: string;
  readonly fix?: string;
}
export interface CheckResult extends Outcome {
  readonly id: string;
  readonly title: string;
}

/** An inclusive address interval, from `--vip-range A-B`. */
export interface Interval {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  readonly text: string;
}

export interface Context {
  /** Where the files are: '/' on the appliance, a rendered tree or unpacked bundle offline. */
  readonly root: string;
  readonly live: boolean;
  readonly vipRanges?: readonly Interval[];
  /** Runs a command (live checks only); injectable for tests. */
  readonly exec: (cmd: string, args: readonly string[]) => { code: number; stdout: string; stderr: string };
}

export interface Check {
  readonly id: string;
  readonly title: string;
  readonly needs: 'files' | 'live';
  run(ctx: Context, facts: Facts): Outcome | Promise<Outcome>;
}

export const ok = (detail: string): Outcome => ({ verdict: 'ok', detail });
export const fail = (detail: string, fix: string): Outcome => ({ verdict: 'fail', detail, fix });
export const warn = (detail: string, fix?: string): Outcome => ({ verdict: 'warn', detail, ...(fix ? { fix } : {}) });
export const skip = (detail: string): Outcome => ({ verdict: 'skip', detail });

export function defaultExec(cmd: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { code: 127, stdout: '', stderr: (r.error as Error).message };
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The facts the checks share, read once (facts.ts). */
export interface Facts {
  readonly read: (path: string) => string | undefined;
  readonly ranges: RangesFile | undefined;
  readonly networks: readonly NetworkFile[];
  readonly binds: readonly Bind[];
  readonly dataplane: { host: string; port: number } | undefined;
}
