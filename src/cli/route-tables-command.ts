import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { CONFIG_FILE, describeProblem } from '../routetables/config.js';
import { applyRules, ownedRules } from '../routetables/rules.js';
import { converge, describeApi, describeChange, describeForeign, describeLeases } from '../routetables/converge.js';
import type { Outcome } from '../routetables/converge.js';
import { followAddresses } from '../routetables/follow.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';

export const spec: CommandSpec = {
  name: 'route-tables',
  summary: 'Policy routing for DHCP NICs: replies and backend traffic leave by their own NIC.',
  usage: 'ovactl route-tables up|down|watch [--config FILE] [--root DIR]',
  help: `
  up       for each DHCP NIC of the file, the rules "from LEASE/32 lookup TABLE" and "to SUBNET
           lookup TABLE" (tagged protocol 251; rules this service did not make are never touched),
           and the Data Plane API onto the management lease (listener and certificate SAN)
  down     remove every rule this service owns
  watch    up, then again whenever an address appears, changes or goes (a lease acquired, moved or
           released); never exits on bad input (the route-tables service)

Static NICs keep the rules networkd renders from their addresses; this service leaves them alone.
A bad line of the file is reported with its number and the fix, and skipped.

Options:
  --config FILE   the file (default ${CONFIG_FILE})
  --root DIR      where the Data Plane API's files are (default /)
  -h, --help      show this help

Exit status: 0 done, 1 the file has bad lines or a change failed, 2 usage error or unreadable file.`,
  options: { config: { type: 'string' }, root: { type: 'string' } },
};

/** `systemctl try-restart dataplaneapi.service`: undefined when done, else why not. Never throws. */
const restartApi = (): Promise<string | undefined> =>
  new Promise((resolve) => {
    const args = ['try-restart', '--no-block', 'dataplaneapi.service'];
    const p = spawn('systemctl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    p.on('error', (e) => resolve(e.message));
    p.on('close', (code) => resolve(code === 0 ? undefined : err.trim().split('\n')[0] || `exit ${code}`));
  });

/** The lines of one pass: [stdout, stderr]. `quiet`: only what changed (the watcher). */
function report(tag: string, file: string, o: Outcome, quiet: boolean): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err = o.config.problems.map((p) => describeProblem(file, p));
  const changed = o.diff.add.length + o.diff.remove.length > 0;
  if (!quiet || changed) out.push(`${tag}: ${describeChange(o.diff)} (${describeLeases(o.leases)})`);
  if (o.diff.foreign.length) err.push(`${tag}: ${describeForeign(o.diff)}`);
  if (o.kernelError) err.push(`${tag}: the kernel refused a change: ${o.kernelError}`);
  const api = o.api && describeApi(o.api);
  if (api) out.push(`${tag}: ${api}`);
  for (const p of o.api?.problems ?? []) err.push(`${tag}: ${p}`);
  return { out, err };
}

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  const [action, ...rest] = args.positionals;
  if (!action || !['up', 'down', 'watch'].includes(action) || rest.length) {
    throw new UsageError('give one of up, down, watch');
  }
  const config = (args.values.config as string | undefined) ?? CONFIG_FILE;
  const root = (args.values.root as string | undefined) ?? '/';

  if (action === 'down') {
    const current = await ownedRules();
    const r = await applyRules({ add: [], remove: current });
    io.stdout(`route-tables down: removed ${current.length} rule${current.length === 1 ? '' : 's'}\n`);
    if (!r.ok) io.stderr(`ovactl route-tables down: ${r.message}\n`);
    return r.ok ? EXIT.ok : EXIT.invalid;
  }
  if (action === 'watch') return watch(config, root, io);

  const o = await converge({ config, root, missingAsEmpty: false, restartApi });
  if ('unreadable' in o) {
    return io.inputError({ kind: 'input', origin: config, message: `cannot read: ${o.unreadable}` });
  }
  const r = report('route-tables up', config, o, false);
  if (r.out.length) io.stdout(r.out.join('\n') + '\n');
  if (r.err.length) io.stderr(r.err.join('\n') + '\n');
  return o.kernelError === undefined && !o.config.problems.length && !o.api?.problems.length ? EXIT.ok : EXIT.invalid;
}

/** The service: runs until stopped; logs what changed (and only then), each problem once per change. */
async function watch(config: string, root: string, io: CommandIO): Promise<number> {
  // A small resident service, as anyip watch: memory over speed.
  for (const flag of ['--semi-space-growth-factor=1', '--optimize-for-size', '--no-opt']) setFlagsFromString(flag);
  const log = (line: string) => io.stdout(`${line}\n`);
  let lastErr = '';
  let lastLeases = '';
  const f = followAddresses({
    log,
    converge: async () => {
      const o = await converge({ config, root, missingAsEmpty: true, restartApi });
      if ('unreadable' in o) {
        log(`route-tables watch: cannot read ${config}: ${o.unreadable}`);
        return;
      }
      const r = report('route-tables watch', config, o, true);
      const leases = describeLeases(o.leases);
      if (leases !== lastLeases && !r.out.length) log(`route-tables watch: ${leases}`);
      lastLeases = leases;
      if (r.out.length) io.stdout(r.out.join('\n') + '\n');
      const err = r.err.join('\n');
      if (err && err !== lastErr) io.stderr(err + '\n');
      lastErr = err;
    },
  });
  await f.ready;
  log(`route-tables watch: following the addresses of the NICs in ${config}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      f.close();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return EXIT.ok;
}
