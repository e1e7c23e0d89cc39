// The appliance test rig: a Debian 13 rootfs (test/helpers/rig/rootfs.sh, cached) booted with systemd in
// systemd-nspawn, inside network namespaces of its own, with a client namespace on the workload
// network. Used by test/boot.test.ts, test/rig-smoke.test.ts, test/rig-pair.test.ts and the boot benchmark.
//
//   host netns <tag>-h                                        container (own netns, systemd PID 1)
//     brm  [mgmt gateway, e.g. 192.0.2.1/24]  ── vmgmt  ═══  management
//     brw  [workload gateway, 198.51.100.1/24] ── vwork ═══  workload
//          └── vcl ═══ eth0 [client, e.g. 198.51.100.200/24, VIP range via the workload address]
//                      client netns <tag>-c
//
// Two appliances (keepalived, issue 26): a second one boots with `peerOf` the first and joins its
// namespaces, its host-side veths (vmgmt2, vwork2; a third: vmgmt3, …) on the same two bridges. The
// first one owns the namespaces: a joiner's stop leaves them alone, the owner's stop stops its joiners
// first (stop joiners first, or let the owner do it). powerOff()/powerOn() pull and restore a VM's
// power: the container dies at once (SIGKILL), its overlay (the "disk") and the namespaces stay.
//
// Every run has its own tag (ovrig-<pid>-<n>): namespace, machine and directory names never clash
// with a concurrent run, and the interfaces live only in the rig's namespaces (none in the machine's
// own). A state file per run lets the next run clean up after one that crashed (dead owner PID):
// it kills the recorded nspawn/init PIDs, unmounts the overlay and deletes the namespaces.
//
// Only addresses the caller gives are used, inside these namespaces; nothing routes to the outside.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
  sleep,
  stopAtExit,
  type ClientRoute,
  type RunResult,
} from './procs.js';

import { BUNDLE } from '../cli.js';
export type { ClientRoute, RunResult };

export const REPO = new URL('../../..', import.meta.url).pathname;
export const ROOTFS_CACHE = process.env.OVACTL_ROOTFS_CACHE ?? join(REPO, '.cache/rootfs');
const ROOTFS_SH = join(REPO, 'test/helpers/rig/rootfs.sh');
const WORK_BASE = join(tmpdir(), 'ovactl-rig');
const TAG_PREFIX = 'ovrig-';

/** Run a command (argument vector, no shell), collect its output. Never rejects. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, [...args], { env: hostEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e) });
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : null),
        stdout,
        stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr,
      });
    });
  });
}

/** CLOCK_MONOTONIC in µs: the clock systemd's *TimestampMonotonic properties use (no time namespace). */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Poll `predicate` until it returns something other than false/undefined/null; returns that value.
 * Throws after `timeoutMs` with `describe()` (or the last value) in the message.
 */
