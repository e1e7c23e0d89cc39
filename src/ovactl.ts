// Bundle entry. Unexpected failures print one line (no stack trace) unless OVACTL_DEBUG is set.
import { main } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`ovactl: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.OVACTL_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    process.exitCode = 70;
  },
);
