import { runReady } from '../apply/ready.js';
import { liveSystem, recordingSystem } from '../apply/system.js';
import { DATAPLANEAPI_PROBE_WAIT_SECONDS } from '../appliance/dataplaneapi.js';
import { deploymentFlag, loadBootValues } from './deploy-values.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { onPath } from '../core/fs-error.js';
import { rootProblem } from '../apply/root-check.js';

export const spec: CommandSpec = {
  name: 'ready',
  summary: 'Say READY once the Data Plane API answers (the job of ovactl-ready.service, after first boot).',
  usage: 'ovactl ready [--env INPUT] [--root DIR] [--deployment default|frontend] [--wait SECONDS]',
  help: `
First boot runs before the network is up, so a boot that applies its values ends in state
"starting". This asks the Data Plane API what the Supervisor asks first, GET /v2/info at
https://<management address>:<port>, trusting only /etc/haproxy/ca.crt (the CA published in
guestinfo.dataplaneapi.cacert) and with the Basic credentials of the deploy values, once a second
until it answers or --wait runs out. Then the status (status.json, the console banner,
guestinfo.ovactl.status) says "ready", or "error" with the finding dataplaneapi.not-answering: the
reason and the API's last journal lines. With any other state there is nothing to wait for.

The values are read as first boot reads them (the same flags; /etc/default/ovactl's
OVACTL_FIRSTBOOT_ARGS serve both units). The password is used for the request only.

Options:
  --env INPUT            read the values from INPUT (any form "ovactl validate" reads; "-" for stdin)
  --root DIR             the status and CA under DIR; guestinfo and the console are left alone
                         (the probe itself runs)
  --deployment OPTION    default or frontend; overrides what the values say
  --wait SECONDS         how long to wait for the first answer (default ${DATAPLANEAPI_PROBE_WAIT_SECONDS})
  -h, --help             show this help

Exit status: 0 ready, or nothing to wait for; 1 the API did not answer (or no first-boot status),
2 no OVF environment found, unreadable input or usage error.`,
  options: {
    env: { type: 'string' },
    root: { type: 'string' },
    deployment: { type: 'string' },
    wait: { type: 'string' },
  },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const waitArg = args.values.wait as string | undefined;
  const waitSeconds = waitArg === undefined ? DATAPLANEAPI_PROBE_WAIT_SECONDS : Number(waitArg);
  if (!/^\d{1,4}$/.test(waitArg ?? '0') || waitSeconds < 1) {
    throw new UsageError(`--wait must be a whole number of seconds from 1 to 9999, not ${JSON.stringify(waitArg)}`);
  }
  const rootArg = args.values.root as string | undefined;
  const loaded = await loadBootValues(args.values.env as string | undefined, deploymentFlag(args.values.deployment));
  if (!loaded.ok) return io.inputError(loaded.error);
  const rootOf = rootArg === undefined ? { path: '/' } : { flag: '--root', path: rootArg };
  const unfit = rootArg === undefined ? undefined : rootProblem(rootOf);
  if (unfit) return io.inputError(unfit);
  const done = await onPath(rootOf, () =>
    runReady({
      report: loaded.value.report,
      root: rootArg ?? '/',
      system: rootArg === undefined ? liveSystem() : recordingSystem(),
      waitSeconds,
    }),
  );
  if (!done.ok) return io.inputError(done.error);
  const result = done.value;
  const verdict = {
    answered: ['ready'],
    'not-answering': ['NOT READY: the Data Plane API does not answer; see above'],
    'address-conflict': ["NOT READY: another host answers for this appliance's addresses; it took none; see above"],
  };
  io.stdout(
    ['ovactl ready:', ...result.lines, ...(verdict[result.outcome as keyof typeof verdict] ?? [])].join('\n') + '\n',
  );
  return result.outcome === 'answered' || result.outcome === 'nothing-to-wait' ? EXIT.ok : EXIT.invalid;
}
