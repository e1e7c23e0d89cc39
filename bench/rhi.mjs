// Route health injection figures (issue 6), in network namespaces of our own: two appliances and a
// router, all on Debian's bird2; each appliance runs haproxy and `ovactl rhi run` with the bird.conf
// and rules `ovactl render` makes from RHI deploy values. Prints figures; asserts nothing.
//  (a) a backend goes DOWN in haproxy (`disable server`, the runtime API answers) → the appliance's
//      next hop leaves the router's kernel route (ip monitor on the router): median and max over
//      BENCH_RHI_TRIALS (20) trials, daemon defaults (poll 250 ms, fall 2);
//  (b) flapping: a server that fails every other health check (HTTP 200/503 in turn), checked every
//      100 ms, for BENCH_RHI_FLAP_S (10) s each: with haproxy's default rise 2 / fall 3, and with
//      rise 1 / fall 1 (haproxy itself flaps the backend) — how often the router's route changed;
//  (c) the daemons' resident memory.
// Goals: (a) ≤ 1.5 s; (b) no flap. Needs root, haproxy, bird2 and a build (npm run build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAtExit } from './cleanup.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ovactl = join(root, 'dist/ovactl.js');
const trials = Number(process.env.BENCH_RHI_TRIALS ?? 20);
const flapSeconds = Number(process.env.BENCH_RHI_FLAP_S ?? 10);
const HOLD_DOWN = 1; // seconds; shorter than the default 5 s so the trials are quick (it does not affect (a))
const VIP = '203.0.113.10';
const ROUTER_AS = 65000;

const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.NODE_EXTRA_CA_CERTS;
const sleep = (n) => new Promise((r) => setTimeout(r, n));
const f0 = (x) => x.toFixed(0);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const have = (cmd, arg) => spawnSync(cmd, [arg]).status === 0;

if (process.getuid?.() !== 0) console.log('rhi: skipped (needs root for network namespaces)');
else if (!existsSync(ovactl)) console.log('rhi: skipped (no dist/ovactl.js: npm run build)');
else if (!have('haproxy', '-v') || !have('bird', '--version'))
  console.log('rhi: skipped (haproxy or bird2 is not installed: apt-get install haproxy bird2)');
else await main();

function api(socket, command) {
  return new Promise((resolve, reject) => {
    const s = createConnection(socket);
    let out = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => (out += d));
    s.on('error', reject);
    s.on('close', () => resolve(out));
  });
}

