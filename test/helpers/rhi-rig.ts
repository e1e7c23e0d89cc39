// The route health injection rig: a router and appliances in network namespaces, all running bird2
// with their own config, socket and PID file; each appliance runs haproxy (runtime API socket in a
// scratch folder) and `ovactl rhi run`. The appliances' haproxy and BIRD are the image's (haproxy 3.0,
// BIRD 2.17 from the rig's Debian 13 rootfs: test/helpers/appliance-programs.ts); the router, not the
// product, runs this machine's BIRD, as a network's router would run its own. Addresses: 198.51.100.0/24 links (a /30
// per appliance), VIPs in 203.0.113.0/24. Everything is stopped by PID and the namespaces deleted
// in the test's teardown, also on failure (Netns does that).
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { birdConf, routesText } from '../../src/rhi/bird.js';
import { birdCommand, haproxyCommand } from '../../src/rhi/sockets.js';
import { Netns, sleep, type Proc } from './netns.js';
import { firstUnmet, isRoot, skipUnless } from './root.js';
import { applianceArgv, appliancePrograms } from './appliance-programs.js';

export const ROUTER_AS = 65000;
export const VIP = '203.0.113.10';

const haveBird = spawnSync('bird', ['--version']).status === 0;
const noAppliance = isRoot && haveBird ? await appliancePrograms() : undefined;
export const skip = skipUnless(
  firstUnmet([
    [isRoot, 'needs root (network namespaces)'],
    [haveBird, "bird2 is not installed (test/run.sh installs it; the router's)"],
    [!noAppliance, `the appliance's haproxy and BIRD: ${noAppliance}`],
  ]),
);

