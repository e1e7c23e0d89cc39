// The appliance's own haproxy and BIRD for the checks tests make of rendered files (`haproxy -c`,
// `bird -p`): the programs of the rig's rootfs, which carries the image's Debian 13 packages (haproxy
// 3.0, BIRD 2.17), not this machine's (Debian 12: haproxy 2.6). test/helpers/rig/in-rootfs.sh runs them
// on files under the temporary folder. The rootfs is built on first use (cached; minutes the first time).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ensureRootfs, REPO, rigUnavailable, ROOTFS_BUILD_MS, ROOTFS_CACHE, rootfsCached } from './rig/appliance.js';
import { hostEnv } from './rig/procs.js';

const IN_ROOTFS = join(REPO, 'test/helpers/rig/in-rootfs.sh');

export interface ProgramRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Why the appliance's programs cannot run here (a test's skip reason), or undefined once the rootfs is
 * there. Throws with the build's output when the rootfs build failed (a broken recipe is a failure).
 */
export async function appliancePrograms(): Promise<string | undefined> {
  const why = rigUnavailable();
  if (why) return why;
  // A cold build (or a wait for another file's) is minutes: this file's timeout waits for it.
  if (!rootfsCached()) t.setTimeout(ROOTFS_BUILD_MS + 5 * 60_000);
  const r = await ensureRootfs();
  if (r.skip) return r.skip;
  if (!r.ok) throw new Error(`test/helpers/rig/rootfs.sh failed:\n${r.output}`);
  return undefined;
}

/**
 * The argument vector that runs the appliance's PROGRAM with ARGS, for a daemon started by a rig (in a
 * network namespace): every step execs the next, so the process's PID is the program's (-sf, kill).
 */
export const applianceArgv = (program: string, args: readonly string[]): string[] => [
  'bash',
  IN_ROOTFS,
  ROOTFS_CACHE,
  program,
  ...args,
];

/** Run PROGRAM of the appliance's rootfs with ARGS (file names under the temporary folder). */
export function inAppliance(program: string, args: readonly string[]): ProgramRun {
  const [cmd, ...argv] = applianceArgv(program, args);
  const r = spawnSync(cmd!, argv, {
    encoding: 'utf8',
    env: hostEnv(),
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export interface HaproxyCheck extends ProgramRun {
  /** haproxy -c said "Configuration file is valid" (3.0 says it only with -V) and exited 0. */
  readonly valid: boolean;
  /** Its [WARNING] and [NOTICE] lines: what an admin would read at every reload. */
  readonly warnings: readonly string[];
}

/** `haproxy -c` of the files (loaded in this order, as the unit does) with the appliance's haproxy. */
export function haproxyCheck(files: readonly string[]): HaproxyCheck {
  const r = inAppliance('haproxy', ['-c', '-V', ...files.flatMap((f) => ['-f', f])]);
  const out = `${r.stdout}\n${r.stderr}`;
  return {
    ...r,
    valid: r.status === 0 && /Configuration file is valid/.test(out),
    // (3.0 prints its version and path as NOTICEs before any other message: not findings)
    warnings: out
      .split('\n')
      .filter((l) => /^\[(WARNING|NOTICE)\]/.test(l) && !/: (haproxy version is|path to executable is) /.test(l)),
  };
}

/** The appliance's version of PROGRAM ("3.0.11-1+deb13u4", "2.17.6"), from `haproxy -v` / `bird --version`. */
export function applianceVersion(program: 'haproxy' | 'bird'): string {
  const r = inAppliance(program, program === 'haproxy' ? ['-v'] : ['--version']);
  const m = `${r.stdout}${r.stderr}`.match(program === 'haproxy' ? /HAProxy version (\S+)/ : /BIRD version (\S+)/);
  return m?.[1] ?? `unknown (${r.status}: ${r.stderr.trim()})`;
}

/**
 * An executable at DIR/appliance-PROGRAM that runs the appliance's PROGRAM with its arguments: for
 * programs that take a binary's path (the Data Plane API's haproxy_bin).
 */
export function applianceWrapper(dir: string, program: string): string {
  const path = join(dir, `appliance-${program}`);
  const script = `#!/bin/sh\n# the appliance's ${program} (test/helpers/appliance-programs.ts)\n`;
  writeFileSync(path, `${script}exec bash '${IN_ROOTFS}' '${ROOTFS_CACHE}' ${program} "$@"\n`, { mode: 0o755 });
  return path;
}
