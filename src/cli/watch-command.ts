import { liveSystem, recordingSystem } from '../apply/system.js';
import { rootProblem } from '../apply/root-check.js';
import { onPath } from '../core/fs-error.js';
import { runWatch } from '../live/watch.js';
import { EXIT, type CommandIO } from './io.js';
import { parse, UsageError, type CommandSpec } from './usage.js';

export const spec: CommandSpec = {
  name: 'watch',
  summary: "Keep the status equal to what the appliance serves now (ovactl-watch.service's job).",
  usage: 'ovactl watch [--once] [--root DIR]',
  help: `
After boot, the status says what the appliance serves now: whether haproxy runs, whether the
configuration it serves is haproxy.cfg's (a reload that failed leaves an older one serving), whether
every VIP the control plane binds is inside an AnyIP range, whether the kernel's AnyIP routes are the
ranges file's, whether the Data Plane API answers, whether its certificate is in date. It looks once a
second for a change (haproxy.cfg, the ranges file, the status, a restart of haproxy, the Data Plane
API or anyip-routes) and at least every 30 s. Each problem is a finding (rule, message, fix) in the
status's "findings"; the state is "ready" with none, "degraded" while haproxy serves with findings,
"error" when nothing is served. status.json, the console banner, guestinfo.ovactl.status and the
metric ovactl_state change only when the result does, and a finding clears itself once fixed. While
first boot or ovactl-ready still decide (state "starting") it leaves the status alone.

Options:
  --once       look once, write the status if it changed, print it, and exit
  --root DIR   the files (and haproxy's master socket) under DIR; guestinfo and the console are left
               alone
  -h, --help   show this help

Exit status: 0 (--once: the state is ready, or not the watcher's to say); 1 (--once) degraded or
error; 2 usage error. Without --once it runs until stopped (SIGTERM) and exits 0.`,
  options: {
    once: { type: 'boolean' },
    root: { type: 'string' },
  },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const rootArg = args.values.root as string | undefined;
  const rootOf = rootArg === undefined ? { path: '/' } : { flag: '--root', path: rootArg };
  const unfit = rootArg === undefined ? undefined : rootProblem(rootOf);
  if (unfit) return io.inputError(unfit);
  const once = args.values.once === true;
  const controller = new AbortController();
  if (!once) {
    const stop = () => controller.abort();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  const log = (line: string) => io.stdout(`ovactl watch: ${line}\n`);
  if (!once) log(`watching ${rootArg ?? 'the appliance'}`);
  const done = await onPath(rootOf, () =>
    runWatch({
      root: rootArg ?? '/',
      system: rootArg === undefined ? liveSystem() : recordingSystem(),
      once,
      log,
      signal: controller.signal,
    }),
  );
  if (!done.ok) return io.inputError(done.error);
  if (!once) return EXIT.ok;
  const s = done.value.status;
  if (!s) return EXIT.ok;
  const lines = [`state ${s.state}`];
  for (const f of s.findings ?? []) lines.push(`  ${f.rule}: ${f.message}`, ...(f.hint ? [`    fix: ${f.hint}`] : []));
  log(lines.join('\n'));
  return s.state === 'ready' ? EXIT.ok : EXIT.invalid;
}
