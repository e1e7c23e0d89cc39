// `ovactl anyip watch`: converge once, then follow the ranges file through in-place writes, an
// editor's rename-replace, `sed -i`, delete and re-create. The folder is watched (a watch on the file
// itself dies with the inode a rename replaces), bursts are debounced, runs never overlap, and a
// periodic pass repairs drift (someone ran `ip route del`). Bad input is reported, never fatal.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { serialPasses } from '../core/passes.js';

export interface WatchOptions {
  readonly file: string;
  /** One convergence pass; reports its own outcome. Must not throw for bad input. */
  readonly converge: () => Promise<void>;
  readonly debounceMs?: number;
  readonly resyncMs?: number;
  readonly log: (line: string) => void;
}

export interface Watcher {
  /** Resolves when the first pass is done. */
  readonly ready: Promise<void>;
  close(): void;
}

export function watchRanges(opts: WatchOptions): Watcher {
  const debounceMs = opts.debounceMs ?? 50;
  const dir = dirname(opts.file);
  const name = basename(opts.file);
  let watcher: FSWatcher | undefined;
  let retry: NodeJS.Timeout | undefined;
  const passes = serialPasses({
    converge: opts.converge,
    debounceMs,
    resyncMs: opts.resyncMs ?? 60_000,
    label: 'anyip watch',
    log: opts.log,
  });
  const schedule = passes.schedule;
  const isClosed = passes.closed;

  const startWatching = () => {
    if (isClosed()) return;
    try {
      watcher = watch(dir, { persistent: true }, (_event, changed) => {
        if (changed === null || changed === name || String(changed).startsWith(name)) schedule();
      });
      watcher.on('error', (e) => {
        opts.log(`anyip watch: lost the watch on ${dir} (${e.message}); watching again`);
        watcher?.close();
        retry = setTimeout(startWatching, 1000);
      });
    } catch (e) {
      opts.log(`anyip watch: cannot watch ${dir} (${(e as Error).message}); retrying every second`);
      retry = setTimeout(() => {
        startWatching();
        schedule();
      }, 1000);
    }
  };

  startWatching();
  const ready = passes.start();
  return {
    ready,
    close() {
      passes.close();
      clearTimeout(retry);
      watcher?.close();
    },
  };
}
