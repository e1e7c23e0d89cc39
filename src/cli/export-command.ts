import { VERSION } from './version.js';
import { successorValues } from '../apply/successor.js';
import { rootProblem } from '../apply/root-check.js';
import { onPath, pathTextProblem } from '../core/fs-error.js';
import { secretFolderProblem, writeSecretFile } from '../core/secret-file.js';
import { govcSpec, powercliSpec } from '../ovf/spec.js';
import { deploymentFlag, loadBootValues } from './deploy-values.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';

const FORMATS = ['govc', 'powercli'] as const;

export const spec: CommandSpec = {
  name: 'export',
  summary: 'Write the deploy values in force, with the CA in use, for a successor appliance.',
  usage: 'ovactl export --for-successor FILE [--format govc|powercli] [--env INPUT] [--root DIR]',
  help: `
Upgrading means deploying a new appliance and retiring this one. The Supervisor accepts a successor
with the same CA, management address and credentials without being touched. This writes FILE for
the new OVA: the values this appliance applied (read as first boot reads them, and refused unless
they are the ones first boot recorded as applied without an error) and the CA certificate and key in
use (/etc/haproxy/ca.crt and ca.key, a generated CA too). The VM name is <host name>-successor.

  --format govc          a govc options file: govc import.ova -options=FILE haproxy-appliance.ova
  --format powercli      a PowerShell script (Get-OvfConfiguration / Import-VApp) with the values filled in

FILE HOLDS SECRETS: the root and Data Plane API passwords and the CA's private key, in clear text.
Nothing of it is printed. FILE is created new with mode 0600 (an existing FILE is never overwritten)
and not in a folder everyone may write without the sticky bit. Copy it to where you deploy, deploy,
then delete every copy (shred -u FILE). See docs/upgrade.md for the whole procedure.

Options:
  --for-successor FILE   the file to write (required)
  --format FORMAT        govc (the default) or powercli
  --env INPUT            read the values from INPUT instead of guestinfo/the ISO (as ovactl firstboot)
  --root DIR             the state and CA of a tree under DIR (as written by ovactl firstboot --root)
  --deployment OPTION    default or frontend; overrides what the values say (as ovactl firstboot)
  -h, --help             show this help

Exit status: 0 written; 1 the values found are not the ones in force (nothing written);
2 no OVF environment, unreadable input, a path mistake or usage error.`,
  options: {
    'for-successor': { type: 'string' },
    format: { type: 'string' },
    env: { type: 'string' },
    root: { type: 'string' },
    deployment: { type: 'string' },
  },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const file = args.values['for-successor'];
  if (typeof file !== 'string' || file === '') throw new UsageError('missing --for-successor FILE');
  if (file === '-') throw new UsageError('--for-successor needs a file: the values hold secrets and are never printed');
  const format = (args.values.format ?? 'govc') as string;
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be "govc" or "powercli", not ${JSON.stringify(format)}`);
  }
  const deployment = deploymentFlag(args.values.deployment);
  const rootArg = args.values.root as string | undefined;
  const rootOf = rootArg === undefined ? { path: '/' } : { flag: '--root', path: rootArg };
  const unfit = rootArg === undefined ? undefined : rootProblem(rootOf);
  if (unfit) return io.inputError(unfit);
  const out = { flag: '--for-successor', path: file, example: '/root/successor.json' };
  const unsafe = pathTextProblem(out) ?? secretFolderProblem(out);
  if (unsafe) return io.inputError(unsafe);

  const loaded = await loadBootValues(args.values.env as string | undefined, deployment);
  if (!loaded.ok) return io.inputError(loaded.error);
  const { doc, report, origin } = loaded.value;
  const root = rootArg ?? '/';
  const values = await onPath(rootOf, () => successorValues({ doc, report, origin, root, version: VERSION }));
  if (!values.ok) return io.inputError(values.error);
  if (!values.value.ok) {
    io.stderr(`ovactl export: ${values.value.error.origin}: ${values.value.error.message}\n`);
    return EXIT.invalid;
  }
  const filled = values.value.value;
  const text =
    format === 'govc'
      ? JSON.stringify(govcSpec(report.deployment, filled), null, 2) + '\n'
      : powercliSpec(report.deployment, filled);
  const wrote = await onPath(out, () => writeSecretFile(file, text));
  if (!wrote.ok) return io.inputError(wrote.error);
  const how = format === 'govc' ? `govc import.ova -options=${file} haproxy-appliance.ova` : `pwsh ${file}`;
  io.stdout(
    [
      `ovactl export: wrote ${file} (mode 0600): the ${report.deployment} deployment's values in force,`,
      `with the CA in use, for the VM ${filled.name}.`,
      'It holds the passwords and the CA key: copy it to where you deploy, power this appliance off, deploy with',
      `  ${how}`,
      'then delete every copy of it (shred -u). See docs/upgrade.md.',
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
