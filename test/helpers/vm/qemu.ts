// The appliance in a real VM: the disk build/image.sh makes, booted by qemu (-accel tcg: no KVM here)
// with OVMF (EFI, as vSphere's firmware=efi), VMware's virtual hardware where qemu has it (pvscsi
// disk, vmxnet3 NICs), the OVF environment on a CD-ROM labelled "OVF ENV" (the vApp "iso"
// transport), and the NICs on tap devices inside network namespaces of this run:
//
//   netns <tag>-h (the "vSphere networks")                       the VM (qemu -accel tcg, OVMF)
//     brm [management gateway, e.g. 192.0.2.1/24] ── tapm ═══ vmxnet3 at 0000:03:00.0 → "management"
//     brw [workload gateway, e.g. 198.51.100.1/24] ── tapw ═══ vmxnet3 at 0000:0b:00.0 → "workload"
//      └── vcl ═══ eth0 [client, e.g. 198.51.100.200/24; VIP ranges via the workload address]
//                  netns <tag>-c
//
// PCI paths as on ESXi: the .link files of the image match Path=pci-0000:03:00.0 (slot 160) and
// pci-0000:0b:00.0 (slot 192). OVMF numbers buses depth-first in slot order, so a run of
// pcie-root-ports on the root bus (one bus each) puts a NIC behind the Nth port on bus N.
//
// A Machine is one deployed VM: a qcow2 overlay on the built raw disk (the image is never written),
// its EFI variables, its networks; power it on as often as needed (each time with a new OVF ENV
// disc, as vSphere makes one at every power-on). The serial console (ttyS0) is logged to a file per
// boot and can be driven (login, commands) through its socket.
//
// Every run has its own tag (ovvm-<pid>-<n>); a state file lets a later run clean up after one that
// was killed (dead owner PID): it kills the recorded qemu PID (if its command line still names the
// tag), deletes the namespaces and the run's folder. Only the caller's addresses are used, inside
// these namespaces; nothing is routed anywhere else.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicUs, REPO, run, waitFor, type RunResult } from '../rig/appliance.js';
import { ovfEnvXml } from '../rig/ovf-env.js';
import {
  alive,
  cmdline,
  deadline,
  deleteNetns,
  hostEnv,
  must,
  PATH,
  procStart,
  reapRuns,
  runSync,
  stopAtExit,
  type ClientRoute,
} from '../rig/procs.js';

export type { ClientRoute };

// ovfEnvXml: the OVF environment the vSphere "iso" transport puts on the CD-ROM.
export { monotonicUs, ovfEnvXml, REPO, run, waitFor };

const WORK_BASE = join(tmpdir(), 'ovactl-vm');
const TAG_PREFIX = 'ovvm-';
const OVMF_CODE = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'];
const OVMF_VARS = ['/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'];

// The folder npm run ova builds into (packer.json's image_dir): the test reuses an up-to-date build.
export const IMAGE_DIR = process.env.OVACTL_VM_IMAGE_DIR ?? join(REPO, 'output/image');
export const IMAGE_NAME = 'haproxy-appliance';

const has = (cmd: string) => runSync('sh', ['-c', `command -v ${cmd}`]).code === 0;

// ---------------------------------------------------------------------------------------------
// Tools

/** Why the VM rig cannot run here (for t.skip), or undefined. Installs qemu, OVMF and genisoimage when missing. */
export function vmUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the VM test needs x86-64 Linux';
  if (process.getuid?.() !== 0) return 'the VM test needs root (network namespaces, tap devices, debootstrap)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing (no tap devices)';
  const missing = (): string[] => [
    ...(has('qemu-system-x86_64') ? [] : ['qemu-system-x86']),
    ...(has('qemu-img') ? [] : ['qemu-utils']),
    ...(OVMF_CODE.some(existsSync) ? [] : ['ovmf']),
    ...(has('genisoimage') ? [] : ['genisoimage']),
    ...(['ip', 'nsenter', 'bash', 'timeout'].every(has) ? [] : ['iproute2', 'util-linux', 'coreutils']),
  ];
  let need = missing();
  if (need.length) {
    const env = { ...hostEnv(), DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], {
        env,
        encoding: 'utf8',
        timeout: 600_000,
      });
    if (install().status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { env, timeout: 300_000 });
      install();
    }
    need = missing();
    if (need.length) return `${need.join(', ')} missing and not installable`;
  }
  return undefined;
}

