// The daemon's state as `ovactl rhi status` reads it: /run/ovactl/rhi.json, rewritten atomically
// by the daemon whenever something in it changes.
import { readFileSync } from 'node:fs';
import type { InputState } from './health.js';

export const STATE_FILE = '/run/ovactl/rhi.json';

export interface StatusRule {
  /** The rule, canonical: `203.0.113.10/32 = all(f:web, b:app)`. */
  readonly rule: string;
  /** `FILE:LINE`, or `auto: frontend web binds 203.0.113.10:80`. */
  readonly origin: string;
  readonly targets: readonly { readonly network: string; readonly protocol: string; readonly problem?: string }[];
  readonly aggregate: string;
  readonly inputs: readonly InputState[];
  /** What the last poll said. */
  readonly healthy: boolean;
  /** Whether its routes are in BIRD's route files now. */
  readonly announced: boolean;
  /** When `announced` last changed. */
  readonly since: string;
  readonly holdDownUntil?: string;
  /** Why it is unhealthy. */
  readonly reason?: string;
}

export interface RhiStatus {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly settings: {
    readonly rulesFile: string;
    readonly haproxySocket: string;
    readonly haproxyConfig: string;
    readonly rangesFile: string;
    readonly birdSocket: string;
    readonly birdConfig: string;
    readonly intervalMs: number;
    readonly rise: number;
    readonly fall: number;
    readonly holdDownMs: number;
  };
  readonly config: {
    readonly loadedAt?: string;
    readonly auto: boolean;
    readonly errors: readonly string[];
    readonly usingPrevious: boolean;
    readonly notes: readonly string[];
  };
  readonly haproxy: { readonly reachable: boolean; readonly error?: string };
  readonly bird: { readonly inSync: boolean; readonly protocols: readonly string[]; readonly error?: string };
  readonly rules: readonly StatusRule[];
}

/** Whether a process with this PID exists (signal 0 checks without sending). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The daemon's state file, or undefined when it is missing or not JSON. */
export function readStatus(file: string): RhiStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RhiStatus;
  } catch {
    return undefined;
  }
}

/** The state is a running daemon's: not marked stopped, and its process is there. */
export const running = (s: RhiStatus | undefined): boolean =>
  s !== undefined && s.stoppedAt === undefined && alive(s.pid);
