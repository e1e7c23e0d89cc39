// A real VMware client against the OVA: govc and vcsim from govmomi 0.24.2 (Apache-2.0; Debian's
// source package, built by test/helpers/govmomi.sh, cached in .cache/govmomi), used by
// test/govc.test.ts (an OVA of the generated descriptor with a blank disk) and test/vm-govc.test.ts
// (the OVA the VM stage builds).
//
// vcsim simulates vCenter; it is not vCenter. What it cannot know, so these tests cannot either:
// its CreateImportSpec (0.24.2) keeps the PropertyMapping as the VM's extraConfig without checking
// keys, types or qualifiers against the descriptor (vCenter refuses a value outside them), makes no
// vAppConfig and no OVF environment (no guestinfo.ovfEnv), and ignores vmw:Config (firmware=efi, the
// NICs' pciSlotNumber) and the disk's content. What it does check: the descriptor parses (govmomi's
// ovf package), its deployment options select the hardware items, the NICs map to the networks named,
// the disk uploads through the import lease; and govc reads the properties as vSphere's client does.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { VM_CPUS, VM_GUEST_ID, VM_MEMORY_MIB } from '../../src/appliance/hardware.js';
import { DEPLOYMENTS, type Deployment } from '../../src/appliance/nics.js';
import { NETWORKS } from '../../src/ovf/descriptor.js';
import { PROPERTIES, type PropertySpec } from '../../src/properties/table.js';
import { runCli } from './cli.js';
import { run, type RunResult } from './rig/appliance.js';
import { alive, hostEnv, sleep, stopAtExit } from './rig/procs.js';
import { deployValues } from './rig/values.js';
import { ROOT } from './values.js';

export interface Govmomi {
  /** The folder holding govc and vcsim. */
  readonly dir?: string;
  /** Why they cannot be had here (not root and the build packages missing). */
  readonly skip?: string;
  readonly ok: boolean;
  readonly output: string;
  readonly ms: number;
}

/** govc and vcsim, built once and cached (a no-op when cached; a cold build takes minutes). */
export async function govmomi(): Promise<Govmomi> {
  const start = Date.now();
  const r = await run('bash', [join(ROOT, 'test/helpers/govmomi.sh')], { timeoutMs: 30 * 60_000 });
  const output = `${r.stdout}${r.stderr}`.trim();
  const dir = r.stdout.trim().split('\n').pop();
  const ms = Date.now() - start;
  if (r.code === 77) return { ok: false, skip: r.stderr.trim().split('\n').pop() ?? 'govc unavailable', output, ms };
  return r.code === 0 && dir ? { ok: true, dir, output, ms } : { ok: false, output, ms };
}

/** vcsim on 127.0.0.1 (a port the kernel picks), one cluster with one host, no VMs; stopped by its PID. */
export class Vcsim {
  private constructor(
    readonly url: string,
    readonly pid: number,
    private readonly bin: string,
    private readonly work: string,
    private readonly unhook: () => void,
  ) {}

  static async start(bin: string): Promise<Vcsim> {
    // Its datastore folders go to TMPDIR: this run's own, removed with it.
    const work = mkdtempSync(join(tmpdir(), 'ovactl-vcsim-'));
    const args = ['-l', '127.0.0.1:0', '-standalone-host', '0', '-host', '1', '-vm', '0'];
    const p = spawn(join(bin, 'vcsim'), args, {
      env: { ...hostEnv(), TMPDIR: work },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    // Its first line: export GOVC_URL=https://user:pass@127.0.0.1:PORT/sdk GOVC_SIM_PID=N
    const url = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 30_000);
      const seen = (d: Buffer) => {
        out += d;
        const m = /GOVC_URL=(\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      p.stdout.on('data', seen);
      p.stderr.on('data', seen);
      p.on('exit', () => resolve(undefined));
    });
    p.stdout.resume();
    p.stderr.resume();
    const pid = p.pid!;
    const stop = () => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(work, { recursive: true, force: true });
    };
    if (!url) {
      stop();
      throw new Error(`vcsim did not start: ${out.trim()}`);
    }
    return new Vcsim(url, pid, bin, work, stopAtExit(stop));
  }

