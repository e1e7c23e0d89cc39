// Suites that need root (network namespaces, mounts, systemd-nspawn, qemu) or a tool say so loudly when
// they cannot run, so a non-root run does not look green; under CI=true they fail instead (CI runs
// .ci/run as root with every package test/run.sh installs: a skip there would hide a broken suite).
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import t from 'tap';

export const isRoot = process.getuid?.() === 0;
const inCi = process.env.CI === 'true';

/** Whether `cmd args` runs and exits 0. */
export const haveTool = (cmd: string, ...args: string[]): boolean =>
  spawnSync(cmd, args.length ? args : ['--version'], { stdio: 'ignore' }).status === 0;

/** "needs root (why)" when this is not root. */
export const needsRoot = (why: string): string | undefined => (isRoot ? undefined : `needs root (${why})`);

/** The first reason of a table of [met, reason] rows whose condition is not met. */
export const firstUnmet = (rows: readonly (readonly [boolean, string])[]): string | undefined =>
  rows.find(([met]) => !met)?.[1];

const said = new Set<string>();
const file = basename(process.argv[1] ?? 'this test');

function banner(reason: string): string {
  const text = `NOT TESTED HERE: ${file}: ${reason} (CI runs it)`;
  if (!said.has(reason)) {
    said.add(reason);
    process.stderr.write(`\n*** ${text} ***\n\n`);
    t.comment(text);
  }
  return text;
}

/**
 * A test's `skip` option from why it cannot run here (undefined or false: it can). Off CI the tests
 * skip with a banner on stderr and in the TAP output; with CI=true the file fails, once per reason.
 */
export function skipUnless(reason: string | undefined | false): string | false {
  if (!reason) return false;
  if (inCi && !said.has(reason)) {
    said.add(reason);
    t.fail(`${file}: ${reason}, and CI=true: CI must run this suite`);
  }
  return inCi ? reason : banner(reason);
}

/**
 * For a file whose every line needs what it lacks (it sets up namespaces at the top): off CI, a loud
 * skip of the whole file; with CI=true, an error that fails it.
 */
export function exitUnless(reason: string | undefined | false): void {
  if (!reason) return;
  if (inCi) throw new Error(`${file}: ${reason}, and CI=true: CI must run this suite`);
  t.plan(0, banner(reason));
  process.exit(0);
}
