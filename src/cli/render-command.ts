import { deploymentFlag, loadDeployValues } from './deploy-values.js';
import { bootPlan } from '../plan/boot.js';
import { describeStep } from '../plan/steps.js';
import type { Plan } from '../plan/types.js';
import { HAPROXY_BIN, HAPROXY_CFG } from '../appliance/paths.js';
import { idsFrom, writeAllAtomic } from '../core/atomic-write.js';
import { gatherBootFacts } from '../apply/facts.js';
import { recordingSystem } from '../apply/system.js';
import { VERSION } from './version.js';
import { findingsText, reportText } from './report.js';
import { styleFor } from './style.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { onPath } from '../core/fs-error.js';
import { rootProblem } from '../apply/root-check.js';

export const spec: CommandSpec = {
  name: 'render',
  summary: 'Render the whole appliance configuration for deploy values into a folder, without touching the system.',
  usage: 'ovactl render --env INPUT --root DIR [--deployment default|frontend]',
  help: `
Validates INPUT (any form "ovactl validate" reads; "-" for stdin) and, when it is valid, writes every
file the appliance would get under DIR (DIR/etc/haproxy/haproxy.cfg, DIR/etc/systemd/network/…),
atomically, with the planned modes. Files that already hold the planned content are left alone.
An existing DIR/etc/haproxy/haproxy.cfg is merged into, as first boot does: ovactl's global and
defaults sections are replaced, every other section (the control plane's) is kept byte for byte.
Prints each file and every step first boot would run on a fresh appliance; runs none of them.

Options:
  --env INPUT            the deploy values
  --root DIR             where to write (created if missing)
  --deployment OPTION    default (2 NICs) or frontend (3 NICs); overrides what INPUT says
  -h, --help             show this help

Exit status: 0 rendered, 1 invalid values (nothing written), 2 unreadable input or usage error.`,
  options: { env: { type: 'string' }, root: { type: 'string' }, deployment: { type: 'string' } },
};

/** What merging into an existing haproxy.cfg did: ovactl's sections changed, the control plane's kept. */
const mergeLines = (m: NonNullable<Plan['haproxy']>): string[] => [
  `${HAPROXY_CFG}: merged into the existing file`,
  `  ovactl's sections: ${m.changed.length ? m.changed.join(', ') : 'already as rendered (unchanged)'}`,
  `  the control plane's sections, kept byte for byte: ${m.kept.length ? m.kept.join(', ') : 'none'}`,
];

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) {
    // "ovactl render ovf-env.xml": the values go after --env.
    const arg = JSON.stringify(args.positionals[0]);
    throw new UsageError(`unexpected argument ${arg}; did you mean --env ${arg}?`);
  }
  const env = args.values.env as string | undefined;
  const root = args.values.root as string | undefined;
  if (!env) throw new UsageError('missing --env INPUT');
  if (!root) throw new UsageError('missing --root DIR');
  const rootArg = { flag: '--root', path: root };
  const unfit = rootProblem(rootArg);
  if (unfit) return io.inputError(unfit);
  const loaded = await loadDeployValues(env, deploymentFlag(args.values.deployment));
  if (!loaded.ok) return io.inputError(loaded.error);
  const { doc, report } = loaded.value;
  if (!report.valid) {
    io.stdout(reportText(report, doc, styleFor(1)));
    io.stderr(`ovactl render: the values are invalid; nothing was written under ${root}\n`);
    return EXIT.invalid;
  }

  // The steps first boot would take on this tree, as on an appliance that has never booted: an
  // existing haproxy.cfg is merged into (the control plane's sections stay), nothing is run.
  const facts = await gatherBootFacts({
    report,
    root,
    system: recordingSystem(),
    version: VERSION,
    haproxyBin: HAPROXY_BIN,
    fresh: true,
  });
  const boot = bootPlan({ report, version: VERSION, facts });
  const files = boot.steps.flatMap((s) => (s.kind === 'write-files' ? s.files : []));
  // Owners apply only as root and only for names the tree itself knows (a rendered root usually has none).
  const ids = process.getuid?.() === 0 ? idsFrom(root) : undefined;
  const lines = [`${root}: deployment "${report.deployment}"`];
  const written = await onPath(rootArg, () => writeAllAtomic(root, files, ids));
  if (!written.ok) return io.inputError(written.error);
  const wrote = written.value;
  for (const [i, f] of files.entries()) {
    lines.push(
      `  ${wrote[i] ? 'wrote    ' : 'unchanged'} ${f.mode.toString(8).padStart(4, '0')} ` +
        `${`${f.owner}:${f.group}`.padEnd(13)} ${f.path}`,
    );
  }
  if (facts.currentHaproxyConfig !== undefined && boot.haproxy) lines.push(...mergeLines(boot.haproxy));
  lines.push(
    'Steps first boot would run:',
    ...boot.steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${describeStep(s)}`),
  );
  // What the status would say, each finding with its fix (e.g. an image without the Data Plane API).
  const status = boot.steps.find((s) => s.kind === 'write-status');
  if (status?.kind === 'write-status' && (status.status.errors.length || status.status.warnings.length))
    lines.push('First boot would report:', ...findingsText(status.status, styleFor(1)).slice(1));
  io.stdout(lines.join('\n') + '\n');
  return EXIT.ok;
}