export interface ImageResult {
  readonly ok: boolean;
  readonly skip?: string;
  readonly ms: number;
  readonly output: string;
  readonly raw: string;
}

/** Build the image (build/image.sh; a no-op when IMAGE_DIR is up to date). */
export async function ensureImage(dir = IMAGE_DIR): Promise<ImageResult> {
  const start = Date.now();
  // No Data Plane API can be downloaded here: the image carries its test stand-in (one file, run by the
  // image's Node), through the same offline path as a real binary, unless DATAPLANEAPI names another.
  const dataplaneapi =
    process.env.DATAPLANEAPI ?? process.env.DATAPLANEAPI_BIN ?? join(REPO, 'test/standin/dataplaneapi.cjs');
  const r = await run('env', [`DATAPLANEAPI=${dataplaneapi}`, 'bash', join(REPO, 'build/image.sh'), dir], {
    timeoutMs: 40 * 60_000,
  });
  const output = `${r.stdout}${r.stderr}`.trim();
  const raw = join(dir, 'disk.raw');
  if (r.code === 77)
    return {
      ok: false,
      skip: output.split('\n').pop() ?? 'image build tools unavailable',
      ms: Date.now() - start,
      output,
      raw,
    };
  return { ok: r.code === 0 && existsSync(raw), ms: Date.now() - start, output, raw };
}

// ---------------------------------------------------------------------------------------------
// Leftovers of killed runs

interface RunState {
  tag: string;
  ownerPid: number;
  ownerStart: string;
  namespaces: string[];
  work: string;
  qemuPid?: number;
}