export async function waitFor<T>(
  predicate: () => T | false | undefined | null | Promise<T | false | undefined | null>,
  timeoutMs: number,
  opts: { intervalMs?: number; what?: string; describe?: () => string | Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v !== false && v !== undefined && v !== null) return v;
    if (Date.now() >= deadline) {
      const detail = opts.describe ? await opts.describe() : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${detail ? `: ${detail}` : ''}`,
      );
    }
    await sleep(opts.intervalMs ?? 50);
  }
}

// ---------------------------------------------------------------------------------------------
// Availability and the cached rootfs

/** Why the rig cannot run here (for t.skip), or undefined. Cheap; does not build anything. */
export function rigUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the appliance rig needs Linux';
  if (process.getuid?.() !== 0) return 'the appliance rig needs root (network namespaces, systemd-nspawn, overlayfs)';
  for (const tool of ['ip', 'nsenter', 'mount', 'bash']) {
    if (runSync('sh', ['-c', `command -v ${tool}`]).code !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

export interface RootfsResult {
  readonly ok: boolean;
  /** Set when the rig cannot run here (tools missing and not installable): skip, don't fail. */
  readonly skip?: string;
  readonly ms: number;
  readonly output: string;
}

/**
 * How long a rootfs build may take: minutes (about 9 on a loaded 2-CPU machine). A test file that
 * waits for one raises its own timeout (tap's t.setTimeout) when !rootfsCached().
 */
export const ROOTFS_BUILD_MS = 30 * 60_000;

/** Whether DIR holds a finished rootfs of rootfs.sh's current recipe (its .complete's first line). */
export function rootfsCached(dir = ROOTFS_CACHE): boolean {
  const recipe = readFileSync(ROOTFS_SH, 'utf8').match(/^RECIPE="([^"]+)"/m)?.[1];
  try {
    return readFileSync(join(dir, '.complete'), 'utf8').split('\n')[0] === recipe;
  } catch {
    return false;
  }
}

/** Build the cached rootfs unless it is there (test/helpers/rig/rootfs.sh; installs the host tools too). */
export async function ensureRootfs(dir = ROOTFS_CACHE): Promise<RootfsResult> {
  const start = Date.now();
  // rootfs.sh returns at once when the cache holds its current recipe and the tools are there.
  const r = await run('bash', [ROOTFS_SH, dir], { timeoutMs: ROOTFS_BUILD_MS });
  const output = `${r.stdout}${r.stderr}`.trim() || 'cached';
  if (r.code === 77)
    return { ok: false, skip: output.split('\n').pop() || 'rig tools unavailable', ms: Date.now() - start, output };
  return { ok: r.code === 0, ms: Date.now() - start, output };
}

// ---------------------------------------------------------------------------------------------
// Leftovers of crashed runs

interface RunState {
  tag: string;
  ownerPid: number;
  ownerStart: string;
  hostNs: string;
  clientNs: string;
  work: string;
  merged: string;
  /** The owner's tag when this run joined another's namespaces (BootOptions.peerOf): not ours to delete. */
  joined?: string;
  nspawnPid?: number;
  leaderPid?: number;
}

const isMounted = (path: string): boolean =>
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === path);

function killRecorded(s: RunState): void {
  // Only PIDs that are still ours: nspawn's command line names the run's tag; the container's init
  // is the child of that nspawn. SIGKILL on a PID namespace's init ends the whole container.
  if (s.nspawnPid && cmdline(s.nspawnPid).includes(s.tag)) {
    for (const pid of [...childrenOf(s.nspawnPid), s.nspawnPid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  if (s.leaderPid && alive(s.leaderPid) && s.nspawnPid && !alive(s.nspawnPid)) {
    // orphaned init: ours only if it still runs in the overlay root we mounted
    try {
      if (readlinkSync(`/proc/${s.leaderPid}/root`) === s.merged) process.kill(s.leaderPid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function releaseResources(s: RunState): void {
  for (let i = 0; i < 50 && s.nspawnPid && alive(s.nspawnPid) && cmdline(s.nspawnPid).includes(s.tag); i++)
    runSync('sleep', ['0.1']);
  // A killed container's PID namespace takes a moment to go.
  for (let i = 0; i < 50 && s.leaderPid && alive(s.leaderPid); i++) runSync('sleep', ['0.1']);
  if (isMounted(s.merged)) {
    if (runSync('umount', [s.merged]).code !== 0) runSync('umount', ['-l', s.merged]);
  }
  if (!s.joined) for (const ns of [s.clientNs, s.hostNs]) deleteNetns(ns);
  if (!isMounted(s.merged)) rmSync(s.work, { recursive: true, force: true });
}

/** The state files of the runs that joined run TAG's namespaces. */
function joinersOf(tag: string): RunState[] {
  if (!existsSync(WORK_BASE)) return [];
  return readdirSync(WORK_BASE).flatMap((d) => {
    try {
      const s = JSON.parse(readFileSync(join(WORK_BASE, d, 'state.json'), 'utf8')) as RunState;
      return s.joined === tag ? [s] : [];
    } catch {
      return [];
    }
  });
}

/** Remove what runs whose owner process is gone left behind (state files, then stray namespaces). */
export const reapLeftovers = (): string[] =>
  reapRuns<RunState>({
    workBase: WORK_BASE,
    tagPrefix: TAG_PREFIX,
    release: (s) => {
      // Joiners first: deleting the namespaces kills their nspawn (it runs in the owner's host
      // namespace), after which their init is found only by its root.
      for (const j of s.joined ? [] : joinersOf(s.tag)) {
        killRecorded(j);
        releaseResources(j);
      }
      killRecorded(s);
      releaseResources(s);
    },
  });

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (c) out.push(...c.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The appliance

export interface BootOptions {
  /** Cached rootfs (lower layer of the overlay). */
  readonly rootfs?: string;
  /** When given: install ovactl (bash build/install.sh ROOT) and this ovf-env.xml before booting. */
  readonly ovfEnv?: string;
  /**
   * The Data Plane API binary: 'standin' installs test/standin/dataplaneapi.cjs (test code) as
   * /usr/local/bin/dataplaneapi; 'none' leaves the image without one. Default: 'standin' with ovfEnv.
   */
  readonly dataplaneapi?: 'standin' | 'none';
  /** Extra changes to the tree before boot (called with the merged root). */
  readonly prepare?: (root: string) => void | Promise<void>;
  /**
   * A second appliance on the same networks: join this appliance's host and client namespaces (its
   * bridges, gateways and client) instead of making new ones. managementHost, workloadHost, client and
   * clientRoutes are then ignored. Stop joiners before their owner (the owner's stop stops them too).
   */
  readonly peerOf?: Appliance;
  /** Address (CIDR) of the host netns on the management bridge: the management gateway. */
  readonly managementHost?: string;
  /** Address (CIDR) of the host netns on the workload bridge: the workload gateway. */
  readonly workloadHost?: string;
  /** The client's address (CIDR) on the workload network (none: its eth0 has no address; not with peerOf). */
  readonly client?: string;
  /** Routes in the client netns, e.g. the VIP range via the appliance's workload address. */
  readonly clientRoutes?: readonly ClientRoute[];
  /** Called once the namespaces are ready, just before systemd-nspawn starts (e.g. to start a client probe). */
  readonly beforeBoot?: (a: Appliance) => void | Promise<void>;
  /** How long to wait for the container's init to appear (and for systemd's control socket). */
  readonly startTimeoutMs?: number;
}

/** The host-side ends of a container's NICs, in the host netns (≤ 15 characters: Linux's IFNAMSIZ). */
export interface HostLinks {
  /** On the management bridge brm, the peer of the container's `management`. */
  readonly management: string;
  /** On the workload bridge brw, the peer of the container's `workload`. */
  readonly workload: string;
}

let counter = 0;

/** Where test/standin/vmware-rpctool keeps guestinfo, inside the container. */
const GUESTINFO_DIR = 'var/lib/ovactl-test/guestinfo';

/** A stand-in of test/standin/ as ROOT/usr/local/bin/NAME, 0755 (PATH has /usr/local/bin first). */
function installStandin(root: string, file: string, name: string): void {
  const bin = join(root, 'usr/local/bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(join(REPO, 'test/standin', file), join(bin, name));
  chmodSync(join(bin, name), 0o755);
}

export class Appliance {
  readonly tag: string;
  readonly root: string;
  readonly consoleFile: string;
  readonly hostNs: string;
  readonly clientNs: string;
  readonly hostLinks: HostLinks;
  /** The appliance whose namespaces this one joined (BootOptions.peerOf), or undefined: it owns them. */
  readonly owner?: Appliance;
  /** Where this machine made the rig differ from a VM (for a test comment). */
  readonly quirks: string[] = [];
  /** CLOCK_MONOTONIC (µs) when systemd-nspawn was started. */
  bootStartUs = 0;
  private nspawn?: ChildProcess;
  private nspawnExited?: Promise<void>;
  private leader = 0;
  private readonly state: RunState;
  private readonly background = new Set<ChildProcess>();
  private stopped = false;
  private forget: () => void = () => undefined;
  /** Owner only: the joiners not stopped yet; how many appliances the group ever had (names the next veths). */
  private readonly joiners = new Set<Appliance>();
  private members = 1;

  private constructor(tag: string, peerOf?: Appliance) {
    this.tag = tag;
    const work = join(WORK_BASE, tag);
    // A joiner of a joiner joins the owner: one set of namespaces per group.
    const owner = peerOf?.owner ?? peerOf;
    this.owner = owner;
    this.hostNs = owner?.hostNs ?? `${tag}-h`;
    this.clientNs = owner?.clientNs ?? `${tag}-c`;
    // The owner's links keep their names (tests name them); a joiner's carry its number in the group.
    const n = owner ? String(++owner.members) : '';
    this.hostLinks = { management: `vmgmt${n}`, workload: `vwork${n}` };
    this.root = join(work, 'merged');
    this.consoleFile = join(work, 'console.log');
    this.state = {
      tag,
      ownerPid: process.pid,
      ownerStart: procStart(process.pid) ?? '',
      hostNs: this.hostNs,
      clientNs: this.clientNs,
      work,
      merged: this.root,
      ...(owner ? { joined: owner.tag } : {}),
    };
  }

  /** PID (in the machine's PID namespace) of the container's systemd. */
  get leaderPid(): number {
    return this.leader;
  }

  private saveState(): void {
    writeFileSync(join(this.state.work, 'state.json'), JSON.stringify(this.state) + '\n');
  }

  static async boot(opts: BootOptions): Promise<Appliance> {
    reapLeftovers();
    if (opts.peerOf?.stopped || opts.peerOf?.owner?.stopped)
      throw new Error(`peerOf: ${opts.peerOf.tag} (or its owner) is stopped: its namespaces are gone`);
    const a = new Appliance(`${TAG_PREFIX}${process.pid}-${++counter}`, opts.peerOf);
    a.owner?.joiners.add(a);
    a.forget = stopAtExit(() => a.stopSync());
    try {
      await a.setup(opts);
    } catch (e) {
      const tail = a.console().split('\n').slice(-30).join('\n');
      await a.stop();
      throw new Error(`${(e as Error).message}${tail.trim() ? `\n--- console (tail) ---\n${tail}` : ''}`);
    }
    return a;
  }

  private async setup(opts: BootOptions): Promise<void> {
    const rootfs = opts.rootfs ?? ROOTFS_CACHE;
    if (!existsSync(join(rootfs, '.complete')))
      throw new Error(`no rootfs at ${rootfs}: run test/helpers/rig/rootfs.sh ${rootfs}`);
    const work = this.state.work;
    mkdirSync(work, { recursive: true });
    this.saveState();

    // A fresh copy of the rootfs: an overlay with a per-run upper directory (instant, no copying).
    for (const d of ['upper', 'ovl-work', 'merged']) mkdirSync(join(work, d));
    must('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${rootfs},upperdir=${join(work, 'upper')},workdir=${join(work, 'ovl-work')}`,
      this.root,
    ]);

    if (opts.ovfEnv !== undefined) {
      const install = join(REPO, 'build/install.sh');
      const r = await run('bash', [install, this.root], { timeoutMs: 60_000 });
      if (r.code !== 0)
        throw new Error(`bash build/install.sh ${this.root} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
      mkdirSync(join(this.root, 'etc/ovactl'), { recursive: true });
      writeFileSync(join(this.root, 'etc/ovactl/ovf-env.xml'), opts.ovfEnv, { mode: 0o600 });
      mkdirSync(join(this.root, 'etc/default'), { recursive: true });
      writeFileSync(join(this.root, 'etc/default/ovactl'), 'OVACTL_FIRSTBOOT_ARGS="--env /etc/ovactl/ovf-env.xml"\n');
    }
    // Stand-ins (test code) for what vSphere and the image would bring: prepare() may still replace them.
    if (opts.ovfEnv !== undefined) installStandin(this.root, 'vmware-rpctool', 'vmware-rpctool');
    if ((opts.dataplaneapi ?? (opts.ovfEnv !== undefined ? 'standin' : 'none')) === 'standin') {
      installStandin(this.root, 'dataplaneapi.cjs', 'dataplaneapi');
    }
    await opts.prepare?.(this.root);

    if (!this.owner) this.makeNamespaces(opts);
    await opts.beforeBoot?.(this);
    await this.start(opts.startTimeoutMs ?? 20_000, 'w');
  }

  /** The host and client namespaces, the bridges and the client (the owner of a group only). */
  private makeNamespaces(opts: BootOptions): void {
    const h = this.hostNs;
    const c = this.clientNs;
    must('ip', ['netns', 'add', h]);
    must('ip', ['netns', 'add', c]);
    const ipH = (...args: string[]) => must('ip', ['-n', h, ...args]);
    const ipC = (...args: string[]) => must('ip', ['-n', c, ...args]);
    ipH('link', 'set', 'lo', 'up');
    ipC('link', 'set', 'lo', 'up');
    ipH('link', 'add', 'brm', 'type', 'bridge');
    ipH('link', 'add', 'brw', 'type', 'bridge');
    // The client: a veth from the workload bridge into the client namespace.
    ipH('link', 'add', 'vcl', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c);
    ipH('link', 'set', 'vcl', 'master', 'brw');
    for (const l of ['brm', 'brw', 'vcl']) ipH('link', 'set', l, 'up');
    if (opts.managementHost) ipH('addr', 'add', opts.managementHost, 'dev', 'brm');
    if (opts.workloadHost) ipH('addr', 'add', opts.workloadHost, 'dev', 'brw');
    // Quick ARP retries in the client: a failed resolution (appliance not configured yet) must not
    // hold back the first answer by a second (default retrans_time), which the boot-to-VIP time measures.
    for (const [k, v] of [
      ['net.ipv4.neigh.eth0.retrans_time_ms', '20'],
      ['net.ipv6.conf.eth0.disable_ipv6', '1'],
    ])
      must('ip', ['netns', 'exec', c, 'sysctl', '-qw', `${k}=${v}`]);
    if (opts.client) ipC('addr', 'add', opts.client, 'dev', 'eth0');
    ipC('link', 'set', 'eth0', 'up');
    for (const r of opts.clientRoutes ?? []) ipC('route', 'add', r.to, 'via', r.via);
  }

  /**
   * Start systemd-nspawn on the overlay (the first boot and powerOn): put the host sides of its veths
   * on the bridges, find the container's systemd, wait for its control socket. `consoleFlags`: 'w'
   * starts the console file, 'a' appends to it (a power-on keeps the earlier boots' output).
   */
  private async start(timeout: number, consoleFlags: 'w' | 'a'): Promise<void> {
    const h = this.hostNs;
    const { management: vm, workload: vw } = this.hostLinks;
    const ipH = (...args: string[]) => must('ip', ['-n', h, ...args]);
    // Boot. nsenter --net (not `ip netns exec`, which remounts /sys and hides /sys/fs/cgroup).
    const consoleFd = openSync(this.consoleFile, consoleFlags);
    const args = [
      `--net=/run/netns/${h}`,
      'systemd-nspawn',
      '-D',
      this.root,
      '--boot',
      '--register=no',
      '--keep-unit',
      '--console=read-only',
      '--link-journal=no',
      '--resolv-conf=off',
      '--kill-signal=SIGRTMIN+4', // SIGTERM to nspawn powers the container off
      '-M',
      this.tag,
      `--network-veth-extra=${vm}:management`,
      `--network-veth-extra=${vw}:workload`,
    ];
    this.bootStartUs = monotonicUs();
    const p = spawn('nsenter', args, {
      stdio: ['ignore', consoleFd, consoleFd],
      env: { PATH, LANG: 'C.UTF-8', SYSTEMD_COLORS: '0' },
    });
    closeSync(consoleFd);
    this.nspawn = p;
    this.nspawnExited = new Promise((resolve) => p.once('exit', () => resolve()));
    if (!p.pid) throw new Error('systemd-nspawn did not start');
    // nsenter execs systemd-nspawn: same PID.
    this.state.nspawnPid = p.pid;
    this.saveState();

    let exited = false;
    void this.nspawnExited.then(() => (exited = true));
    // The host sides appear when nspawn sets up the network: put them on their bridges.
    await waitFor(
      () =>
        exited ||
        (runSync('ip', ['-n', h, 'link', 'show', vw]).code === 0 &&
          runSync('ip', ['-n', h, 'link', 'show', vm]).code === 0),
      timeout,
      {
        intervalMs: 10,
        what: 'the veth pairs of systemd-nspawn',
      },
    );
    if (exited) throw new Error(`systemd-nspawn exited during start (code ${p.exitCode})`);
    ipH('link', 'set', vm, 'master', 'brm');
    ipH('link', 'set', vw, 'master', 'brw');
    ipH('link', 'set', vm, 'up');
    ipH('link', 'set', vw, 'up');

    // The container's init: the child of nspawn that runs systemd in a PID namespace of its own.
    const ownPidNs = readlinkSync('/proc/self/ns/pid');
    this.leader = await waitFor(
      () => {
        if (exited) throw new Error(`systemd-nspawn exited during start (code ${p.exitCode})`);
        for (const child of childrenOf(p.pid!)) {
          try {
            if (
              readlinkSync(`/proc/${child}/ns/pid`) !== ownPidNs &&
              readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'systemd'
            )
              return child;
          } catch {
            /* racing with exec */
          }
        }
        return undefined;
      },
      timeout,
      { intervalMs: 10, what: "the container's systemd" },
    );
    this.state.leaderPid = this.leader;
    this.saveState();
    // systemctl works once the manager listens on its private socket.
    await waitFor(async () => (await this.exec(['test', '-S', '/run/systemd/private'])).code === 0, timeout, {
      intervalMs: 10,
      what: "systemd's control socket in the container",
    });
  }

  /**
   * Pull the VM's plug: SIGKILL the container (nspawn and its init, hence everything in it) and wait
   * until it and its veths are gone. The overlay stays mounted with its upper directory (the disk:
   * what the container wrote survives, as on a VM's disk; /run does not), and so do the namespaces,
   * the bridges and the other appliances on them. powerOn() boots it again.
   */
  async powerOff(): Promise<void> {
    if (this.stopped) throw new Error(`${this.tag} is stopped`);
    if (!this.running) throw new Error(`${this.tag} is not running`);
    const leader = this.leader;
    // The init first: SIGKILL on a PID namespace's init ends the whole container at once; then nspawn
    // (no clean-up of its own either) and whatever else it forked.
    try {
      process.kill(leader, 'SIGKILL');
    } catch {
      /* gone */
    }
    killRecorded(this.state);
    const exited = await Promise.race([this.nspawnExited!.then(() => true), deadline(10_000).then(() => false)]);
    if (!exited) throw new Error(`systemd-nspawn of ${this.tag} did not exit after SIGKILL`);
    this.leader = 0;
    this.state.nspawnPid = undefined;
    this.state.leaderPid = undefined;
    this.saveState();
    await waitFor(() => !alive(leader), 10_000, { what: `the container's systemd (PID ${leader}) to go` });
    // The veths go with the container's network namespace, which the kernel tears down a moment
    // after its last process: until then a power-on could not create them again.
    const { management: vm, workload: vw } = this.hostLinks;
    await waitFor(
      () =>
        runSync('ip', ['-n', this.hostNs, 'link', 'show', vm]).code !== 0 &&
        runSync('ip', ['-n', this.hostNs, 'link', 'show', vw]).code !== 0,
      10_000,
      { intervalMs: 20, what: `${vm} and ${vw} to go with the container's network namespace` },
    );
  }

  /**
   * Power the VM on again after powerOff(): the same root (overlay and upper directory), the same
   * host-side veth names on the same bridges; returns once systemd listens on its control socket,
   * as the first boot does. exec(), unit() and guestinfo() work again.
   */
  async powerOn(opts: { startTimeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) throw new Error(`${this.tag} is stopped`);
    if (this.running) throw new Error(`${this.tag} is running`);
    if (!isMounted(this.root)) throw new Error(`${this.root} is not mounted`);
    try {
      await this.start(opts.startTimeoutMs ?? 20_000, 'a');
    } catch (e) {
      const tail = this.console().split('\n').slice(-30).join('\n');
      throw new Error(`${(e as Error).message}${tail.trim() ? `\n--- console (tail) ---\n${tail}` : ''}`);
    }
  }

  /** Console output so far (what systemd and agetty print). */
  console(): string {
    try {
      return readFileSync(this.consoleFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Whether systemd-nspawn still runs. */
  get running(): boolean {
    return !!this.nspawn && this.nspawn.exitCode === null && this.nspawn.signalCode === null;
  }

  private nsenterArgs(cmd: readonly string[]): string[] {
    return [
      '-t',
      String(this.leader),
      '-m',
      '-u',
      '-i',
      '-n',
      '-p',
      '-C',
      '-r',
      '-w',
      '--',
      '/usr/bin/env',
      '-i',
      `PATH=${PATH}`,
      'LANG=C.UTF-8',
      'TERM=dumb',
      'SYSTEMD_COLORS=0',
      'SYSTEMD_PAGER=',
      ...cmd,
    ];
  }

  /** Run a command inside the container (all its namespaces, clean environment). */
  exec(cmd: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    if (!this.leader) return Promise.resolve({ code: 127, stdout: '', stderr: 'container not started' });
    return run('nsenter', this.nsenterArgs(cmd), opts);
  }

  /** Run a command (host binaries) in the client namespace. */
  client(cmd: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.clientNs, ...cmd], opts);
  }

  /**
   * Start a long-running command in the client namespace, in a process group of its own; stop() (or
   * stopBackground) kills that group if it still runs.
   */
  clientSpawn(cmd: readonly string[], opts: { stdin?: boolean } = {}): ChildProcess {
    return this.spawnIn(this.clientNs, cmd, opts);
  }

  /** The same in the host-side namespace (the gateways' side of the bridges, e.g. a BGP router). */
  hostSpawn(cmd: readonly string[]): ChildProcess {
    return this.spawnIn(this.hostNs, cmd);
  }

  /** Run a command (host binaries) in the host-side namespace. */
  host(cmd: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.hostNs, ...cmd], opts);
  }

  private spawnIn(ns: string, cmd: readonly string[], opts: { stdin?: boolean } = {}): ChildProcess {
    const stdio = [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] as const;
    const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { env: hostEnv(), stdio: [...stdio], detached: true });
    this.background.add(p);
    p.once('exit', () => this.background.delete(p));
    return p;
  }

  /** Kill a command started with clientSpawn or hostSpawn (its whole process group). */
  stopBackground(p: ChildProcess): void {
    if (p.pid && p.exitCode === null && p.signalCode === null) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.background.delete(p);
  }

  /** A guestinfo value as the vmware-rpctool stand-in stored it (survives reboots); undefined if never set. */
  guestinfo(key: string): string | undefined {
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(key)) throw new Error(`not a guestinfo key: ${JSON.stringify(key)}`);
    try {
      return readFileSync(join(this.root, GUESTINFO_DIR, key), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** `systemctl show -p …` of a unit as an object. */
  async unit(unit: string, props: readonly string[]): Promise<Record<string, string>> {
    const r = await this.exec(['systemctl', 'show', unit, ...props.map((p) => `--property=${p}`)]);
    const out: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  /** What to print when something fails: failed units, the journal's tail, the console's tail. */
  async diagnostics(lines = 60): Promise<string> {
    const failed = await this.exec(['systemctl', '--failed', '--no-legend', '--plain']);
    const journal = await this.exec(['journalctl', '-b', '--no-pager', '-n', String(lines), '-o', 'short-monotonic']);
    return [
      `--- failed units ---\n${failed.stdout.trim() || '(none)'}`,
      `--- journal (last ${lines}) ---\n${journal.stdout.trim()}${journal.stderr.trim()}`,
      `--- console (tail) ---\n${this.console().split('\n').slice(-20).join('\n')}`,
    ].join('\n');
  }

  /**
   * Power the container off (killing it after a grace period) and remove everything of this run: an
   * owner's namespaces too, after stopping the appliances that joined them; a joiner leaves them.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.joiners].map((j) => j.stop(graceMs)));
    for (const p of [...this.background]) this.stopBackground(p);
    if (this.nspawn && this.running) {
      this.nspawn.kill('SIGTERM'); // → SIGRTMIN+4 to the container's systemd: poweroff
      const done = await Promise.race([this.nspawnExited!.then(() => true), deadline(graceMs).then(() => false)]);
      if (!done) killRecorded(this.state);
      await Promise.race([this.nspawnExited, deadline(2_000)]);
    }
    releaseResources(this.state);
    this.owner?.joiners.delete(this);
    this.forget();
  }

  /** Synchronous, forceful stop (process 'exit' hook): kill, unmount, delete namespaces (joiners first). */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const j of [...this.joiners]) j.stopSync();
    for (const p of [...this.background]) this.stopBackground(p);
    killRecorded(this.state);
    releaseResources(this.state);
    this.owner?.joiners.delete(this);
    this.forget();
  }
}

/** Boot an appliance; register `stop()` with the test's teardown (`t.teardown(() => a.stop())`). */
export const bootAppliance = (opts: BootOptions): Promise<Appliance> => Appliance.boot(opts);

/** dist/ovactl.js, built when missing (build/install.sh copies it; test/run.sh builds before the tests). */
export function ensureBundle(): void {
  if (existsSync(BUNDLE)) return;
  const b = spawnSync(process.execPath, [join(REPO, 'build/bundle.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed: ${b.stderr}`);
}

/** The directory of the rig (for scripts that want rootfs.sh). */
export const RIG_DIR = dirname(new URL(import.meta.url).pathname);
