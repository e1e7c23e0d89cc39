// `ovactl doctor`: the troubleshooting checklists as one command (src/doctor/checks.ts).
import { readdirSync, statSync } from 'node:fs';
import { CHECKS, runChecks } from '../doctor/checks.js';
import { defaultExec, type CheckResult, type Interval } from '../doctor/check.js';
import { APPLIANCE_MARKERS, isAppliance, parseVipRanges } from '../doctor/facts.js';
import { checkBundlePath, collect } from '../doctor/collect.js';
import { errnoError, onPath } from '../core/fs-error.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { styleFor, type Style } from './style.js';

export const spec: CommandSpec = {
  name: 'doctor',
  summary:
    'Check the appliance: VIP ranges, AnyIP routes, haproxy, the Data Plane API, RHI — with the fix for each problem.',
  usage: 'ovactl doctor [--root DIR] [--vip-range A-B[,…]] [--json] [--collect FILE]',
  help: `
Runs the troubleshooting checklists as one command, each check with a verdict (✓ ok, ✗ problem,
! warning, - skipped) and, under each problem, the fix.

Checks: ${CHECKS.map((c) => `${c.id}${c.needs === 'live' ? '*' : ''}`).join(', ')}
(* live: need the running appliance, skipped with --root).

Options:
  --root DIR          check the files under DIR only (a rendered tree or an unpacked support bundle):
                      the live checks are skipped
  --vip-range RANGES  the control plane's "IP Address Ranges for Virtual Servers", START-END[,…]
                      (or CIDRs): must lie inside the AnyIP ranges; the addresses outside are named
  --json              {"ok", "checks": [{"id", "title", "verdict", "detail", "fix"?}]}
  --collect FILE      also write a support bundle (tar.gz: configs, status, routes, units, journal
                      tails) with every secret and private key removed
  -h, --help          show this help

Exit status: 0 all good (warnings allowed), 1 problems found, 2 usage error, an unreadable --root, an
unwritable --collect FILE (checked before the report), or (without --root) not an appliance.`,
  options: {
    root: { type: 'string' },
    'vip-range': { type: 'string' },
    json: { type: 'boolean' },
    collect: { type: 'string' },
  },
};

const bundleArg = { flag: '--collect', example: '/tmp/support.tar.gz' } as const;

const MARK = { ok: '✓', fail: '✗', warn: '!', skip: '-' } as const;

export function checklistText(results: readonly CheckResult[], s: Style): string {
  const lines: string[] = [];
  const colour = { ok: s.green, fail: s.red, warn: s.yellow, skip: s.dim } as const;
  for (const r of results) {
    lines.push(`${colour[r.verdict](MARK[r.verdict])} ${r.verdict === 'skip' ? s.dim(r.title) : r.title}`);
    const detail = r.detail
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
    lines.push(r.verdict === 'skip' ? s.dim(detail) : detail);
    if (r.fix) lines.push(...r.fix.split('\n').map((l, i) => `    ${i === 0 ? s.bold('fix:') : '    '} ${l}`));
  }
  const n = (v: string) => results.filter((r) => r.verdict === v).length;
  lines.push(
    '',
    n('fail')
      ? s.red(s.bold(`${n('fail')} problem(s) found`)) + `, ${n('warn')} warning(s)`
      : s.green(`all good${n('warn') ? `, ${n('warn')} warning(s)` : ''}`) +
          (n('skip') ? `, ${n('skip')} skipped` : ''),
  );
  return lines.join('\n') + '\n';
}

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const v = args.values;
  const root = v.root as string | undefined;
  if (root !== undefined) {
    // An unreadable tree would show every file as missing: say so once instead.
    const readable = await onPath({ flag: '--root', path: root }, () => {
      if (!statSync(root).isDirectory()) throw errnoError('ENOTDIR', 'scandir', root, `${root} is not a folder`);
      readdirSync(root);
    });
    if (!readable.ok) return io.inputError(readable.error);
  }
  if (root === undefined && !isAppliance('/')) {
    io.stderr(
      `ovactl doctor: this machine is not an ovactl appliance (it has none of ${APPLIANCE_MARKERS.join(', ')}); ` +
        'fix: run it on the appliance, or give --root DIR to check a rendered tree or an unpacked support bundle\n',
    );
    return EXIT.usage;
  }
  const collectTo = typeof v.collect === 'string' ? v.collect : undefined;
  if (collectTo !== undefined) {
    // Before the report: a bundle that cannot be written is a usage mistake, found in no time.
    const writable = await onPath({ ...bundleArg, path: collectTo }, () => checkBundlePath(collectTo));
    if (!writable.ok) return io.inputError(writable.error);
  }
  let vipRanges: Interval[] | undefined;
  if (typeof v['vip-range'] === 'string') {
    const r = parseVipRanges(v['vip-range']);
    if (typeof r === 'string') throw new UsageError(r);
    vipRanges = r;
  }
  const ctx = { root: root ?? '/', live: root === undefined, ...(vipRanges ? { vipRanges } : {}), exec: defaultExec };
  const results = await runChecks(ctx);
  const ok = !results.some((r) => r.verdict === 'fail');
  const json = JSON.stringify({
    ok,
    checks: results.map((r) => ({
      id: r.id,
      title: r.title,
      verdict: r.verdict,
      detail: r.detail,
      ...(r.fix ? { fix: r.fix } : {}),
    })),
  });
  io.stdout(v.json === true ? json + '\n' : checklistText(results, styleFor(1)));
  if (collectTo !== undefined) {
    const arg = { ...bundleArg, path: collectTo };
    try {
      const notes = await onPath(arg, () => collect(ctx, collectTo, json));
      if (!notes.ok) return io.inputError(notes.error);
      io.stderr(`wrote support bundle ${collectTo}${notes.value.length ? ` (${notes.value.join('; ')})` : ''}\n`);
    } catch (e) {
      io.stderr(`ovactl doctor: --collect ${collectTo}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
  }
  return ok ? EXIT.ok : EXIT.invalid;
}