function killQemu(s: RunState): void {
  if (s.qemuPid && alive(s.qemuPid) && cmdline(s.qemuPid).includes(s.tag)) {
    try {
      process.kill(s.qemuPid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function release(s: RunState): void {
  killQemu(s);
  for (const ns of s.namespaces) deleteNetns(ns);
  // Wait (briefly) for a killed qemu to let go of its files before deleting the folder.
  if (s.qemuPid)
    for (let i = 0; i < 50 && alive(s.qemuPid) && cmdline(s.qemuPid).includes(s.tag); i++) spawnSync('sleep', ['0.1']);
  rmSync(s.work, { recursive: true, force: true });
}

/** Clean up after runs whose owner died (killed test, ^C, SIGKILL). Returns what it removed. */
export const reapLeftovers = (): string[] =>
  reapRuns<RunState>({
    workBase: WORK_BASE,
    tagPrefix: TAG_PREFIX,
    release,
    // No state file yet (killed while starting): nothing was started, the folder goes once its owner is gone.
    noState: (tag: string) => {
      const m = new RegExp(`^${TAG_PREFIX}(\\d+)-`).exec(tag);
      return !(m && alive(Number(m[1])));
    },
  });

// ---------------------------------------------------------------------------------------------
// The machine

export interface MachineOptions {
  /** The built raw disk (backing file of the overlay; never written). */
  readonly image: string;
  /** Gateway addresses (CIDR) of the host namespace on the management and workload networks. */
  readonly managementHost: string;
  readonly workloadHost: string;
  /** The client's address (CIDR) on the workload network, and its routes (the VIP ranges). */
  readonly client: string;
  readonly clientRoutes?: readonly ClientRoute[];
  readonly memoryMiB?: number;
  readonly cpus?: number;
}

/** The PCI bus (as ESXi numbers it) of each NIC: management slot 160 → 03, workload slot 192 → 0b. */
export const NIC_BUSES = [0x03, 0x0b] as const;
export const NIC_MACS = ['00:50:56:aa:bb:01', '00:50:56:aa:bb:02'] as const;

let counter = 0;

export class Machine {
  readonly tag: string;
  readonly work: string;
  readonly hostNs: string;
  readonly clientNs: string;
  readonly overlay: string;
  private readonly vars: string;
  private readonly state: RunState;
  private readonly opts: MachineOptions;
  private current?: Boot;
  private boots = 0;
  private destroyed = false;
  private forget: () => void = () => undefined;

  private constructor(opts: MachineOptions) {
    this.opts = opts;
    this.tag = `${TAG_PREFIX}${process.pid}-${++counter}`;
    this.work = join(WORK_BASE, this.tag);
    this.hostNs = `${this.tag}-h`;
    this.clientNs = `${this.tag}-c`;
    this.overlay = join(this.work, 'disk.qcow2');
    this.vars = join(this.work, 'OVMF_VARS.fd');
    this.state = {
      tag: this.tag,
      ownerPid: process.pid,
      ownerStart: procStart(process.pid) ?? '',
      namespaces: [this.hostNs, this.clientNs],
      work: this.work,
    };
  }

  private saveState(): void {
    writeFileSync(join(this.work, 'state.json'), JSON.stringify(this.state) + '\n');
  }

  /** A deployed VM: overlay disk, EFI variables, networks. Powered off; see powerOn(). */
  static async create(opts: MachineOptions): Promise<Machine> {
    reapLeftovers();
    const m = new Machine(opts);
    m.forget = stopAtExit(() => m.destroySync());
    try {
      m.setup();
    } catch (e) {
      m.destroySync();
      throw e;
    }
    return m;
  }

  private setup(): void {
    mkdirSync(this.work, { recursive: true });
    this.saveState();
    must('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', this.opts.image, this.overlay]);
    copyFileSync(OVMF_VARS.find(existsSync)!, this.vars);

    const h = this.hostNs;
    const c = this.clientNs;
    must('ip', ['netns', 'add', h]);
    must('ip', ['netns', 'add', c]);
    const ipH = (...a: string[]) => must('ip', ['-n', h, ...a]);
    const ipC = (...a: string[]) => must('ip', ['-n', c, ...a]);
    // No IPv6 chatter, no forwarding: the namespaces only carry what the test sends.
    for (const ns of [h, c]) {
      for (const kv of [
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
        'net.ipv4.ip_forward=0',
      ])
        must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', kv]);
    }
    ipH('link', 'set', 'lo', 'up');
    ipC('link', 'set', 'lo', 'up');
    ipH('link', 'add', 'brm', 'type', 'bridge');
    ipH('link', 'add', 'brw', 'type', 'bridge');
    for (const [tap, br] of [
      ['tapm', 'brm'],
      ['tapw', 'brw'],
    ] as const) {
      ipH('tuntap', 'add', 'dev', tap, 'mode', 'tap');
      ipH('link', 'set', tap, 'master', br);
      ipH('link', 'set', tap, 'up');
    }
    ipH('link', 'add', 'vcl', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c);
    ipH('link', 'set', 'vcl', 'master', 'brw');
    for (const l of ['brm', 'brw', 'vcl']) ipH('link', 'set', l, 'up');
    ipH('addr', 'add', this.opts.managementHost, 'dev', 'brm');
    ipH('addr', 'add', this.opts.workloadHost, 'dev', 'brw');
    ipC('addr', 'add', this.opts.client, 'dev', 'eth0');
    ipC('link', 'set', 'eth0', 'up');
    must('ip', ['netns', 'exec', c, 'sysctl', '-qw', 'net.ipv4.neigh.eth0.retrans_time_ms=100']);
    for (const r of this.opts.clientRoutes ?? []) ipC('route', 'add', r.to, 'via', r.via);
  }

  /** Replace the client's routes (e.g. for a changed VIP range). */
  setClientRoutes(routes: readonly ClientRoute[]): void {
    runSync('ip', ['-n', this.clientNs, 'route', 'flush', 'proto', 'static']);
    for (const r of routes)
      must('ip', ['-n', this.clientNs, 'route', 'replace', r.to, 'via', r.via, 'proto', 'static']);
  }

  /** Power on with this OVF environment on the "OVF ENV" CD-ROM (null: no disc). */
  async powerOn(ovfEnv: string | null, opts: { readonly again?: Boot } = {}): Promise<Boot> {
    if (this.current?.running) throw new Error('the VM is already running');
    // `again`: the same power-on once more (the emulator's fault, see Boot.crashedBeforeUserspace), same number.
    const n = opts.again ? opts.again.n : ++this.boots;
    const dir = join(this.work, opts.again ? `boot${n}-again` : `boot${n}`);
    mkdirSync(dir);
    let iso: string | undefined;
    if (ovfEnv !== null) {
      mkdirSync(join(dir, 'iso'));
      writeFileSync(join(dir, 'iso', 'ovf-env.xml'), ovfEnv);
      iso = join(dir, 'ovf-env.iso');
      must('genisoimage', ['-quiet', '-V', 'OVF ENV', '-J', '-r', '-o', iso, join(dir, 'iso')]);
    }
    const cpus = this.opts.cpus ?? 2;
    const serialSock = join(dir, 'serial.sock');
    const qmpSock = join(dir, 'qmp.sock');
    const consoleFile = join(dir, 'console.log');
    // Root ports 1…11 on the root bus, one bus each in slot order: NICs behind ports 3 and 11 sit
    // at 0000:03:00.0 and 0000:0b:00.0, as ESXi puts the NICs of PCI slots 160 and 192.
    const maxBus = Math.max(...NIC_BUSES);
    const ports: string[] = [];
    for (let bus = 1; bus <= maxBus; bus++) {
      const dev = 0x11 + Math.floor((bus - 1) / 8);
      const fn = (bus - 1) % 8;
      ports.push(
        '-device',
        `pcie-root-port,id=rp${bus},bus=pcie.0,chassis=${bus},addr=0x${dev.toString(16)}.${fn}${fn === 0 ? ',multifunction=on' : ''},io-reserve=0`,
      );
    }
    const nics = NIC_BUSES.flatMap((bus, i) => [
      '-netdev',
      `tap,id=n${i},ifname=${['tapm', 'tapw'][i]},script=no,downscript=no`,
      '-device',
      `vmxnet3,netdev=n${i},bus=rp${bus},addr=0x0,mac=${NIC_MACS[i]},romfile=`,
    ]);
    const args = [
      `--net=/run/netns/${this.hostNs}`,
      'qemu-system-x86_64',
      '-name',
      `${this.tag},process=${this.tag}`,
      '-machine',
      'q35,vmport=off',
      '-accel',
      'tcg,thread=multi,tb-size=256',
      '-cpu',
      'max',
      '-smp',
      String(cpus),
      '-m',
      String(this.opts.memoryMiB ?? 1536),
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-vga',
      'none',
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE.find(existsSync)}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${this.vars}`,
      // The disk on virtio-scsi: OVMF (Debian's) has no driver for VMware's pvscsi (the descriptor's
      // VirtualSCSI), so the firmware could not load the boot loader from it. The initramfs carries
      // vmw_pvscsi too (build/provision.sh checks it).
      '-device',
      'virtio-scsi-pci,id=scsi0,bus=pcie.0,addr=0x10',
      '-drive',
      `if=none,id=hd0,format=qcow2,file=${this.overlay},cache=unsafe,discard=unmap`,
      '-device',
      'scsi-hd,drive=hd0,bus=scsi0.0,bootindex=1',
      ...(iso
        ? [
            '-drive',
            `if=none,id=cd0,media=cdrom,readonly=on,format=raw,file=${iso}`,
            '-device',
            'ide-cd,drive=cd0,bus=ide.0',
          ]
        : []),
      ...ports,
      ...nics,
      '-chardev',
      `socket,id=ser0,path=${serialSock},server=on,wait=off,logfile=${consoleFile}`,
      '-serial',
      'chardev:ser0',
      '-qmp',
      `unix:${qmpSock},server=on,wait=off`,
      '-no-reboot',
    ];
    const logFd = openSync(join(dir, 'qemu.log'), 'w');
    const startUs = monotonicUs();
    const p = spawn('nsenter', args, { stdio: ['ignore', logFd, logFd], env: { PATH, LANG: 'C.UTF-8' } });
    closeSync(logFd);
    if (!p.pid) throw new Error('qemu did not start');
    this.state.qemuPid = p.pid; // nsenter execs qemu: the same PID
    this.saveState();
    const boot = new Boot(this, n, dir, p, startUs, consoleFile, serialSock, qmpSock);
    this.current = boot;
    await waitFor(() => !boot.running || existsSync(qmpSock), 20_000, { what: 'qemu to start' });
    if (!boot.running) throw new Error(`qemu exited at once: ${boot.qemuLog()}`);
    return boot;
  }

  /** Power off (if on), delete the namespaces and the run's folder. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    if (this.current?.running) await this.current.powerOff();
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.current?.closeSerial();
    release(this.state);
    this.forget();
  }

  /** Run a command (host binaries) in a namespace: 'host' (the gateways' side) or 'client'. */
  exec(where: 'host' | 'client', cmd: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', where === 'host' ? this.hostNs : this.clientNs, ...cmd], opts);
  }

  /** One ping; true when answered. */
  async ping(where: 'host' | 'client', address: string, waitS = 1): Promise<boolean> {
    return (
      (
        await this.exec(where, ['ping', '-n', '-c', '1', '-W', String(waitS), address], {
          timeoutMs: (waitS + 5) * 1000,
        })
      ).code === 0
    );
  }

  /** TCP connect: 'open', 'closed' (refused) or 'silent' (no answer within the timeout). */
  async tcp(where: 'host' | 'client', address: string, port: number): Promise<'open' | 'closed' | 'silent'> {
    const r = await this.exec(where, ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${address}/${port}`], {
      timeoutMs: 15_000,
    });
    if (r.code === 0) return 'open';
    return /refused/i.test(r.stderr) ? 'closed' : 'silent';
  }

  /** Start a long-running command in a namespace (its own process group; killed on destroy). */
  spawnIn(where: 'host' | 'client', cmd: readonly string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', where === 'host' ? this.hostNs : this.clientNs, ...cmd], {
      env: hostEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const kill = () => {
      if (p.pid && p.exitCode === null && p.signalCode === null) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    };
    process.once('exit', kill);
    p.once('exit', () => process.removeListener('exit', kill));
    (p as ChildProcess & { killGroup?: () => void }).killGroup = kill;
    return p;
  }
}

/** Kill a process started with spawnIn (its whole group). */
export function killGroup(p: ChildProcess): void {
  (p as ChildProcess & { killGroup?: () => void }).killGroup?.();
}

/** One power-on of a Machine: qemu, its serial console and QMP. */
export class Boot {
  private serial?: Socket;
  private serialBuf = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly machine: Machine,
    readonly n: number,
    readonly dir: string,
    private readonly qemu: ChildProcess,
    /** CLOCK_MONOTONIC (µs) when qemu was started. */
    readonly startUs: number,
    readonly consoleFile: string,
    private readonly serialSock: string,
    private readonly qmpSock: string,
  ) {
    this.exited = new Promise((resolve) => qemu.once('exit', () => resolve()));
  }

  get running(): boolean {
    return this.qemu.exitCode === null && this.qemu.signalCode === null;
  }

  /** Everything the serial console printed so far (firmware, kernel, systemd, getty). */
  console(): string {
    try {
      return readFileSync(this.consoleFile, 'utf8');
    } catch {
      return '';
    }
  }

  qemuLog(): string {
    try {
      return readFileSync(join(this.dir, 'qemu.log'), 'utf8').trim();
    } catch {
      return '';
    }
  }

  /** Wait until the console (from `from` on) matches; returns the match and the monotonic time it was seen. */
  async waitConsole(re: RegExp, timeoutMs: number, from = 0): Promise<{ match: RegExpMatchArray; atUs: number }> {
    return waitFor(
      () => {
        if (!this.running)
          throw new Error(
            `qemu exited (${this.qemu.exitCode ?? this.qemu.signalCode}) before the console showed ${re}: ${this.qemuLog()}\n--- console (tail) ---\n${this.tail()}`,
          );
        const m = this.console().slice(from).match(re);
        return m ? { match: m, atUs: monotonicUs() } : undefined;
      },
      timeoutMs,
      { intervalMs: 100, what: `the console to show ${re}`, describe: () => `--- console (tail) ---\n${this.tail()}` },
    );
  }

  /**
   * Wait until the guest reaches userspace; the kernel's panic or oops line when it crashed before that.
   * TCG (no KVM here) has, rarely, oopsed the guest kernel in its clock code before init: such a boot
   * says nothing about the appliance. A crash after init does, and is never excused (undefined here).
   */
  async crashBeforeUserspace(timeoutMs: number): Promise<string | undefined> {
    const userspace = /Run \S*init as init process|Welcome to /;
    const crash = /(Kernel panic - not syncing|\bOops: |\bBUG: )[^\n]*/;
    const seen = await waitFor(
      () => {
        const text = this.console();
        const c = crash.exec(text);
        const u = userspace.exec(text);
        if (c && !(u && u.index < c.index)) return { crash: c[0].trim() };
        if (u || !this.running) return { crash: undefined };
        return undefined;
      },
      timeoutMs,
      { intervalMs: 200, what: 'the guest to reach userspace' },
    ).catch(() => ({ crash: undefined }));
    return seen.crash;
  }

  tail(lines = 40): string {
    return this.console()
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .split('\n')
      .slice(-lines)
      .join('\n');
  }

  // --- the serial console as an admin uses it -----------------------------------------------

  private async openSerial(): Promise<Socket> {
    if (this.serial && !this.serial.destroyed) return this.serial;
    const s = await new Promise<Socket>((resolve, reject) => {
      const c = connect(this.serialSock, () => resolve(c));
      c.once('error', reject);
    });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (this.serialBuf += d));
    s.on('error', () => {});
    this.serial = s;
    return s;
  }

  closeSerial(): void {
    this.serial?.destroy();
    this.serial = undefined;
  }

  private async expect(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return waitFor(
      () => {
        const m = this.serialBuf.match(re);
        if (m) this.serialBuf = this.serialBuf.slice((m.index ?? 0) + m[0].length);
        return m ?? undefined;
      },
      timeoutMs,
      {
        intervalMs: 50,
        what: `the serial console to show ${re}`,
        describe: () =>
          `--- serial (unread) ---\n${this.serialBuf.slice(-2000)}\n--- console (tail) ---\n${this.tail(20)}`,
      },
    );
  }

  private async send(text: string): Promise<void> {
    const s = await this.openSerial();
    s.write(text);
  }

  /** Log in on the serial console (agetty on ttyS0) and leave a root shell there. */
  async login(user: string, password: string, timeoutMs = 120_000): Promise<void> {
    await this.openSerial();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.serialBuf = '';
      await this.send('\r');
      try {
        await this.expect(/login: *$/m, 10_000);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
    await this.send(`${user}\r`);
    await this.expect(/Password: *$/m, 30_000);
    await this.send(`${password}\r`);
    await this.expect(/[#$] $/m, 60_000);
    // Plain output from here on: no bracketed paste, no pager, no colours, no echo, and no prompt
    // (a prompt printed after one command's marker would land in the next command's output).
    await this.shell(
      'bind "set enable-bracketed-paste off" 2>/dev/null; export SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb PS1= PS2=; unset PROMPT_COMMAND; stty -echo cols 200',
    );
  }

  /** Run a shell command in the logged-in console session; its output (without the command's echo) and exit code. */
  async shell(cmd: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
    const mark = `__OVACTL_${Math.random().toString(36).slice(2, 8)}`;
    this.serialBuf = '';
    await this.send(`${cmd}; echo "${mark}=$?="\r`);
    const m = await this.expect(new RegExp(`([\\s\\S]*?)${mark}=(\\d+)=`), timeoutMs);
    const out = (m[1] ?? '')
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\r/g, '')
      .split('\n')
      .filter((l) => !l.includes(mark) && !l.includes(cmd.slice(0, 40)))
      .join('\n')
      .trim();
    return { code: Number(m[2]), out };
  }

  // --- power ---------------------------------------------------------------------------------

  private async qmp(command: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const c = connect(this.qmpSock, () => {
        c.write('{"execute":"qmp_capabilities"}\n');
        c.write(`{"execute":"${command}"}\n`);
        setTimeout(() => {
          c.end();
          resolve();
        }, 200);
      });
      c.on('error', () => resolve());
    });
  }

  /** ACPI power button (a guest shutdown), qemu killed after the grace period. */
  async powerOff(graceMs = 120_000): Promise<'clean' | 'killed'> {
    if (!this.running) return 'clean';
    await this.qmp('system_powerdown');
    const done = await Promise.race([this.exited.then(() => true), deadline(graceMs).then(() => false)]);
    if (!done) {
      this.qemu.kill('SIGKILL');
      await Promise.race([this.exited, deadline(5_000)]);
    }
    this.closeSerial();
    return done ? 'clean' : 'killed';
  }
}
