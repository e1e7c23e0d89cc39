import { VERSION } from './version.js';
import { descriptor, DEFAULT_DISK } from '../ovf/descriptor.js';
import { parse, UsageError, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';
import { onPath } from '../core/fs-error.js';
import { writeFileAtomic } from '../core/atomic-write.js';

export const spec: CommandSpec = {
  name: 'ovf',
  summary: 'Print the OVF descriptor, generated from the property table.',
  usage: 'ovactl ovf [--output FILE] [--disk-file NAME --disk-capacity GIB --disk-size BYTES]',
  help: `
The committed ovf/haproxy-appliance.ovf is this output with the defaults; the OVA build passes the
disk's file name, capacity and size.

Options:
  --output FILE        write to FILE instead of stdout
  --disk-file NAME     the VMDK's file name (default ${DEFAULT_DISK.file})
  --disk-capacity GIB  the virtual disk's capacity in GiB (default ${DEFAULT_DISK.capacityGiB})
  --disk-size BYTES    the VMDK file's size (written as ovf:size)
  -h, --help           show this help

Exit status: 0 printed or written, 2 usage error or an --output that cannot be written.`,
  options: {
    output: { type: 'string' },
    'disk-file': { type: 'string' },
    'disk-capacity': { type: 'string' },
    'disk-size': { type: 'string' },
  },
};

const whole = (name: string, v: string | boolean | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v))
    throw new UsageError(`--${name} takes a whole number, not ${JSON.stringify(v)}`);
  return Number(v);
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const capacity = whole('disk-capacity', args.values['disk-capacity']);
  const size = whole('disk-size', args.values['disk-size']);
  const text = descriptor({
    version: VERSION,
    disk: {
      file: (args.values['disk-file'] as string | undefined) ?? DEFAULT_DISK.file,
      capacityGiB: capacity ?? DEFAULT_DISK.capacityGiB,
      ...(size !== undefined ? { fileSize: size } : {}),
    },
  });
  const out = args.values.output as string | undefined;
  if (!out) io.stdout(text);
  else {
    const arg = { flag: '--output', path: out, example: 'haproxy-appliance.ovf' };
    // Atomically: an interrupted write never leaves half a descriptor for the OVA build to pack.
    const wrote = await onPath(arg, () => writeFileAtomic(out, text, 0o644));
    if (!wrote.ok) return io.inputError(wrote.error);
  }
  return EXIT.ok;
}
