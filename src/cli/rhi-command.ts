// `ovactl rhi`: route health injection — the daemon (run), what it is doing (status), a rules file
// checker (check), and the helpers its units run (withdraw after it stops, prepare before BIRD starts).
import { VERSION } from './version.js';
import { setFlagsFromString } from 'node:v8';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { HAPROXY_ADMIN_SOCKET, HAPROXY_CFG, RANGES_FILE } from '../appliance/paths.js';
import { BIRD_CONF, BIRD_SOCKET, ROUTES_DIR, routesFile, staticProtocols } from '../rhi/bird.js';
import { deriveRules, parseHaproxyConfig } from '../rhi/auto.js';
import { Daemon, withdrawAll, type DaemonOptions } from '../rhi/daemon.js';
import {
  MAX_RULES_BYTES,
  RULES_FILE,
  describeError,
  parseRules,
  refText,
  ruleText,
  type RuleDef,
} from '../rhi/rules.js';
import { birdRoutes } from '../rhi/sockets.js';
import { STATE_FILE, readStatus, running as isRunning } from '../rhi/status.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { readRegularFile } from '../core/regular-file.js';
import { fsInputError, isFsMistake } from '../core/fs-error.js';
import { inputError } from '../core/result.js';

const DEFAULTS = { intervalMs: 250, rise: 2, fall: 2, holdDownS: 5 };

export const spec: CommandSpec = {
  name: 'rhi',
  summary: 'Route health injection: announce the VIPs through BIRD while haproxy serves them.',
  usage: 'ovactl rhi run|status|check|withdraw|prepare [options]',
  help: `
  run        the daemon (ovactl-rhi.service): polls haproxy's runtime API ("show stat"), and while
             the frontends and backends a rule names are up, lists its routes in BIRD's route
             files and runs BIRD's "configure"; withdraws every route when stopped
  status     each rule, its inputs, and whether it is announced (from the daemon's state file,
             checked against the routes BIRD holds); exit 1 when the daemon is not running
  check      parse a rules file: print the rules understood (exit 0), or every error as
             FILE:LINE:COLUMN (exit 1); with auto, also the rules haproxy.cfg yields now
  withdraw   empty every route file bird.conf includes from the routes folder, then "configure"
             (the unit's ExecStopPost: routes leave even when the daemon was killed)
  prepare    create the route files bird.conf includes, empty, where missing (before BIRD starts)

Rules (${RULES_FILE}): one a line, "#" comments:
  [%protocol ]network[, network…] = all|any|never(b:backend|f:frontend, …)
  auto       one /32 (/128) per VIP a haproxy frontend binds (inside the VIP ranges), announced
             while that frontend and every backend it uses are up
A network without /prefix is one address. %name picks BIRD's static protocol (default rhi; rhi6
for IPv6). A frontend is up when OPEN, a backend when UP; one missing from haproxy (renamed or
removed at a reload) or an unreachable runtime API counts as down.

Options:
  --config FILE          rules file (default ${RULES_FILE})
  --json                 status as JSON
  --haproxy-socket PATH  runtime API (default ${HAPROXY_ADMIN_SOCKET})
  --haproxy-config FILE  haproxy configuration auto reads (default ${HAPROXY_CFG})
  --ranges FILE          the VIP ranges auto keeps to (default ${RANGES_FILE})
  --bird-config FILE     BIRD configuration (default ${BIRD_CONF}); check: also verify the protocols
  --bird-socket PATH     BIRD control socket (default ${BIRD_SOCKET})
  --routes-dir DIR       the route files' folder (default ${ROUTES_DIR})
  --state FILE           the daemon's state file (default ${STATE_FILE})
  --interval MS          poll every MS milliseconds (default ${DEFAULTS.intervalMs})
  --rise N               healthy polls before announcing (default ${DEFAULTS.rise})
  --fall N               unhealthy polls before withdrawing (default ${DEFAULTS.fall})
  --hold-down SECONDS    a withdrawn route returns only after this long without an unhealthy
                         poll (default ${DEFAULTS.holdDownS})
  -h, --help             show this help

Exit status: 0 done, 1 errors (check), not running (status) or a failed withdraw, 2 usage error.`,
  options: {
    config: { type: 'string' },
    json: { type: 'boolean' },
    'haproxy-socket': { type: 'string' },
    'haproxy-config': { type: 'string' },
    ranges: { type: 'string' },
    'bird-config': { type: 'string' },
    'bird-socket': { type: 'string' },
    'routes-dir': { type: 'string' },
    state: { type: 'string' },
    interval: { type: 'string' },
    rise: { type: 'string' },
    fall: { type: 'string' },
    'hold-down': { type: 'string' },
  },
};

const ACTIONS = ['run', 'status', 'check', 'withdraw', 'prepare'];

