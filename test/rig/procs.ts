// Process and namespace plumbing the test rigs share (test/rig/appliance.ts for nspawn, test/vm/qemu.ts
// for qemu): commands without tap's environment, /proc lookups for cleaning up after a crashed run,
// and deleting a namespace with whatever still runs in it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

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
