import { VERSION } from './version.js';
import { HAPROXY_BIN } from '../appliance/paths.js';
import { reportWriteFailure, runFirstboot } from '../apply/firstboot.js';
import { liveSystem, recordingSystem } from '../apply/system.js';
import { deploymentFlag, loadBootValues } from './deploy-values.js';
import { findingsText } from './report.js';
import { styleFor } from './style.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { READY_UNIT } from '../appliance/dataplaneapi.js';
import { onPath } from '../core/fs-error.js';
import { rootProblem } from '../apply/root-check.js';

export const spec: CommandSpec = {
  name: 'firstboot',
  summary: 'Configure the appliance from its OVF environment (the boot-time job of ovactl-firstboot.service).',
  usage: 'ovactl firstboot [--env INPUT] [--root DIR] [--deployment default|frontend]',
  help: `
Reads the deploy values, validates them, writes every configuration file (atomically, only those
that change), issues the Data Plane API certificate, starts the services and reports the result on
the console (/etc/issue.d/ovactl.issue), in /var/lib/ovactl/status.json and in guestinfo
(guestinfo.ovactl.status; govc vm.info -e VM shows it). Invalid values on an appliance that never
served: haproxy and the Data Plane API stay stopped; the management NIC is still configured when its
own values are valid. Invalid values on an appliance that served before: nothing is changed but the
status (state error, "serving": the values still in force); the last good configuration serves on.
The same values again change nothing ("no changes"); changed values re-render and restart only the
services whose files changed (haproxy is reloaded, never restarted). The control plane's sections of
haproxy.cfg are kept byte for byte.

Without --env the values come from guestinfo.ovfEnv (vmware-rpctool, then vmtoolsd --cmd, with a
timeout), then from the ISO transport (a CD-ROM labelled "OVF ENV" holding ovf-env.xml).

Options:
  --env INPUT            read the values from INPUT (any form "ovactl validate" reads; "-" for stdin)
  --root DIR             apply into DIR instead of "/" (state file included) and list the service
                         actions instead of running them
  --deployment OPTION    default or frontend; overrides what the values say
  -h, --help             show this help

A boot that applies its values ends in state "starting": first boot runs before the network is up,
so ovactl-ready.service ("ovactl ready", queued by first boot) says READY once the Data Plane API
answers. With --root the probe is listed ("would run: systemctl restart … ovactl-ready.service").

Exit status: 0 starting or ready (or no changes to such an appliance), 1 invalid values or a failed step
(reported on the console and in guestinfo), 2 no OVF environment found, unreadable input or usage error.`,
  options: { env: { type: 'string' }, root: { type: 'string' }, deployment: { type: 'string' } },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) {
    // "ovactl render ovf-env.xml": the values go after --env.
    const arg = JSON.stringify(args.positionals[0]);
    throw new UsageError(`unexpected argument ${arg}; did you mean --env ${arg}?`);
  }
  const deployment = deploymentFlag(args.values.deployment);
  const rootArg = args.values.root as string | undefined;
  const root = rootArg ?? '/';
  const env = args.values.env as string | undefined;

  const loaded = await loadBootValues(env, deployment);
  if (!loaded.ok) return io.inputError(loaded.error);
  const { report, origin } = loaded.value;

  // A path mistake (a read-only or full --root) is one line, exit 2; at boot "/" names no flag.
  const rootOf = rootArg === undefined ? { path: root } : { flag: '--root', path: rootArg };
  const unfit = rootArg === undefined ? undefined : rootProblem(rootOf);
  if (unfit) return io.inputError(unfit);
  const applied = await onPath(rootOf, () =>
    runFirstboot({
      report,
      root,
      system: rootArg === undefined ? liveSystem() : recordingSystem(),
      version: VERSION,
      haproxyBin: HAPROXY_BIN,
    }),
  );
  if (!applied.ok) {
    // At boot the same line goes to the status, the console banner and guestinfo (which is not on the disk).
    if (rootArg === undefined) {
      const line = `${applied.error.origin}: ${applied.error.message}`;
      const lines = await reportWriteFailure({ report, root, system: liveSystem(), version: VERSION, line });
      io.stdout(lines.join('\n') + (lines.length ? '\n' : ''));
    }
    return io.inputError(applied.error);
  }
  const result = applied.value;
  const out = [
    `ovactl firstboot: values from ${origin}, deployment "${report.deployment}"`,
    ...result.lines,
    // Every finding with its fix, as validate prints them: the status holds the same ones.
    ...findingsText(result.findings, styleFor(1)),
    ...(result.findings.errors.length || result.findings.warnings.length ? [''] : []),
    result.state === 'ready'
      ? 'ready'
      : result.state === 'starting'
        ? `starting: READY once the Data Plane API answers (${READY_UNIT})`
        : result.dataPlaneStarted
          ? 'NOT READY: haproxy serves the new values, but see the findings above'
          : result.serving
            ? 'NOT APPLIED: the last good configuration keeps serving; see the findings above'
            : 'NOT READY: haproxy and the Data Plane API are not started; see the findings above',
  ];
  io.stdout(out.join('\n') + '\n');
  return result.state === 'error' ? EXIT.invalid : EXIT.ok;
}
