import { deploymentFlag, loadDeployValues } from './deploy-values.js';
import { reportJson, reportText } from './report.js';
import { styleFor } from './style.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';

export const spec: CommandSpec = {
  name: 'validate',
  summary: 'Check deploy values, one by one and together, before or during deployment.',
  usage: 'ovactl validate [--json] [--deployment default|frontend] INPUT',
  help: `
INPUT is one of (detected from the content; "-" reads stdin):
  an OVF environment document (ovf-env.xml, or govc vm.info -e guestinfo.ovfEnv output)
  a govc options file (govc import.spec shape: PropertyMapping, Deployment, NetworkMapping)
  a flat JSON object {"network.hostname": "...", ...}, or the same object as the Supervisor logs it
  with single quotes

Options:
  --json                 print {"valid", "deployment", "errors": [...], "warnings": [...]}
  --deployment OPTION    default (2 NICs) or frontend (3 NICs); overrides what INPUT says
  -h, --help             show this help

Exit status: 0 valid (warnings allowed), 1 invalid, 2 unreadable or unsupported input, usage error.
Secrets (passwords, the CA key) are never printed.`,
  options: { json: { type: 'boolean' }, deployment: { type: 'string' } },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  const deployment = deploymentFlag(args.values.deployment); // first: it may have taken INPUT as its value
  if (args.positionals.length !== 1)
    throw new UsageError(args.positionals.length ? 'give exactly one INPUT' : 'missing INPUT (a file, or - for stdin)');
  const loaded = await loadDeployValues(args.positionals[0]!, deployment);
  if (!loaded.ok) return io.inputError(loaded.error);
  const { doc, report } = loaded.value;
  const out = args.values.json ? reportJson(report) + '\n' : reportText(report, doc, styleFor(1));
  io.stdout(out);
  return report.valid ? EXIT.ok : EXIT.invalid;
}