/** `rhi prepare` that created nothing says why, instead of exiting 0 in silence. */
const preparedNothing = (included: number, o: { birdConfig: string; routesDir: string }): string =>
  `rhi prepare: nothing to create: ${
    included
      ? `the ${included} route file(s) ${o.birdConfig} includes from ${o.routesDir} exist`
      : `${o.birdConfig} includes no route file from ${o.routesDir} (no static protocol for RHI)`
  }\n`;

function number(
  v: string | boolean | undefined,
  name: string,
  def: number,
  min: number,
  max: number,
  integer = true,
): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v) || (integer && !Number.isInteger(n)) || n < min || n > max)
    throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  return n;
}

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  const [action, ...rest] = args.positionals;
  if (!action || !ACTIONS.includes(action) || rest.length) throw new UsageError(`give one of ${ACTIONS.join(', ')}`);
  const v = args.values;
  const str = (k: string, def: string) => (v[k] as string | undefined) ?? def;
  const o = {
    rulesFile: str('config', RULES_FILE),
    haproxySocket: str('haproxy-socket', HAPROXY_ADMIN_SOCKET),
    haproxyConfig: str('haproxy-config', HAPROXY_CFG),
    rangesFile: str('ranges', RANGES_FILE),
    birdConfig: str('bird-config', BIRD_CONF),
    birdSocket: str('bird-socket', BIRD_SOCKET),
    routesDir: str('routes-dir', ROUTES_DIR),
    stateFile: str('state', STATE_FILE),
  };
  if (action === 'check') return check(o, v['bird-config'] !== undefined, io);
  if (action === 'status') return status(o.stateFile, v['bird-socket'] as string | undefined, v.json === true, io);
  if (action === 'withdraw' || action === 'prepare') {
    const r = await withdrawAll(
      o.birdConfig,
      o.routesDir,
      o.birdSocket,
      action === 'prepare' ? { onlyMissing: true, configure: false } : {},
    );
    if (action === 'withdraw')
      io.stdout(
        `rhi withdraw: ${r.files.length} route file${r.files.length === 1 ? '' : 's'} emptied` +
          `${r.files.length ? `: ${r.files.join(', ')}` : ''}\n`,
      );
    else if (r.files.length) io.stdout(`rhi prepare: created ${r.files.join(', ')} (empty)\n`);
    else io.stdout(preparedNothing(r.included, o));
    for (const p of r.problems) io.stderr(`ovactl rhi ${action}: ${p}\n`);
    return r.problems.length ? EXIT.invalid : EXIT.ok;
  }
  const tuning = {
    rise: number(v.rise, 'rise', DEFAULTS.rise, 1, 100),
    fall: number(v.fall, 'fall', DEFAULTS.fall, 1, 100),
    holdDownMs: Math.round(number(v['hold-down'], 'hold-down', DEFAULTS.holdDownS, 0, 3600, false) * 1000),
  };
  const intervalMs = number(v.interval, 'interval', DEFAULTS.intervalMs, 50, 60_000);
  return daemon({ ...o, intervalMs, tuning }, io);
}

async function daemon(o: Omit<DaemonOptions, 'log' | 'warn' | 'version'>, io: CommandIO): Promise<number> {
  // A small resident service (see anyip watch): young generation kept at its initial size, a heap
  // sized for memory, no optimizing compiler.
  for (const flag of ['--semi-space-growth-factor=1', '--optimize-for-size', '--no-opt']) setFlagsFromString(flag);
  const d = new Daemon({
    ...o,
    version: VERSION,
    log: (l) => io.stdout(`${l}\n`),
    warn: (l) => io.stderr(`${l}\n`),
  });
  io.stdout(
    `rhi: polling ${o.haproxySocket} every ${o.intervalMs} ms ` +
      `(rise ${o.tuning.rise}, fall ${o.tuning.fall}, hold-down ${o.tuning.holdDownMs / 1000} s); ` +
      `rules ${o.rulesFile}; BIRD ${o.birdConfig} via ${o.birdSocket}\n`,
  );
  d.start();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGHUP', hup);
      void d.stop().then(resolve);
    };
    const hup = () => {
      io.stdout('rhi: SIGHUP: re-reading the configuration\n');
      d.reload();
    };
    process.on('SIGHUP', hup);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return EXIT.ok;
}

// ── check ──────────────────────────────────────────────────────────────────────────────────────

const when = (r: Pick<RuleDef, 'aggregate' | 'refs'>): string => {
  const names = r.refs.map(refText);
  const list =
    names.length <= 1
      ? names.join('')
      : `${names.slice(0, -1).join(', ')} ${r.aggregate === 'any' ? 'or' : 'and'} ${names[names.length - 1]}`;
  return r.aggregate === 'any'
    ? `while ${names.length > 1 ? 'any of ' : ''}${list} is up`
    : `while ${list} ${names.length > 1 ? 'are' : 'is'} up`;
};
const routes = (r: RuleDef): string => r.targets.map((t) => `${t.network} → ${t.protocol}`).join(', ');

