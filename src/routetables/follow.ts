// `ovactl route-tables watch`: converge once, then again whenever an IPv4 address appears, changes or
// goes (`ip -o -4 monitor address`: a lease acquired, renewed onto another address, released), with
// bursts debounced, passes never overlapping, and a periodic pass that repairs drift (someone ran
// `ip rule del`) and covers a monitor that died (it is started again). Bad input is never fatal.
import { spawn, type ChildProcess } from 'node:child_process';
import { serialPasses } from '../core/passes.js';

export interface FollowOptions {
  /** One convergence pass; reports its own outcome. Must not throw for bad input. */
  readonly converge: () => Promise<void>;
  readonly debounceMs?: number;
  readonly resyncMs?: number;
  readonly log: (line: string) => void;
  /** The event source; default `ip -o -4 monitor address`. A line on its stdout means "look again". */
  readonly monitor?: readonly string[];
}

export interface Follower {
  /** Resolves when the first pass is done. */
  readonly ready: Promise<void>;
  close(): void;
}

export function followAddresses(opts: FollowOptions): Follower {
  const debounceMs = opts.debounceMs ?? 100;
  const [cmd, ...args] = opts.monitor ?? ['ip', '-o', '-4', 'monitor', 'address'];
  let restart: NodeJS.Timeout | undefined;
  let child: ChildProcess | undefined;
  const passes = serialPasses({
    converge: opts.converge,
    debounceMs,
    resyncMs: opts.resyncMs ?? 30_000,
    label: 'route-tables watch',
    log: opts.log,
  });
  const schedule = passes.schedule;
  const isClosed = passes.closed;

  const startMonitor = () => {
    if (isClosed()) return;
    const p = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child = p;
    p.stdout!.on('data', schedule);
    p.on('error', (e) => opts.log(`route-tables watch: cannot run ${cmd}: ${e.message}; retrying every second`));
    p.on('close', () => {
      if (isClosed()) return;
      opts.log('route-tables watch: the address monitor ended; starting it again');
      restart = setTimeout(() => {
        startMonitor();
        schedule(); // what changed while it was not watching
      }, 1000);
    });
  };

  startMonitor();
  const ready = passes.start();
  return {
    ready,
    close() {
      passes.close();
      clearTimeout(restart);
      child?.kill();
    },
  };
}
