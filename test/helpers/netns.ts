// Network namespaces for the namespace tests (AnyIP, RHI, route tables, metrics, syslog): one per test,
// named with the test run's PID, every process started in it killed by PID and the namespace deleted in
// the test's teardown (also on failure).
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { cliArgv, runCli, type CliResult } from './cli.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The appliance has no NODE_EXTRA_CA_CERTS (cliArgv drops tap's NODE_OPTIONS). */
const NO_EXTRA_CA = ['-u', 'NODE_EXTRA_CA_CERTS'];

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  out: string;
  err: string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | string>;
  /** Waits until stdout+stderr match `re`. */
  waitFor(re: RegExp, ms?: number): Promise<boolean>;
}

let counter = 0;

export class Netns {
  readonly procs: Proc[] = [];
  private constructor(readonly name: string) {}

  /** `ip netns add`, lo up; deleted (after its processes are stopped) when `t` ends. */
  static create(t: Teardown, tag: string): Netns {
    const ns = new Netns(`ovactl-${tag}-${process.pid}-${++counter}`);
    t.teardown(() => ns.destroy());
    must(spawnSync('ip', ['netns', 'add', ns.name], { encoding: 'utf8' }), `ip netns add ${ns.name}`);
    ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** `ip -n NS …`, throwing on failure. */
  ip(...args: string[]): string {
    return must(
      spawnSync('ip', ['-n', this.name, ...args], { encoding: 'utf8' }),
      `ip -n ${this.name} ${args.join(' ')}`,
    ).stdout;
  }

  exec(cmd: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
    return spawnSync('ip', ['netns', 'exec', this.name, ...cmd], {
      encoding: 'utf8',
      input: opts.input,
      timeout: opts.timeoutMs ?? 30_000,
    });
  }

  ovactl(...args: string[]): CliResult {
    return runCli(args, { wrap: ['ip', 'netns', 'exec', this.name], envArgs: NO_EXTRA_CA, timeoutMs: 30_000 });
  }

  /** A background process in the namespace; `ip netns exec` and env exec, so the PID is the program's. */
  spawn(cmd: readonly string[]): Proc {
    const child = spawn('ip', ['netns', 'exec', this.name, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error(`cannot start ${cmd.join(' ')}`);
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    const p: Proc = {
      child,
      pid: child.pid,
      out: '',
      err: '',
      exited,
      alive: () => child.exitCode === null && child.signalCode === null,
      async stop(graceMs = 3000) {
        if (p.alive()) {
          kill(p.pid, 'SIGTERM');
          const t = setTimeout(() => p.alive() && kill(p.pid, 'SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        }
        return exited;
      },
      async waitFor(re, ms = 5000) {
        const deadline = Date.now() + ms;
        while (!re.test(p.out + p.err)) {
          if (Date.now() > deadline || !p.alive()) return re.test(p.out + p.err);
          await sleep(10);
        }
        return true;
      },
    };
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (p.out += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (p.err += s));
    this.procs.push(p);
    return p;
  }

  spawnOvactl(...args: string[]): Proc {
    return this.spawn(cliArgv(args, { envArgs: NO_EXTRA_CA }));
  }

  /** The routes of the anyip service (proto 252), IPv4 and IPv6, sorted. */
  owned(): string[] {
    return [...this.routes('-4', 'proto', '252'), ...this.routes('-6', 'proto', '252')].sort();
  }

  /** Every route of the local table as "dst proto", for checking foreign routes survive. */
  local(family: '-4' | '-6' = '-4'): string[] {
    const out = spawnSync('ip', ['-n', this.name, family, '-json', 'route', 'show', 'table', 'local'], {
      encoding: 'utf8',
    }).stdout;
    return (JSON.parse(out || '[]') as { dst: string; protocol?: string }[]).map((r) =>
      `${r.dst} ${r.protocol ?? ''}`.trim(),
    );
  }

  private routes(family: string, ...filter: string[]): string[] {
    const r = spawnSync('ip', ['-n', this.name, family, '-json', 'route', 'show', 'table', 'local', ...filter], {
      encoding: 'utf8',
    });
    const full = family === '-4' ? 32 : 128;
    return (JSON.parse(r.stdout || '[]') as { dst: string }[]).map((x) =>
      x.dst.includes('/') ? x.dst : `${x.dst}/${full}`,
    );
  }

  /** Polls until the service's routes equal `want` (sorted compare); returns the last state seen. */
  async converge(want: readonly string[], ms = 5000): Promise<{ ok: boolean; routes: string[]; ms: number }> {
    const target = JSON.stringify([...want].sort());
    const t0 = Date.now();
    for (;;) {
      const routes = this.owned();
      if (JSON.stringify(routes) === target) return { ok: true, routes, ms: Date.now() - t0 };
      if (Date.now() - t0 > ms) return { ok: false, routes, ms: Date.now() - t0 };
      await sleep(15);
    }
  }

  async destroy(): Promise<void> {
    for (const p of this.procs) await p.stop(1000).catch(() => undefined);
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function must(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr}`);
  return r;
}
