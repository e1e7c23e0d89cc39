import { linkFile } from '../plan/plan.js';
import { APPLIANCE_PCI_PATHS } from '../plan/types.js';
import { NICS } from '../appliance/nics.js';
import { writeAtomic } from '../core/atomic-write.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { onPath } from '../core/fs-error.js';
import { rootProblem } from '../apply/root-check.js';

export const spec: CommandSpec = {
  name: 'links',
  summary: 'Write the systemd .link files that name the NICs management/workload/frontend (image build).',
  usage: 'ovactl links --root DIR',
  help: `
udev names the NICs before first boot runs, so the image carries these files from the start:
DIR/etc/systemd/network/10-ovactl-{management,workload,frontend}.link, matching the PCI paths of the
descriptor's slots 160/192/224.

Options:
  --root DIR   the image's root file system
  -h, --help   show this help

Exit status: 0 written (or unchanged), 2 usage error or a --root that cannot be written.`,
  options: { root: { type: 'string' } },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  const root = args.values.root as string | undefined;
  if (!root) throw new UsageError('missing --root DIR');
  const rootArg = { flag: '--root', path: root };
  const unfit = rootProblem(rootArg);
  if (unfit) return io.inputError(unfit);
  const files = NICS.map((nic) => linkFile(nic.name, APPLIANCE_PCI_PATHS[nic.name]));
  const wrote = await onPath(rootArg, () => files.map((f) => writeAtomic(root, f)));
  if (!wrote.ok) return io.inputError(wrote.error);
  io.stdout(files.map((f, i) => `${wrote.value[i] ? 'wrote    ' : 'unchanged'} ${f.path}\n`).join(''));
  return EXIT.ok;
}
