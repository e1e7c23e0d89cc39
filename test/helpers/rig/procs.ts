// Process and namespace plumbing the test rigs share (test/helpers/rig/appliance.ts for nspawn, test/helpers/vm/qemu.ts
// for qemu): commands without tap's environment, /proc lookups for cleaning up after a crashed run,
// and deleting a namespace with whatever still runs in it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A deadline to race against a process's exit: it does not keep the test process alive on its own. */
export const deadline = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Environment for host-side commands: without tap's NODE_OPTIONS loader and friends. */
export const hostEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/^TAP/i.test(k)));

/** Run a command synchronously (setup, cleanup, a process 'exit' hook). Never throws. */
export function runSync(cmd: string, args: readonly string[], timeoutMs = 30_000): RunResult {
  const r = spawnSync(cmd, [...args], { env: hostEnv(), encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** runSync that throws with the command and its stderr on a non-zero exit. */
export function must(cmd: string, args: readonly string[], timeoutMs?: number): string {
  const r = runSync(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

const stat = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
};

/** Field 22 (starttime) of /proc/PID/stat, after the parenthesised comm (which may hold spaces): tells a recycled PID. */
export const procStart = (pid: number): string | undefined => {
  const s = stat(pid);
  return s?.slice(s.lastIndexOf(')') + 2).split(' ')[19];
};

/** Running (a zombie is not: its parent may be a killed test process that will never reap it). */
export const alive = (pid: number): boolean => {
  const s = stat(pid);
  return !!s && !['Z', 'X'].includes(s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3));
};

export const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

/**
 * Delete a namespace of a rig, first killing what still runs in it: only the rig starts processes
 * there, and a process left in a netns keeps it alive after `ip netns delete`.
 */
export function deleteNetns(ns: string): void {
  if (!existsSync(`/run/netns/${ns}`)) return;
  for (let i = 0; i < 20; i++) {
    const pids = runSync('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean).map(Number);
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    runSync('sleep', ['0.05']);
  }
  runSync('ip', ['netns', 'delete', ns]);
}

// ── cleaning up after the rigs' runs ──────────────────────────────────────────────────────────

const stops = new Set<() => void>();
let hooked = false;

/**
 * Run `stopSync` when this process exits or is killed by a signal (tap's timeout sends SIGALRM, then
 * SIGKILL 0.5 s later; ^C), then let the signal do what it would have done. A SIGKILL leaves
 * everything to reapRuns(). Returns the function that takes it off the list again.
 */
export function stopAtExit(stopSync: () => void): () => void {
  if (!hooked) {
    hooked = true;
    const stopAll = () => {
      for (const s of [...stops]) s();
    };
    process.once('exit', stopAll);
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM'] as const) {
      const handler = () => {
        stopAll();
        if (process.listeners(sig).length === 1) {
          process.removeListener(sig, handler);
          process.kill(process.pid, sig);
        }
      };
      process.on(sig, handler);
    }
  }
  stops.add(stopSync);
  return () => stops.delete(stopSync);
}

/** What a run records in WORK_BASE/TAG/state.json: whose it is. */
export interface OwnedRun {
  readonly ownerPid: number;
  /** procStart(ownerPid) when the run began: tells the owner from a process that got its PID. */
  readonly ownerStart: string;
}

/**
 * Remove what runs whose owner process is gone left behind: each run folder under `workBase` with a
 * state file (`release` undoes it), then stray namespaces `<tagPrefix><ownerPid>-<n>-<h|c>`.
 * `noState` decides about a run folder without a readable state file (true: remove it). Returns what
 * it removed.
 */
export function reapRuns<S extends OwnedRun>(o: {
  readonly workBase: string;
  readonly tagPrefix: string;
  readonly release: (s: S) => void;
  readonly noState?: (tag: string) => boolean;
}): string[] {
  const reaped: string[] = [];
  if (existsSync(o.workBase)) {
    for (const tag of readdirSync(o.workBase)) {
      if (!tag.startsWith(o.tagPrefix)) continue;
      let s: S;
      try {
        s = JSON.parse(readFileSync(join(o.workBase, tag, 'state.json'), 'utf8')) as S;
      } catch {
        if (o.noState?.(tag)) {
          rmSync(join(o.workBase, tag), { recursive: true, force: true });
          reaped.push(tag);
        }
        continue;
      }
      if (alive(s.ownerPid) && procStart(s.ownerPid) === s.ownerStart) continue; // a live run
      o.release(s);
      reaped.push(tag);
    }
  }
  if (existsSync('/run/netns')) {
    for (const ns of readdirSync('/run/netns')) {
      const m = new RegExp(`^${o.tagPrefix}(\\d+)-\\d+-[hc]$`).exec(ns);
      if (m && !alive(Number(m[1]))) {
        deleteNetns(ns);
        reaped.push(ns);
      }
    }
  }
  return reaped;
}

/** A route in the client namespace, e.g. a VIP range via the appliance's workload address. */
export interface ClientRoute {
  readonly to: string;
  readonly via: string;
}
