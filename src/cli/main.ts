// The `ovactl` entry point. Commands load on demand so `validate` does not pay for what others use.
import { VERSION } from './version.js';
import { readBuildInfo } from '../appliance/build-info.js';
import { EXIT, processIO, type CommandIO } from './io.js';
import { isUsageError, suggest, type CommandSpec } from './usage.js';
import { fsInputError, isFsMistake } from '../core/fs-error.js';

interface Command {
  readonly summary: string;
  load(): Promise<{ spec: CommandSpec; run(argv: string[], io: CommandIO): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  validate: { summary: 'check deploy values before or during deployment', load: () => import('./validate-command.js') },
  render: {
    summary: 'render the appliance configuration for deploy values into a folder',
    load: () => import('./render-command.js'),
  },
  firstboot: {
    summary: 'configure the appliance from its OVF environment (boot-time job)',
    load: () => import('./firstboot-command.js'),
  },
  ready: {
    summary: 'say READY once the Data Plane API answers (after first boot)',
    load: () => import('./ready-command.js'),
  },
  watch: {
    summary: 'keep the status equal to what the appliance serves now (resident)',
    load: () => import('./watch-command.js'),
  },
  ha: {
    summary: 'two appliances: lead or follow the pair (resident), or say its state',
    load: () => import('./ha-command.js'),
  },
  certificates: {
    summary: 'renew the Data Plane API certificate when it is due (daily timer)',
    load: () => import('./certificates-command.js'),
  },
  anyip: {
    summary: "keep the kernel's local routes equal to the AnyIP VIP ranges file",
    load: () => import('./anyip-command.js'),
  },
  'route-tables': {
    summary: 'policy routing for DHCP NICs: replies and backend traffic leave by their NIC',
    load: () => import('./route-tables-command.js'),
  },
  rhi: {
    summary: 'route health injection: announce the VIPs through BIRD while haproxy serves them',
    load: () => import('./rhi-command.js'),
  },
  export: {
    summary: 'write the values in force and the CA in use for a successor appliance (upgrade)',
    load: () => import('./export-command.js'),
  },
  doctor: {
    summary: 'check the running appliance (or a rendered tree) and say how to fix each problem',
    load: () => import('./doctor-command.js'),
  },
  ovf: {
    summary: 'print the OVF descriptor generated from the property table',
    load: () => import('./ovf-command.js'),
  },
  spec: {
    summary: 'print a deploy spec to fill in (govc options file or PowerCLI snippet)',
    load: () => import('./spec-command.js'),
  },
  links: { summary: 'write the .link files naming the NICs (image build)', load: () => import('./links-command.js') },
  docs: {
    summary: 'print the property reference generated from the property table',
    load: () => import('./docs-command.js'),
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: ovactl <command> [options]',
    '',
    'First-boot provisioning agent of the HAProxy load-balancer appliance for vSphere.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  --version         print the version (--version --long: also the Data Plane API the image carries)',
    '  -h, --help        show this help',
    '',
    'Run "ovactl <command> --help" for the options of a command.',
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  // "ovactl help validate" is "ovactl validate --help".
  if (name === 'help' && rest[0] !== undefined) return main([rest[0], '--help'], io);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    if (rest[0] !== '--long') {
      io.stdout(`${VERSION}\n`);
      return EXIT.ok;
    }
    // The long form adds what the image carries: the Data Plane API the Supervisor talks to.
    const info = readBuildInfo();
    const api = !info
      ? 'unknown (no build information: not an appliance image)'
      : info.dataplaneapi === 'none'
        ? 'none (this image was built without it: DATAPLANEAPI=none)'
        : `${info.dataplaneapi}${info.pinned ? ` (pinned ${info.pinned})` : ''}`;
    io.stdout(`ovactl ${VERSION}\ndataplaneapi ${api}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    const near = suggest(name, [...Object.keys(COMMANDS), '--version', '--help']);
    const hint = near ? `did you mean ${near}? ` : '';
    const all = Object.keys(COMMANDS).join(', ');
    io.stderr(`ovactl: unknown command ${JSON.stringify(name)}; ${hint}commands: ${all}\n`);
    return EXIT.usage;
  }
  const mod = await command.load();
  // Every line a command writes about a mistake starts with "ovactl <command>:" (docs/commands.md).
  const cio: CommandIO = {
    ...io,
    inputError(e) {
      io.stderr(`ovactl ${name}: ${e.origin}: ${e.message}\n`);
      return EXIT.usage;
    },
  };
  try {
    return await mod.run(rest, cio);
  } catch (e) {
    if (isUsageError(e)) {
      // One line: the mistake, then the synopsis (the whole help is one --help away).
      io.stderr(`ovactl ${name}: ${e.message} (usage: ${mod.spec.usage})\n`);
      return EXIT.usage;
    }
    // A path mistake a command did not catch with its flag still gets its one line, naming the path.
    if (isFsMistake(e)) return cio.inputError(fsInputError(e, { path: e.path ?? '(unknown path)' }));
    throw e;
  }
}
