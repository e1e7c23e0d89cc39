import { setFlagsFromString } from 'node:v8';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { METRICS_DIR, RANGES_FILE } from '../appliance/paths.js';
import { applyBatch, localRoutes, ownedRoutes } from '../anyip/routes.js';
import { diff } from '../anyip/diff.js';
import { converge, describeChange, describeForeign, describeProblems, listRanges } from '../anyip/converge.js';
import { watchRanges } from '../anyip/watch.js';
import { HA_STANDBY_FILE } from '../appliance/ha.js';
import { anyipFamilies } from '../metrics/appliance.js';
import { writeMetrics } from '../metrics/prom.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { readRegularFile } from '../core/regular-file.js';

export const spec: CommandSpec = {
  name: 'anyip',
  summary: "Keep the kernel's local routes equal to the AnyIP VIP ranges file.",
  usage: 'ovactl anyip up|down|watch|status [--config FILE] [--json]',
  help: `
  up       make the local table hold exactly the file's ranges (routes tagged proto 252; local
           routes this service did not create are never touched); one "ip -batch" for all changes
  down     remove every route this service owns, whether or not it is still in the file
  watch    up, then follow the file (in-place writes, rename-replace, sed -i, delete and re-create)
           and run up after each change; never exits on bad input (the anyip-routes service)
  status   the file's ranges against the kernel's routes, and what differs

A line that is not a valid network CIDR is reported with its number and the fix, and skipped; the
valid lines still apply.

Options:
  --config FILE   the ranges file (default ${RANGES_FILE})
  --json          status as JSON: {"file": [...], "kernel": [...], "missing": [...], "extra": [...],
                  "foreign": [...], "problems": [...]}; foreign: listed ranges the local table already
                  holds as a route anyip-routes did not make (left alone: they answer)
  -h, --help      show this help

Exit status: 0 done, 1 the file has bad lines or the kernel refused a change, 2 usage error or unreadable file.`,
  options: { config: { type: 'string' }, json: { type: 'boolean' } },
};

