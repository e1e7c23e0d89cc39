import { setFlagsFromString } from 'node:v8';
import { HA_STATE_FILE } from '../appliance/ha.js';
import { liveSystem } from '../apply/system.js';
import { under } from '../core/atomic-write.js';
import { readRegularFile } from '../core/regular-file.js';
import { HaDaemon } from '../ha/daemon.js';
import { haSettings } from '../ha/settings.js';
import { parseHaReport } from '../ha/state.js';
import { deploymentFlag, loadBootValues } from './deploy-values.js';
import { EXIT, type CommandIO } from './io.js';
import { parse, UsageError, type CommandSpec } from './usage.js';

export const spec: CommandSpec = {
  name: 'ha',
  summary: 'Two appliances: follow or lead the pair (the job of ovactl-ha.service), or say its state.',
  usage: 'ovactl ha run [--env INPUT] [--deployment default|frontend] | ovactl ha status [--json] [--root DIR]',
  help: `
Two appliances deployed with the same values and ha.address, ha.peers: keepalived (VRRP) gives the
floating management address to one of them, the active. "ovactl ha run" is this appliance's part:
  active    the AnyIP routes are installed and every VIP haproxy binds is announced (gratuitous ARP);
  standby   no AnyIP route; haproxy runs hot with the active's configuration, copied from the
            active's Data Plane API (read only) whenever its version changes;
  fault     haproxy does not run or the Data Plane API does not answer: keepalived gives the
            address to a peer.
With route health injection every appliance keeps its routes and serves; the address only decides
which Data Plane API the Supervisor writes to. It tells keepalived every second whether this
appliance may be active, and publishes its state in /run/ovactl/ha.json and on port 5557 of its
management address (HTTPS; the state needs no credentials, the maps and certificates the API's),
where the peers read it to settle a split brain: the appliance with the higher configuration version
stays active.

"ovactl ha status" prints that state (role, whom it follows, versions, peers, problems).

Options:
  --env INPUT            read the values from INPUT (as first boot does; default guestinfo.ovfEnv)
  --deployment OPTION    default or frontend; overrides what the values say
  --json                 status: the state document as JSON
  --root DIR             status: read /run/ovactl/ha.json under DIR (a support bundle, a test tree)
  -h, --help             show this help

Exit status: run: 0 when stopped, or at once when the values ask for no pair; 1 invalid values;
2 no values found or usage error. status: 0 active or standby, 1 fault or not a pair member.`,
  options: {
    env: { type: 'string' },
    deployment: { type: 'string' },
    json: { type: 'boolean' },
    root: { type: 'string' },
  },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  const [action, ...rest] = args.positionals;
  if ((action !== 'run' && action !== 'status') || rest.length) throw new UsageError('give one of run, status');
  if (action === 'status')
    return status(io, args.values.json === true, (args.values.root as string | undefined) ?? '/');

  // A resident service that idles between small requests: memory over speed (as anyip watch does).
  for (const flag of ['--semi-space-growth-factor=1', '--optimize-for-size', '--no-opt']) setFlagsFromString(flag);
  const loaded = await loadBootValues(args.values.env as string | undefined, deploymentFlag(args.values.deployment));
  if (!loaded.ok) return io.inputError(loaded.error);
  const { report } = loaded.value;
  const log = (line: string) => io.stdout(`ovactl ha: ${line}\n`);
  if (!report.valid) {
    io.stderr(`ovactl ha: the values are invalid (see "ovactl validate"): this appliance takes no part in a pair\n`);
    return EXIT.invalid;
  }
  const settings = haSettings(report.values, report.deployment);
  if (!settings) {
    log('ha.address is not set: a single appliance, nothing to do');
    return EXIT.ok;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await new HaDaemon({
    root: '/',
    settings,
    credentials: {
      user: report.values['loadbalance.haproxy_user'],
      password: report.values['loadbalance.haproxy_pwd'],
    },
    system: liveSystem(),
    log,
    signal: controller.signal,
  }).run();
  return EXIT.ok;
}

/** What `ovactl ha status` shows of ha.json (src/ha/state.ts reads it): messages within 200 characters. */
function said(text: string) {
  const r = parseHaReport(text);
  if (!r) return undefined;
  return {
    role: r.role,
    address: r.address,
    own: r.own ?? '?',
    follows: r.follows,
    version: r.version,
    activeVersion: r.activeVersion,
    behind: r.behind,
    peers: r.peers,
    problems: r.problems.map((p) => ({ rule: p.rule, message: p.message.slice(0, 200) })),
  };
}

function status(io: CommandIO, json: boolean, root: string): number {
  const file = under(root, HA_STATE_FILE);
  let text: string;
  try {
    text = readRegularFile(file, 1024 * 1024);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.stderr(
      code === 'ENOENT'
        ? `ovactl ha: no ${HA_STATE_FILE}: ovactl-ha.service does not run (a single appliance?)\n`
        : `ovactl ha: ${HA_STATE_FILE} cannot be read (${code ?? 'error'})\n`,
    );
    return EXIT.invalid;
  }
  const s = said(text);
  if (!s) {
    io.stderr(`ovactl ha: ${HA_STATE_FILE} is not ovactl-ha's state (not JSON, or no role and address)\n`);
    return EXIT.invalid;
  }
  if (json) io.stdout(`${JSON.stringify(s)}\n`);
  else {
    const lines = [`role ${s.role}: floating address ${s.address}, this appliance ${s.own}`];
    if (s.follows)
      lines.push(
        `follows ${s.follows}: version ${s.version ?? '?'} of ${s.activeVersion ?? '?'} (${s.behind ?? '?'} behind)`,
      );
    for (const p of s.peers) lines.push(`peer ${p.address}: ${p.role ?? `not answering (${p.error ?? '?'})`}`);
    for (const p of s.problems) lines.push(`${p.rule}: ${p.message}`);
    io.stdout(`${lines.join('\n')}\n`);
  }
  return s.role === 'active' || s.role === 'standby' ? EXIT.ok : EXIT.invalid;
}
