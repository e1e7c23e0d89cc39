import { govcSpec, powercliSpec } from '../ovf/spec.js';
import { deploymentFlag } from './deploy-values.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';

export const spec: CommandSpec = {
  name: 'spec',
  summary: 'Print a deploy spec to fill in: a govc options file or a PowerCLI snippet.',
  usage: 'ovactl spec --format govc|powercli [--deployment default|frontend]',
  help: `
Formats:
  --format govc          an options file in the shape of "govc import.spec": PropertyMapping with the
                         defaults, NetworkMapping, Deployment, PowerOn, ...; edit it, check it with
                         "ovactl validate FILE", deploy with
                         "govc import.ova -options=FILE haproxy-appliance.ova"
  --format powercli      a PowerShell snippet using Get-OvfConfiguration and Import-VApp

Options:
  --deployment OPTION    default (2 NICs, the default) or frontend (3 NICs, with the frontend values)
  -h, --help             show this help

Exit status: 0 printed, 2 usage error.`,
  options: { format: { type: 'string' }, deployment: { type: 'string' } },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const deployment = deploymentFlag(args.values.deployment) ?? 'default';
  const format = args.values.format;
  if (format === 'govc') io.stdout(JSON.stringify(govcSpec(deployment), null, 2) + '\n');
  else if (format === 'powercli') io.stdout(powercliSpec(deployment));
  else
    throw new UsageError(
      format === undefined
        ? 'missing --format govc|powercli'
        : `--format must be "govc" or "powercli", not ${JSON.stringify(format)}`,
    );
  return EXIT.ok;
}