const MAX_SHOWN = 100;

/** When bird.conf has no protocol to use at all, the fix is the stanza to add (as first boot renders it). */
const noProtocol = (o: Paths, t: { protocol: string; family: number }) =>
  `add protocol static ${t.protocol} { ipv${t.family}; include "${routesFile(o.routesDir, t.protocol)}"; } ` +
  `to ${o.birdConfig}`;

/** "BIRD: not in sync: BIRD: …" said BIRD twice. */
const birdWhy = (error: string | undefined) => (error ?? 'unknown').replace(/^BIRD:\s*/, '');

type Paths = { rulesFile: string; haproxyConfig: string; rangesFile: string; birdConfig: string; routesDir: string };

function check(o: Paths, withBird: boolean, io: CommandIO): number {
  let text: string;
  try {
    text = readRegularFile(o.rulesFile, MAX_RULES_BYTES);
  } catch (e) {
    return io.inputError({
      kind: 'input',
      origin: o.rulesFile,
      message: `cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    });
  }
  const parsed = parseRules(text);
  const problems: string[] = parsed.errors.map((e) => describeError(o.rulesFile, e));
  if (withBird) {
    try {
      const protocols = new Map(
        staticProtocols(readRegularFile(o.birdConfig), o.routesDir).map((p) => [p.name, p.family]),
      );
      for (const r of parsed.rules) {
        for (const t of r.targets) {
          const f = protocols.get(t.protocol);
          if (f === undefined)
            problems.push(
              `${o.rulesFile}:${r.line}:${t.column}: ${o.birdConfig} has no static protocol ${t.protocol} ` +
                `fed from ${o.routesDir}\n  fix: ` +
                (protocols.size
                  ? `use one of ${[...protocols.keys()].join(', ')}, or add the protocol to bird.conf`
                  : noProtocol(o, t)),
            );
          else if (f !== t.family)
            problems.push(
              `${o.rulesFile}:${r.line}:${t.column}: protocol ${t.protocol} in ${o.birdConfig} is IPv${f}; ` +
                `${t.network} is IPv${t.family}`,
            );
        }
      }
    } catch (e) {
      // bird.conf is not the rules file: unreadable, it is a path mistake (exit 2), not a rules error.
      const flag = { flag: '--bird-config', path: o.birdConfig };
      if (isFsMistake(e)) return io.inputError(fsInputError(e, flag));
      return io.inputError(inputError(`--bird-config ${o.birdConfig}`, `cannot read: ${(e as Error).message}`));
    }
  }
  if (problems.length) {
    // At most MAX_SHOWN errors are printed: a 1 MB line of garbage would be 150,000 of them.
    const shown =
      problems.length > MAX_SHOWN
        ? [...problems.slice(0, MAX_SHOWN), `…and ${problems.length - MAX_SHOWN} more errors, not shown`]
        : problems;
    io.stderr(
      shown.join('\n') +
        `\n${o.rulesFile}: ${problems.length} error${problems.length === 1 ? '' : 's'}; ` +
        'the daemon announces nothing from this file (and keeps its previous rules, if it runs)\n',
    );
    return EXIT.invalid;
  }
  const out = [
    `${o.rulesFile}: ${parsed.rules.length} rule${parsed.rules.length === 1 ? '' : 's'}` +
      (parsed.auto ? ' and auto' : ''),
  ];
  const items = [
    ...parsed.rules.map((r) => ({
      line: r.line,
      text:
        `  line ${r.line}: ${ruleText(r)}\n      ` +
        (r.aggregate === 'never' ? `never announces ${routes(r)}` : `announces ${routes(r)} ${when(r)}`),
    })),
    ...(parsed.auto
      ? [
          {
            line: parsed.auto.line,
            text: `  line ${parsed.auto.line}: auto — one /32 (/128) per VIP a haproxy frontend binds`,
          },
        ]
      : []),
  ];
  out.push(...items.sort((a, b) => a.line - b.line).map((i) => i.text));
  if (parsed.auto) {
    try {
      const derived = deriveRules(
        parseHaproxyConfig(readRegularFile(o.haproxyConfig)),
        parseRangesFile(readRegularFile(o.rangesFile)).ranges,
      );
      const explicit = new Set(parsed.rules.flatMap((r) => r.targets.map((t) => t.network)));
      out.push(`  auto, from ${o.haproxyConfig} and the VIP ranges in ${o.rangesFile}, now:`);
      for (const r of derived.rules)
        out.push(
          `    ${ruleText(r)}${explicit.has(r.targets[0]!.network) ? ' — overridden by the rule above' : ''}` +
            `\n        (${derived.origins.get(r)})`,
        );
      if (derived.rules.length === 0) out.push('    (no VIP bound by a frontend)');
      for (const n of derived.notes) out.push(`    note: ${n}`);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      out.push(
        '  auto: cannot show the derived rules now: ' +
          (err.code === 'ENOENT' ? `${err.path} does not exist` : err.message),
      );
    }
  }
  io.stdout(out.join('\n') + '\n');
  return EXIT.ok;
}

// ── status ─────────────────────────────────────────────────────────────────────────────────────

const hhmmss = (iso: string): string => iso.replace(/^.*T/, '').replace(/\.\d+Z$/, 'Z');

async function status(
  stateFile: string,
  birdSocketFlag: string | undefined,
  json: boolean,
  io: CommandIO,
): Promise<number> {
  const s = readStatus(stateFile);
  const running = isRunning(s);
  // What BIRD holds, per protocol, to check the daemon's word against.
  let bird: Record<string, string[]> | { error: string } | undefined;
  if (s) {
    const socket = birdSocketFlag ?? s.settings.birdSocket;
    try {
      const held: Record<string, string[]> = {};
      for (const p of s.bird.protocols) held[p] = await birdRoutes(socket, p);
      bird = held;
    } catch (e) {
      bird = { error: (e as Error).message };
    }
  }
  if (json) {
    io.stdout(JSON.stringify({ running, ...(s ?? {}), ...(bird ? { birdRoutes: bird } : {}) }) + '\n');
    return running && s!.config.errors.length === 0 ? EXIT.ok : EXIT.invalid;
  }
  if (!s) {
    io.stdout(`ovactl-rhi is not running (no state in ${stateFile})\n`);
    return EXIT.invalid;
  }
  const lines: string[] = [];
  const st = s.settings;
  lines.push(
    running
      ? `ovactl-rhi: running (pid ${s.pid}, since ${s.startedAt}); polls haproxy every ${st.intervalMs} ms ` +
          `(rise ${st.rise}, fall ${st.fall}, hold-down ${st.holdDownMs / 1000} s)`
      : `ovactl-rhi: NOT running (${s.stoppedAt ? `stopped at ${s.stoppedAt}` : `pid ${s.pid} is gone`}); ` +
          'the last state it wrote follows',
  );
  lines.push(`rules: ${st.rulesFile}${s.config.auto ? ' (with auto)' : ''}, ${s.rules.length} in force`);
  for (const e of s.config.errors) lines.push(`  ERROR ${e.replace(/\n/g, '\n  ')}`);
  if (s.config.errors.length)
    lines.push(
      s.config.usingPrevious
        ? '  the previous rules stay in force until the file is fixed'
        : '  nothing is announced until the file is fixed',
    );
  for (const n of s.config.notes) lines.push(`  note: ${n}`);
  const haproxyState = s.haproxy.reachable
    ? `${st.haproxySocket} answers`
    : `unreachable (${s.haproxy.error ?? 'unknown'}): every frontend and backend counts as down`;
  lines.push(`haproxy: ${haproxyState}`);
  const birdState = s.bird.inSync ? 'took the routes' : `not in sync: ${birdWhy(s.bird.error)}`;
  lines.push(`BIRD: ${birdState} (protocols ${s.bird.protocols.join(', ') || 'none'})`);
  const held = bird && !('error' in bird) ? new Set(Object.values(bird).flat()) : undefined;
  if (bird && 'error' in bird) lines.push(`  cannot ask BIRD what it holds: ${bird.error}`);
  lines.push('');
  for (const r of s.rules) {
    const nets = r.targets.map((t) => `${t.network} → ${t.protocol}`).join(', ');
    const hold = r.holdDownUntil ? `; hold-down until ${hhmmss(r.holdDownUntil)}` : '';
    lines.push(`${r.announced ? 'announced' : 'withdrawn'}  ${nets}  since ${hhmmss(r.since)}${hold}`);
    lines.push(`           ${r.aggregate}(${r.inputs.map((i) => `${i.ref} ${i.status}`).join(', ')})  [${r.origin}]`);
    if (!r.healthy && r.reason) lines.push(`           down: ${r.reason}`);
    for (const t of r.targets) {
      if (t.problem) lines.push(`           ${t.network}: ${t.problem}`);
      else if (held?.has(t.network) && !(running && r.announced))
        lines.push(`           ${t.network}: BIRD still holds it${running ? '' : ' (run "ovactl rhi withdraw")'}`);
      else if (held && running && r.announced && !held.has(t.network))
        lines.push(`           ${t.network}: BIRD does not hold it (yet)`);
    }
  }
  if (s.rules.length === 0) lines.push('(no rules)');
  io.stdout(lines.join('\n') + '\n');
  return running && s.config.errors.length === 0 ? EXIT.ok : EXIT.invalid;
}
