// The one way the tests run the bundled CLI (dist/ovactl.js): one path, one environment, one result shape.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './values.js';

/** The bundle every CLI test runs (test/run.sh builds it before the tests). */
export const BUNDLE = join(ROOT, 'dist/ovactl.js');

/**
 * This process's environment without what would change the CLI's behaviour or output under test:
 * tap's variables, NODE_OPTIONS (tap's loader), NO_COLOR and the CLI's own switches (OVACTL_DEBUG,
 * OVACTL_WRITE_CODE_CACHE). `extra` is added on top.
 */
const DROPPED = ['NODE_OPTIONS', 'NO_COLOR', 'OVACTL_DEBUG', 'OVACTL_WRITE_CODE_CACHE'];

export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dropped = (k: string) => DROPPED.includes(k) || /tap/i.test(k);
  const kept = Object.entries(process.env).filter((e): e is [string, string] => !dropped(e[0]) && e[1] !== undefined);
  return { ...Object.fromEntries(kept), ...extra };
}

export interface CliOptions {
  /** Standard input. */
  input?: string | Buffer;
  /** Killed after this long (default 20 s); a killed run has `signal` set. */
  timeoutMs?: number;
  /** The node binary (default this one; OVACTL_NODE18 for the appliance's Node 18). */
  node?: string;
  /** A copy of the bundle elsewhere (default BUNDLE). */
  bundle?: string;
  /** The environment (default cliEnv()). */
  env?: Record<string, string>;
  /** env(1) arguments before the node binary, e.g. ['PATH=/nonexistent']. */
  envArgs?: readonly string[];
  /** A command that runs the rest, e.g. ['ip', 'netns', 'exec', ns] or a setpriv prefix. */
  wrap?: readonly string[];
  cwd?: string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/**
 * The command line that runs the CLI: through env(1), because tap's process tracking puts
 * NODE_OPTIONS back into node children and Node 18 (OVACTL_NODE18) cannot load what it names.
 * For callers that spawn it themselves (a long-running watcher, a run killed on purpose).
 */
export function cliArgv(
  args: readonly string[],
  opts: Pick<CliOptions, 'node' | 'bundle' | 'envArgs' | 'wrap'> = {},
): string[] {
  const node = opts.node ?? process.execPath;
  return [
    ...(opts.wrap ?? []),
    '/usr/bin/env',
    '-u',
    'NODE_OPTIONS',
    ...(opts.envArgs ?? []),
    node,
    opts.bundle ?? BUNDLE,
    ...args,
  ];
}

/** Runs the CLI to the end: exit code, signal (when the timeout killed it), stdout and stderr. */
export function runCli(args: readonly string[], opts: CliOptions = {}): CliResult {
  const [cmd, ...rest] = cliArgv(args, opts);
  const r = spawnSync(cmd, rest, {
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20_000,
    maxBuffer: 64 * 1024 * 1024,
    env: opts.env ?? cliEnv(),
    cwd: opts.cwd,
  });
  // An error with an exit status (EPIPE: the CLI stopped reading a long stdin) is a result, not a failure to run.
  if (r.status === null && r.signal === null) throw new Error(`could not run ${cmd}: ${r.error?.message}`);
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}