/** The appliance's ranges file obeys a pair's standby (src/ha/daemon.ts); another --config does not. */
const standbyFile = (config: string): string | undefined => (config === RANGES_FILE ? HA_STANDBY_FILE : undefined);

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  const [action, ...rest] = args.positionals;
  if (!action || !['up', 'down', 'watch', 'status'].includes(action) || rest.length)
    throw new UsageError('give one of up, down, watch, status');
  const config = (args.values.config as string | undefined) ?? RANGES_FILE;

  if (action === 'down') {
    const current = await ownedRoutes();
    const r = await applyBatch({ add: [], remove: current });
    const listed = current.length ? `: ${listRanges(current)}` : '';
    io.stdout(`anyip down: removed ${current.length} route${current.length === 1 ? '' : 's'}${listed}\n`);
    if (!r.ok) io.stderr(`ovactl anyip down: ${r.message}\n`);
    return r.ok ? EXIT.ok : EXIT.invalid;
  }

  if (action === 'watch') return watchCommand(config, io);

  if (action === 'up') {
    const o = await converge(config, false, standbyFile(config));
    if ('unreadable' in o)
      return io.inputError({ kind: 'input', origin: config, message: `cannot read: ${o.unreadable}` });
    for (const line of describeProblems(config, o.problems)) io.stderr(`${line}\n`);
    io.stdout(`anyip up: ${describeChange(o.diff)}\n`);
    if (o.diff.foreign.length) io.stderr(`ovactl anyip up: ${describeForeign(o.diff)}\n`);
    if (o.kernelError) io.stderr(`ovactl anyip up: the kernel refused a change: ${o.kernelError}\n`);
    return o.kernelError === undefined && o.problems.length === 0 ? EXIT.ok : EXIT.invalid;
  }

  // status
  let text: string;
  try {
    text = readRegularFile(config);
  } catch (e) {
    return io.inputError({
      kind: 'input',
      origin: config,
      message: `cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    });
  }
  const file = parseRangesFile(text);
  for (const line of describeProblems(config, file.problems)) io.stderr(`${line}\n`);
  const { owned, foreign } = await localRoutes();
  const d = diff(file.ranges, owned, foreign);
  if (args.values.json) {
    io.stdout(
      JSON.stringify({
        file: file.ranges.map((r) => r.text),
        kernel: [...d.kept, ...d.remove],
        missing: d.add,
        extra: d.remove,
        foreign: d.foreign,
        problems: file.problems,
      }) + '\n',
    );
  } else {
    io.stdout(
      [
        `file ${config}: ${file.ranges.length} range(s); kernel: ${d.kept.length + d.remove.length} route(s)`,
        ...d.add.map((r) => `  missing in the kernel: ${r}`),
        ...d.remove.map((r) => `  in the kernel, not in the file: ${r}`),
        ...d.foreign.map((r) => `  a local route not made by anyip-routes: ${r} (answers; not ours to remove)`),
        syncLine(d.add.length + d.remove.length, file.problems.length),
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
  }
  return d.add.length + d.remove.length + file.problems.length === 0 ? EXIT.ok : EXIT.invalid;
}

/** The verdict, agreeing with the exit status: bad lines make exit 1 even when the routes match. */
const syncLine = (differences: number, badLines: number): string =>
  differences
    ? ''
    : badLines
      ? `  the kernel matches the file's valid lines, but ${badLines} line(s) were skipped (above): fix them`
      : '  in sync';

/** The service: runs until stopped; logs what changed (and only then), every bad line once per change. */
async function watchCommand(config: string, io: CommandIO): Promise<number> {
  // A service that idles between small passes trades speed for memory (bench/anyip.mjs: ~45 MB
  // resident instead of ~75 after a 10,000-range pass): V8's young generation stays at its initial
  // 1 MB semi-spaces (one big pass would grow them to 16 MB each, never given back), the heap is sized
  // for memory, and no optimizing compiler (its code and the binary's pages it touches).
  for (const flag of ['--semi-space-growth-factor=1', '--optimize-for-size', '--no-opt']) setFlagsFromString(flag);
  let lastProblems = '';
  let lastForeign = '';
  let lastMissing = false;
  const log = (line: string) => io.stdout(`${line}\n`);
  const w = watchRanges({
    file: config,
    log,
    converge: async () => {
      const o = await converge(config, true, standbyFile(config));
      if ('unreadable' in o) {
        log(`anyip watch: cannot read ${config}: ${o.unreadable}`);
        return;
      }
      if (o.missingFile !== lastMissing)
        log(
          o.missingFile
            ? `anyip watch: ${config} is missing: it lists no ranges now; waiting for it`
            : `anyip watch: ${config} is back`,
        );
      lastMissing = o.missingFile;
      const problems = describeProblems(config, o.problems).join('\n');
      if (problems !== lastProblems && problems) io.stderr(problems + '\n');
      lastProblems = problems;
      if (o.diff.add.length || o.diff.remove.length) log(`anyip watch: ${describeChange(o.diff)}`);
      const foreign = o.diff.foreign.join(',');
      if (foreign !== lastForeign && foreign) io.stderr(`anyip watch: ${describeForeign(o.diff)}\n`);
      lastForeign = foreign;
      if (o.kernelError) io.stderr(`anyip watch: the kernel refused a change: ${o.kernelError}\n`);
      const d = o.diff;
      const inKernel = o.kernelError ? d.kept.length + d.remove.length : d.kept.length + d.add.length;
      const counts = {
        inFile: d.kept.length + d.add.length + d.foreign.length,
        inKernel,
        foreign: d.foreign.length,
        kernelError: !!o.kernelError,
      };
      const problem = writeMetrics(METRICS_DIR, 'anyip.prom', anyipFamilies(counts));
      if (problem) io.stderr(`anyip watch: metrics: ${problem}\n`);
    },
  });
  await w.ready;
  log(`anyip watch: following ${config}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      w.close();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return EXIT.ok;
}