async function main() {
  const tag = `ovactl-bench-rhi-${process.pid}`;
  const scratch = mkdtempSync(join(tmpdir(), 'ovactl-bench-rhi-'));
  const names = { router: `${tag}-r`, a1: `${tag}-a1`, a2: `${tag}-a2` };
  const { children, done } = cleanupAtExit({ namespaces: Object.values(names), scratch });

  const ip = (ns, ...args) => {
    const r = spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip -n ${ns} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** A process in a namespace; nsenter execs, so the PID is the program's. */
  const start = (ns, cmd, opts = {}) => {
    const c = spawn('nsenter', [`--net=/run/netns/${ns}`, ...cmd], { env, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    c.out = '';
    c.stdout.setEncoding('utf8').on('data', (s) => (c.out += s));
    c.stderr.setEncoding('utf8').on('data', (s) => (c.out += s));
    children.add(c);
    return c;
  };
  const stop = async (c) => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  };
  const waitFor = async (what, fn, ms = 20_000) => {
    for (const t0 = Date.now(); Date.now() - t0 < ms; ) {
      if (await fn()) return;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  try {
    for (const n of Object.values(names)) {
      spawnSync('ip', ['netns', 'add', n]);
      ip(n, 'link', 'set', 'lo', 'up');
    }
    const appl = [
      { ns: names.a1, addr: '198.51.100.2', router: '198.51.100.1', as: 65001, dev: 'r0' },
      { ns: names.a2, addr: '198.51.100.6', router: '198.51.100.5', as: 65002, dev: 'r1' },
    ];
    for (const a of appl) {
      const r = spawnSync(
        'ip',
        ['link', 'add', a.dev, 'netns', names.router, 'type', 'veth', 'peer', 'name', 'e0', 'netns', a.ns],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(r.stderr);
      ip(names.router, 'addr', 'add', `${a.router}/30`, 'dev', a.dev);
      ip(names.router, 'link', 'set', a.dev, 'up');
      ip(a.ns, 'addr', 'add', `${a.addr}/30`, 'dev', 'e0');
      ip(a.ns, 'link', 'set', 'e0', 'up');
      ip(a.ns, 'route', 'add', 'local', '203.0.113.0/28', 'dev', 'lo');
    }

    // Each appliance: bird.conf and the rules file as first boot renders them from deploy values.
    for (const a of appl) {
      a.dir = join(scratch, a.ns.slice(-2));
      mkdirSync(join(a.dir, 'routes'), { recursive: true });
      const values = {
        'appliance.root_pwd': 'bench-root-pw',
        'loadbalance.haproxy_pwd': 'bench-api-pw',
        'network.management_ip': `${a.addr}/30`,
        'loadbalance.service_ip_range': '203.0.113.0/28',
        'rhi.enabled': 'True',
        'rhi.local_as': String(a.as),
        'rhi.peers': `${a.router}:${ROUTER_AS}`,
        'rhi.rules': `${VIP} = all(f:vip, b:app)`,
      };
      writeFileSync(join(a.dir, 'values.json'), JSON.stringify(values));
      const r = spawnSync(
        process.execPath,
        [ovactl, 'render', '--env', join(a.dir, 'values.json'), '--root', join(a.dir, 'tree')],
        { env, encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`ovactl render: ${r.stdout}${r.stderr}`);
      const birdConf = readFileSync(join(a.dir, 'tree/etc/bird/bird.conf'), 'utf8')
        .replaceAll('/run/ovactl/rhi/', `${a.dir}/routes/`)
        .replace('log syslog all;', 'log stderr all;');
      writeFileSync(join(a.dir, 'bird.conf'), birdConf);
      writeFileSync(join(a.dir, 'rhi.rules'), readFileSync(join(a.dir, 'tree/etc/ovactl/rhi.rules'), 'utf8'));
      writeFileSync(join(a.dir, 'routes/rhi.conf'), '');
      a.socket = join(a.dir, 'admin.sock');
      a.bird = start(a.ns, [
        'bird',
        '-f',
        '-c',
        join(a.dir, 'bird.conf'),
        '-s',
        join(a.dir, 'bird.ctl'),
        '-P',
        join(a.dir, 'bird.pid'),
      ]);
    }
    const routerConf = join(scratch, 'router.conf');
    writeFileSync(
      routerConf,
      [
        'log stderr all;',
        'router id 198.51.100.1;',
        'protocol device { scan time 10; }',
        'protocol kernel { ipv4 { import none; export all; }; merge paths on; }',
        `template bgp appliance { local as ${ROUTER_AS}; hold time 9; connect delay time 1; connect retry time 2; ipv4 { import all; export none; }; }`,
        ...appl.map((a, i) => `protocol bgp a${i + 1} from appliance { neighbor ${a.addr} as ${a.as}; }`),
        '',
      ].join('\n'),
    );
    const routerBird = start(names.router, [
      'bird',
      '-f',
      '-c',
      routerConf,
      '-s',
      join(scratch, 'router.ctl'),
      '-P',
      join(scratch, 'router.pid'),
    ]);

    // The backend server: HTTP 200 and 503 in turn (the flap test's checks; the trials do not check).
    for (const a of appl) {
      a.server = start(a.ns, [
        process.execPath,
        '-e',
        "let n = 0; require('http').createServer((q, s) => { s.statusCode = n++ % 2 ? 503 : 200; s.end(); }).listen(8080, '127.0.0.1', () => console.log('listening'))",
      ]);
    }
    const haproxyCfg = (a, check) =>
      [
        'global',
        `  stats socket ${a.socket} mode 600 level admin`,
        'defaults',
        '  mode http',
        '  timeout connect 1s',
        '  timeout client 5s',
        '  timeout server 5s',
        'frontend vip',
        `  bind ${VIP}:80`,
        '  default_backend app',
        'backend app',
        ...(check
          ? ['  option httpchk GET /health', `  server s1 127.0.0.1:8080 check inter 100 ${check}`]
          : ['  server s1 127.0.0.1:8080']),
        '',
      ].join('\n');
    const startHaproxy = async (a, check) => {
      const file = join(a.dir, 'haproxy.cfg');
      writeFileSync(file, haproxyCfg(a, check));
      const old = a.haproxy;
      a.haproxy = start(a.ns, ['haproxy', '-f', file, '-db', ...(old ? ['-sf', String(old.pid)] : [])]);
      if (old) await new Promise((r) => (old.exitCode !== null ? r() : old.once('exit', r)));
      await waitFor(`haproxy in ${a.ns}`, async () =>
        /vip,FRONTEND/.test(await api(a.socket, 'show stat -1 1 -1').catch(() => '')),
      );
    };
    for (const a of appl) await startHaproxy(a, null);

    // The router's route to the VIP: next hops, read when ip monitor reports a change.
    const nexthops = () => {
      const routes = JSON.parse(
        spawnSync('ip', ['-n', names.router, '-j', 'route', 'show', VIP], { encoding: 'utf8' }).stdout || '[]',
      );
      const r = routes.find((x) => x.dst === VIP);
      return r ? (r.nexthops ? r.nexthops.map((h) => h.gateway) : [r.gateway]).sort() : [];
    };
    const changes = []; // { t: ms since start (monotonic), hops }
    const monitor = spawn('ip', ['-n', names.router, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(monitor);
    const now = () => Number(process.hrtime.bigint()) / 1e6;
    let lastHops = '';
    monitor.stdout.setEncoding('utf8').on('data', (s) => {
      if (!s.includes(VIP)) return;
      const t = now();
      const hops = nexthops();
      const key = hops.join(',');
      if (key !== lastHops) changes.push({ t, hops });
      lastHops = key;
    });
    const waitHops = async (want, ms = 20_000) => {
      const key = [...want].sort().join(',');
      for (const t0 = now(); now() - t0 < ms; ) {
        const c = changes[changes.length - 1];
        if ((c && c.hops.join(',') === key) || nexthops().join(',') === key) return;
        await sleep(5);
      }
      throw new Error(`the router's next hops did not become [${key}]; they are [${nexthops()}]`);
    };

    for (const a of appl) {
      a.daemon = start(a.ns, [
        process.execPath,
        ovactl,
        'rhi',
        'run',
        '--config',
        join(a.dir, 'rhi.rules'),
        '--haproxy-socket',
        a.socket,
        '--haproxy-config',
        join(a.dir, 'haproxy.cfg'),
        '--ranges',
        join(a.dir, 'tree/etc/vmware/anyip-routes.cfg'),
        '--bird-config',
        join(a.dir, 'bird.conf'),
        '--bird-socket',
        join(a.dir, 'bird.ctl'),
        '--routes-dir',
        join(a.dir, 'routes'),
        '--state',
        join(a.dir, 'rhi.json'),
        '--hold-down',
        String(HOLD_DOWN),
      ]);
    }
    const both = appl.map((a) => a.addr);
    try {
      await waitHops(both, 30_000);
    } catch (e) {
      throw new Error(`${e.message}\nrouter: ${routerBird.out}\na1: ${appl[0].daemon.out}\n${appl[0].bird.out}`);
    }
    const [a1, a2] = appl;
    console.log(
      `\nRoute health injection (ovactl rhi run on Node ${process.version}: poll 250 ms, rise 2, fall 2; hold-down ${HOLD_DOWN} s for the bench), BIRD ${spawnSync(
        'bird',
        ['--version'],
        { encoding: 'utf8' },
      )
        .stderr.trim()
        .replace(/^BIRD version /, '')}, ${spawnSync('haproxy', ['-v'], { encoding: 'utf8' })
        .stdout.split('\n')[0]
        .replace(/ - https.*/, '')}`,
    );

    // (a) DOWN → withdrawn at the router.
    const lat = [];
    for (let i = 0; i < trials; i++) {
      const before = changes.length;
      await api(a1.socket, 'disable server app/s1'); // the runtime API has answered: the backend is DOWN
      const t0 = now();
      await waitHops([a2.addr], 10_000);
      const c = changes.slice(before).find((x) => x.hops.join(',') === a2.addr);
      lat.push((c ? c.t : now()) - t0);
      await api(a1.socket, 'set server app/s1 state ready');
      await waitHops(both, 10_000);
      await sleep(50 + (i % 5) * 47); // spread the DOWN moments over the poll cycle
    }
    console.log(
      `  (a) backend DOWN in haproxy → next hop gone from the router's route, ${trials} trials: median ${f0(median(lat))} ms, max ${f0(Math.max(...lat))} ms, min ${f0(Math.min(...lat))} ms`,
    );
    console.log(
      "      (at most one 250 ms poll to notice, a second for fall 2, then BIRD configure + BGP UPDATE + the router's kernel route: a few ms)",
    );

    // (b) flapping server: every other check fails.
    const flap = async (check) => {
      const before = changes.length; // counted from the reload on
      await startHaproxy(a1, check);
      let transitions = 0,
        last = '';
      const t0 = now();
      while (now() - t0 < flapSeconds * 1000) {
        const st = /\napp,BACKEND,(?:[^,]*,){15}([^,]*),/.exec(await api(a1.socket, 'show stat -1 2 -1'))?.[1] ?? '?';
        if (last && st !== last) transitions++;
        last = st;
        await sleep(20);
      }
      const routeChanges = changes.slice(before).length;
      return { transitions, routeChanges, final: nexthops() };
    };
    const soft = await flap('rise 2 fall 3');
    console.log(`  (b) a server failing every other check (inter 100 ms), ${flapSeconds} s each:`);
    console.log(
      `      haproxy rise 2 fall 3: the backend changed state ${soft.transitions} times; the router's route changed ${soft.routeChanges} times (next hops at the end: ${soft.final.length})`,
    );
    const hard = await flap('rise 1 fall 1');
    console.log(
      `      haproxy rise 1 fall 1: the backend changed state ${hard.transitions} times; the router's route changed ${hard.routeChanges} times (next hops at the end: ${hard.final.length}: withdrawn once, held down while it flaps)`,
    );
    await startHaproxy(a1, null);
    await waitHops(both, 10_000);

    // (c) memory.
    const kb = (pid, key) =>
      Number(
        new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN,
      ) / 1024;
    const rss = appl.map((a) => kb(a.daemon.pid, 'VmRSS'));
    const hwm = appl.map((a) => kb(a.daemon.pid, 'VmHWM'));
    console.log(
      `  (c) daemon RSS after all of this: ${rss.map((x) => `${x.toFixed(1)} MB`).join(', ')} (peak ${hwm.map((x) => `${x.toFixed(1)} MB`).join(', ')})`,
    );

    const goal = (ok) => (ok ? 'ok' : 'MISSED');
    console.log('  summary                                              measured        goal');
    console.log(
      `    DOWN → route gone at the router, median         ${f0(median(lat)).padStart(8)} ms     ≤ 1500 ms  ${goal(median(lat) <= 1500)}`,
    );
    console.log(
      `    DOWN → route gone at the router, max            ${f0(Math.max(...lat)).padStart(8)} ms     ≤ 1500 ms  ${goal(Math.max(...lat) <= 1500)}`,
    );
    console.log(
      `    route changes, flapping server (rise 2 fall 3)  ${String(soft.routeChanges).padStart(8)}        0          ${goal(soft.routeChanges === 0)}`,
    );
    console.log(
      `    route changes, flapping backend (rise 1 fall 1) ${String(hard.routeChanges).padStart(8)}        ≤ 1        ${goal(hard.routeChanges <= 1)}`,
    );
    for (const a of appl) await stop(a.daemon);
  } finally {
    done();
  }
}
