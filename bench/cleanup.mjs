// For the benchmarks that start processes in network namespaces of their own: when the bench ends —
// normally, on an error, on ^C or SIGTERM — every child still running is killed (by PID), the
// namespaces deleted and the scratch folder removed. Returns the set to add children to, and done():
// clean up now and take the handlers off again (bench/run.mjs runs several benches in one process).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

export function cleanupAtExit({ namespaces, scratch }) {
  const children = new Set();
  const cleanup = () => {
    for (const c of children)
      if (c.exitCode === null && c.signalCode === null)
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(scratch, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.on('exit', cleanup);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const done = () => {
    cleanup();
    process.off('exit', cleanup);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return { children, done };
}