  govc(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
    const env = [`GOVC_URL=${this.url}`, 'GOVC_INSECURE=1', 'GOVC_PERSIST_SESSION=false'];
    return run('env', [...env, join(this.bin, 'govc'), ...args], { timeoutMs });
  }

  /** govc's -json output of a command that must succeed. */
  async json<T>(args: readonly string[]): Promise<T> {
    const r = await this.govc(args);
    if (r.code !== 0) throw new Error(`govc ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as T;
  }

  /** A distributed port group of this name, unless a network has it already. */
  async network(name: string): Promise<void> {
    if ((await this.govc(['ls', `/DC0/network/${name}`])).stdout.trim()) return;
    const r = await this.govc(['dvs.portgroup.add', '-dvs', 'DVS0', name]);
    if (r.code !== 0) throw new Error(`govc dvs.portgroup.add ${name}: ${r.stderr.trim()}`);
  }

  /** SIGTERM (vcsim removes its datastore folders), SIGKILL after 5 s; then the work folder. */
  async stop(): Promise<void> {
    this.unhook();
    if (alive(this.pid)) process.kill(this.pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(this.pid); i++) await sleep(100);
    if (alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    rmSync(this.work, { recursive: true, force: true });
  }
}

interface GovcSpec {
  Deployment: string;
  PropertyMapping: { Key: string; Value: string; Spec?: Record<string, unknown> }[];
  NetworkMapping: { Name: string; Network: string }[];
  AllDeploymentOptions?: string[];
  Name: string | null;
  PowerOn: boolean;
  [k: string]: unknown;
}
type Collected = { Name: string; Val: unknown }[];
interface Device {
  Key: number;
  MacAddress?: string;
  CapacityInKB?: number;
  Backing?: { DeviceName?: string; Port?: { PortgroupKey: string } };
}

const FRONTEND = { 'network.frontend_ip': '203.0.113.10/24', 'network.frontend_gateway': '203.0.113.1' };
/**
 * The values deployed: the tests' deploy values, changed where the defaults would hide a lost value, and
 * passwords with the characters XML and JSON escape.
 */
const VALUES: Record<Deployment, Record<string, string>> = {
  default: deployValues({
    'appliance.root_pwd': 'root "pw" <&> ü',
    'loadbalance.haproxy_pwd': "api 'pw' &amp;",
    'loadbalance.dataplane_port': '5557',
    'appliance.metrics_port': '9100',
  }),
  frontend: deployValues({ ...FRONTEND, 'appliance.permit_root_login': 'False', 'rhi.enabled': 'False' }),
};

const inDeployment = (p: PropertySpec, d: Deployment) => p.deployment === 'all' || d === 'frontend';
const filled = (spec: GovcSpec, values: Record<string, string>) => ({
  ...spec,
  PropertyMapping: spec.PropertyMapping.map(({ Key, Value }) => ({ Key, Value: values[Key] ?? Value })),
});
const asMap = (m: { Key: string; Value: string }[]) => Object.fromEntries(m.map((p) => [p.Key, p.Value]));

/** The checks of an OVA through govc and vcsim; `diskBytes`: the capacity of the disk in it. */
export function ovaContract(t: Test, o: { ova: string; sim: Vcsim; work: string; diskBytes: number }): void {
  const write = (name: string, spec: object) => {
    const file = join(o.work, name);
    writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
    return file;
  };
  const validate = (file: string) => {
    const r = runCli(['validate', '--json', file]);
    return { code: r.code, ...(JSON.parse(r.out || '{}') as { valid?: boolean; deployment?: string; errors?: [] }) };
  };

  t.test(
    'govc import.spec reads every property with the type, default and password flag the table gives',
    async (t) => {
      const spec = await o.sim.json<GovcSpec>(['import.spec', '-verbose', o.ova]);
      t.strictSame(spec.AllDeploymentOptions, DEPLOYMENTS, 'the deployment options');
      t.equal(spec.Deployment, 'default', 'the default deployment option');
      t.strictSame(
        spec.NetworkMapping.map((n) => n.Name),
        NETWORKS.map((n) => n.name),
        'the networks',
      );
      const table = PROPERTIES as readonly PropertySpec[];
      t.strictSame(
        spec.PropertyMapping.map((p) => p.Key),
        table.map((p) => p.key),
        'every property, in the table order',
      );
      for (const p of table) {
        const got = spec.PropertyMapping.find((m) => m.Key === p.key);
        t.strictSame(
          {
            type: got?.Spec?.Type,
            value: got?.Value,
            password: got?.Spec?.Password === true,
            label: got?.Spec?.Label,
            userConfigurable: got?.Spec?.UserConfigurable,
          },
          {
            type: p.ovfType,
            value: p.default ?? '',
            password: p.kind === 'password',
            label: p.label,
            userConfigurable: true,
          },
          p.key,
        );
      }
    },
  );

  for (const d of DEPLOYMENTS) {
    t.test(`govc import.spec, filled in for "${d}", passes ovactl validate`, async (t) => {
      const spec = await o.sim.json<GovcSpec>(['import.spec', o.ova]);
      const file = write(`import-spec-${d}.json`, { ...filled(spec, VALUES[d]), Deployment: d });
      t.match(validate(file), { code: 0, valid: true, deployment: d, errors: [] });
    });
  }

  for (const d of DEPLOYMENTS) {
    t.test(`govc import.ova deploys "${d}" into vcsim with ovactl spec's options, filled in`, async (t) => {
      const s = o.sim;
      const spec = JSON.parse(runCli(['spec', '--format', 'govc', '--deployment', d]).out) as GovcSpec;
      const name = `haproxy-${d}`;
      const options = { ...filled(spec, VALUES[d]), Name: name };
      const given = asMap(options.PropertyMapping);
      t.strictSame(
        Object.keys(given),
        (PROPERTIES as readonly PropertySpec[]).filter((p) => inDeployment(p, d)).map((p) => p.key),
        `the ${d} properties`,
      );
      const file = write(`options-${d}.json`, options);
      t.match(validate(file), { code: 0, valid: true, deployment: d }, 'the options file is valid');
      for (const n of spec.NetworkMapping) await s.network(n.Network);
      const r = await s.govc(['import.ova', `-options=${file}`, o.ova], 600_000);
      t.equal(r.code, 0, `govc import.ova${r.code === 0 ? '' : `: ${r.stderr.trim()}`}`);
      if (r.code !== 0) return;

      const vm = `/DC0/vm/${name}`;
      const props = await s.json<Collected>(['object.collect', '-json', vm, 'config', 'runtime.powerState']);
      const val = (n: string) => props.find((p) => p.Name === n)?.Val;
      const config = val('config') as {
        ExtraConfig: { Key: string; Value: string }[];
        GuestId: string;
        Hardware: { NumCPU: number; MemoryMB: number; Device: Device[] };
      };
      const held = asMap(config.ExtraConfig.filter((e) => e.Key in given));
      t.strictSame(held, given, 'the properties vcsim holds are the values given');
      t.strictSame(
        { cpus: config.Hardware.NumCPU, memoryMB: config.Hardware.MemoryMB, guest: config.GuestId },
        { cpus: VM_CPUS, memoryMB: VM_MEMORY_MIB, guest: VM_GUEST_ID },
        'the virtual hardware',
      );
      t.equal(val('runtime.powerState'), options.PowerOn ? 'poweredOn' : 'poweredOff', 'PowerOn as the options say');
      const disks = config.Hardware.Device.filter((x) => x.CapacityInKB !== undefined);
      t.strictSame(
        disks.map((x) => x.CapacityInKB! * 1024),
        [o.diskBytes],
        'one disk, of the OVA disk capacity',
      );
      // A NIC's backing: a standard network by name, a distributed port group by key.
      const pgName = new Map<string, string>();
      for (const n of spec.NetworkMapping) {
        const ref = (await s.govc(['ls', '-i', `/DC0/network/${n.Network}`])).stdout.trim();
        pgName.set(ref.replace(/^DistributedVirtualPortgroup:/, ''), n.Network);
      }
      const nics = config.Hardware.Device.filter((x) => x.MacAddress !== undefined);
      t.strictSame(
        nics.map((x) => x.Backing?.DeviceName || pgName.get(x.Backing?.Port?.PortgroupKey ?? '')),
        spec.NetworkMapping.map((n) => n.Network),
        `${NETWORKS.filter((n) => n.configuration === null || d === 'frontend').length} NICs, on the networks named`,
      );
    });
  }
}