/** BIRD in the foreground with its own files: the appliance's, or (`router`) this machine's. */
export const birdArgv = (dir: string, socket: string, who: 'appliance' | 'router' = 'appliance'): string[] => {
  const args = ['-f', '-c', join(dir, 'bird.conf'), '-s', socket, '-P', join(dir, 'bird.pid')];
  return who === 'router' ? ['bird', ...args] : applianceArgv('bird', args);
};

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** Atomic write (temp + rename), as an editor or a deploy tool saves. */
export function save(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** BIRD in the foreground in `ns`, with its own files; resolves once its socket answers. */
async function startBird(
  ns: Netns,
  dir: string,
  conf: string,
  who: 'appliance' | 'router' = 'appliance',
): Promise<{ proc: Proc; socket: string }> {
  writeFileSync(join(dir, 'bird.conf'), conf);
  const socket = join(dir, 'bird.ctl');
  const proc = ns.spawn(birdArgv(dir, socket, who));
  for (let i = 0; i < 200; i++) {
    if (
      await birdCommand(socket, 'show status', 500).then(
        () => true,
        () => false,
      )
    )
      return { proc, socket };
    if (!proc.alive()) break;
    await sleep(25);
  }
  throw new Error(`bird did not start in ${ns.name}: ${proc.err}`);
}

export const haproxyConfig = (dir: string, frontends: { name: string; bind: string; backend: string }[]): string =>
  [
    'global',
    `  stats socket ${join(dir, 'admin.sock')} mode 600 level admin`,
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 1s',
    '  timeout server 1s',
    ...frontends.flatMap((f) => [`frontend ${f.name}`, `  bind ${f.bind}`, `  default_backend ${f.backend}`]),
    ...[...new Set(frontends.map((f) => f.backend))].flatMap((b) => [`backend ${b}`, '  server s1 127.0.0.1:8080']),
    '',
  ].join('\n');

export class Appliance {
  haproxy: Proc | undefined;
  daemon: Proc | undefined;
  bird!: { proc: Proc; socket: string };
  readonly rules: string;
  readonly haproxyCfg: string;
  readonly socket: string;
  readonly routesDir: string;
  readonly state: string;
  readonly ranges: string;

  constructor(
    readonly ns: Netns,
    readonly dir: string,
    readonly address: string,
    readonly as: number,
  ) {
    this.rules = join(dir, 'rhi.rules');
    this.haproxyCfg = join(dir, 'haproxy.cfg');
    this.socket = join(dir, 'admin.sock');
    this.routesDir = join(dir, 'routes');
    this.state = join(dir, 'rhi.json');
    this.ranges = join(dir, 'anyip-routes.cfg');
  }

  /** Starts (or soft-reloads, -sf) haproxy with `cfg`; resolves when the runtime API lists every frontend. */
  async startHaproxy(cfg: string): Promise<void> {
    save(this.haproxyCfg, cfg);
    const old = this.haproxy;
    this.haproxy = this.ns.spawn(
      applianceArgv('haproxy', ['-f', this.haproxyCfg, '-db', ...(old?.alive() ? ['-sf', String(old.pid)] : [])]),
    );
    const names = [...cfg.matchAll(/^frontend (\S+)/gm)].map((m) => `${m[1]},FRONTEND`);
    for (let i = 0; i < 200; i++) {
      const stat = await haproxyCommand(this.socket, 'show stat -1 1 -1', 500).catch(() => '');
      if (names.every((n) => stat.includes(n)) && (!old || !old.alive())) return;
      await sleep(25);
    }
    throw new Error(`haproxy did not come up in ${this.ns.name}: ${this.haproxy.err}`);
  }

  /** A runtime API command (`disable server app/s1`). */
  api(command: string): Promise<string> {
    return haproxyCommand(this.socket, command);
  }

  /** `ovactl rhi run` with the rig's paths and fast timings. */
  startDaemon(extra: string[] = []): Proc {
    this.daemon = this.ns.spawnOvactl(
      'rhi',
      'run',
      ...this.paths(),
      '--interval',
      '100',
      '--rise',
      '2',
      '--fall',
      '2',
      '--hold-down',
      '2',
      ...extra,
    );
    return this.daemon;
  }

  paths(): string[] {
    return [
      '--config',
      this.rules,
      '--haproxy-socket',
      this.socket,
      '--haproxy-config',
      this.haproxyCfg,
      '--ranges',
      this.ranges,
      '--bird-config',
      join(this.dir, 'bird.conf'),
      '--bird-socket',
      this.bird.socket,
      '--routes-dir',
      this.routesDir,
      '--state',
      this.state,
    ];
  }

  ovactl(...args: string[]) {
    return this.ns.ovactl('rhi', ...args);
  }

  /** `ovactl rhi status --json`, parsed. */
  status(): { code: number | null; json: Record<string, any> } {
    const r = this.ovactl('status', '--json', '--state', this.state);
    return { code: r.code, json: JSON.parse(r.out || '{}') };
  }

  /** The routes BIRD holds in protocol rhi. */
  async birdRoutes(): Promise<string[]> {
    const r = await birdCommand(this.bird.socket, 'show route protocol rhi');
    return r.lines.map((l) => /^\s*(\S+\/\d+)/.exec(l.text)?.[1]).filter((x): x is string => !!x);
  }
}

export interface Rig {
  readonly router: Netns;
  readonly routerBird: { proc: Proc; socket: string };
  readonly appliances: Appliance[];
  /** The router's next hops for `dst` in its kernel table (sorted; [] when it has no route). */
  nexthops(dst?: string): string[];
  /** Polls until the router's next hops for the VIP are `want`; the time it took. */
  waitNexthops(want: readonly string[], ms?: number, dst?: string): Promise<{ ok: boolean; ms: number; got: string[] }>;
}

/** Builds the rig: `n` appliances, each peering with the router; the router merges paths (ECMP). */
export async function buildRig(t: Teardown, dir: string, n: number, opts: { bfd?: boolean } = {}): Promise<Rig> {
  const router = Netns.create(t, 'rhi-r');
  const routerAddr = (i: number) => `198.51.100.${4 * i + 1}`;
  const applAddr = (i: number) => `198.51.100.${4 * i + 2}`;
  const appliances: Appliance[] = [];
  for (let i = 0; i < n; i++) {
    const ns = Netns.create(t, `rhi-a${i + 1}`);
    const r = spawnSync(
      'ip',
      ['link', 'add', `r${i}`, 'netns', router.name, 'type', 'veth', 'peer', 'name', 'e0', 'netns', ns.name],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`veth: ${r.stderr}`);
    router.ip('addr', 'add', `${routerAddr(i)}/30`, 'dev', `r${i}`);
    router.ip('link', 'set', `r${i}`, 'up');
    ns.ip('addr', 'add', `${applAddr(i)}/30`, 'dev', 'e0');
    ns.ip('link', 'set', 'e0', 'up');
    // The VIPs answer locally (AnyIP), as on the appliance.
    ns.ip('route', 'add', 'local', '203.0.113.0/28', 'dev', 'lo');
    const adir = join(dir, `a${i + 1}`);
    mkdirSync(join(adir, 'routes'), { recursive: true });
    const a = new Appliance(ns, adir, applAddr(i), 65001 + i);
    writeFileSync(a.ranges, '203.0.113.0/28\n');
    // The appliance's bird.conf is the product's template, with the rig's paths.
    writeFileSync(join(a.routesDir, 'rhi.conf'), routesText([]));
    a.bird = await startBird(
      ns,
      adir,
      birdConf({
        routerId: a.address,
        localAs: a.as,
        peers: [{ address: routerAddr(i), family: 4, as: ROUTER_AS }],
        bfd: opts.bfd ?? false,
        protocols: new Map([['rhi', 4]]),
        routesDir: a.routesDir,
        log: 'stderr',
      }),
    );
    appliances.push(a);
  }
  const rdir = join(dir, 'router');
  mkdirSync(rdir, { recursive: true });
  // The router (not the product): learns the VIPs over BGP and installs them with every next hop.
  const routerConf = [
    'log stderr all;',
    'router id 198.51.100.1;',
    'protocol device { scan time 10; }',
    'protocol kernel { ipv4 { import none; export all; }; merge paths on; }',
    ...(opts.bfd
      ? ['protocol bfd { interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }']
      : []),
    `template bgp appliance { local as ${ROUTER_AS}; hold time 9; connect delay time 1; connect retry time 2; error wait time 1, 5; ${opts.bfd ? 'bfd on; ' : ''}ipv4 { import all; export none; }; }`,
    ...appliances.map((a, i) => `protocol bgp a${i + 1} from appliance { neighbor ${applAddr(i)} as ${a.as}; }`),
    '',
  ].join('\n');
  const routerBird = await startBird(router, rdir, routerConf, 'router');
  const nexthops = (dst = VIP): string[] => {
    const r = spawnSync('ip', ['-n', router.name, '-j', 'route', 'show', dst], { encoding: 'utf8' });
    const routes = JSON.parse(r.stdout || '[]') as {
      dst: string;
      gateway?: string;
      nexthops?: { gateway: string }[];
    }[];
    const route = routes.find((x) => x.dst === dst);
    if (!route) return [];
    return (route.nexthops ? route.nexthops.map((h) => h.gateway) : route.gateway ? [route.gateway] : []).sort();
  };
  return {
    router,
    routerBird,
    appliances,
    nexthops,
    async waitNexthops(want, ms = 10_000, dst = VIP) {
      const target = JSON.stringify([...want].sort());
      const t0 = Date.now();
      for (;;) {
        const got = nexthops(dst);
        if (JSON.stringify(got) === target) return { ok: true, ms: Date.now() - t0, got };
        if (Date.now() - t0 > ms) return { ok: false, ms: Date.now() - t0, got };
        await sleep(10);
      }
    },
  };
}

/** Waits until every BGP session of the router is Established. */
export async function waitEstablished(rig: Rig, ms = 20_000): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const r = await birdCommand(rig.routerBird.socket, 'show protocols').catch(() => undefined);
    const bgp = r?.lines.filter((l) => /\bBGP\b/.test(l.text)) ?? [];
    if (bgp.length === rig.appliances.length && bgp.every((l) => /Established/.test(l.text))) return true;
    await sleep(50);
  }
  return false;
}
