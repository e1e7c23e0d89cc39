// Health: the rise/fall/hold-down state machine driven by a fake clock; rule conditions; `show stat`
// parsing — then the two socket clients against a real haproxy and a real BIRD (a namespace of
// their own, sockets in a scratch folder).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluate,
  holdDownUntil,
  initialState,
  inputState,
  parseShowStat,
  step,
  whyDown,
  type RuleState,
  type Tuning,
} from '../src/rhi/health.js';
import { birdCommand, birdConfigure, birdRoutes, haproxyCommand } from '../src/rhi/sockets.js';
import { applianceArgv, appliancePrograms, inAppliance } from './helpers/appliance-programs.js';
import { birdConf, routesText, staticProtocols } from '../src/rhi/bird.js';
import { Netns, sleep } from './helpers/netns.js';
import { firstUnmet, isRoot, skipUnless } from './helpers/root.js';

const T: Tuning = { rise: 2, fall: 2, holdDownMs: 5000 };

/** Feeds polls (1 = healthy, 0 = not) every `every` ms; returns the events with their times. */
function run(polls: string, tuning = T, every = 250, from: RuleState = initialState(0)) {
  let s = from;
  const events: string[] = [];
  [...polls].forEach((p, i) => {
    const now = (i + 1) * every;
    const r = step(s, p === '1', now, tuning);
    s = r.state;
    if (r.event) events.push(`${r.event}@${now}`);
  });
  return { s, events };
}

t.test('rise: announced after `rise` healthy polls in a row', async (t) => {
  t.same(run('11').events, ['announce@500']);
  t.same(run('1011').events, ['announce@1000'], 'an unhealthy poll restarts the count');
  t.same(run('1', { ...T, rise: 1 }).events, ['announce@250']);
  t.same(run('0000').events, [], 'never healthy, never announced');
});

t.test('fall: withdrawn after `fall` unhealthy polls in a row; one bad poll is forgiven', async (t) => {
  t.same(run('11' + '0' + '1' + '0' + '1').events, ['announce@500'], 'single bad polls never withdraw with fall 2');
  t.same(run('11' + '00').events, ['announce@500', 'withdraw@1000']);
  t.same(run('11' + '000', { ...T, fall: 3 }).events, ['announce@500', 'withdraw@1250']);
});

t.test('hold-down: back only after holdDownMs without an unhealthy poll (then rise)', async (t) => {
  // announce at 500, withdraw at 1000 (last bad poll at 1000): healthy from 1250 on.
  const r = run('1100' + '1'.repeat(30));
  t.same(
    r.events,
    ['announce@500', 'withdraw@1000', 'announce@6000'],
    'the first poll at least 5 s after the last bad one',
  );
  // Flapping: every other poll bad. Withdrawn once, then held down as long as it flaps.
  const flap = run('11' + '00' + '10'.repeat(100));
  t.same(flap.events, ['announce@500', 'withdraw@1000'], 'a flapping backend does not flap the route');
  t.same(
    run('11' + '00' + '10'.repeat(40) + '1'.repeat(30)).events,
    ['announce@500', 'withdraw@1000', `announce@${(4 + 80) * 250 + 5000}`],
    'back 5 s after the flapping ends',
  );
  t.same(
    run('1100111', { ...T, holdDownMs: 0 }).events,
    ['announce@500', 'withdraw@1000', 'announce@1500'],
    'hold-down 0: rise alone',
  );
  t.same(
    run('0101' + '11').events,
    ['announce@1250'],
    'a route never announced is not held down (its first announcement)',
  );
});

t.test('holdDownUntil, for status', async (t) => {
  const r = run('1100');
  t.equal(holdDownUntil(r.s, 1000, T), 6000);
  t.equal(holdDownUntil(r.s, 6000, T), undefined, 'over');
  t.equal(holdDownUntil(run('11').s, 500, T), undefined, 'announced: none');
});

t.test('inputs and conditions', async (t) => {
  const states = new Map([
    ['f:web', 'OPEN'],
    ['f:paused', 'PAUSED'],
    ['f:stopped', 'STOP'],
    ['b:app', 'UP'],
    ['b:down', 'DOWN'],
    ['b:maint', 'MAINT'],
    ['b:nolb', 'UP 1/2'],
  ]);
  const i = (kind: 'b' | 'f', name: string) => inputState({ kind, name }, states);
  t.same(i('f', 'web'), { ref: 'f:web', status: 'OPEN', up: true });
  t.same(
    [
      i('f', 'paused').up,
      i('f', 'stopped').up,
      i('b', 'app').up,
      i('b', 'down').up,
      i('b', 'maint').up,
      i('b', 'nolb').up,
    ],
    [false, false, true, false, false, true],
  );
  t.same(i('b', 'gone'), { ref: 'b:gone', status: 'missing', up: false }, 'missing after a reload: down');
  t.same(inputState({ kind: 'b', name: 'app' }, undefined), { ref: 'b:app', status: 'unreachable', up: false });
  t.equal(i('f', 'web').ref, 'f:web');
  const up = i('b', 'app'),
    down = i('b', 'down'),
    gone = i('b', 'gone');
  t.same([evaluate('all', [up, up]), evaluate('all', [up, down]), evaluate('all', [])], [true, false, false]);
  t.same([evaluate('any', [down, up]), evaluate('any', [down, gone]), evaluate('never', [up])], [true, false, false]);
  t.equal(whyDown('all', [up, down, gone]), "b:down DOWN, b:gone is not in haproxy's running configuration");
  t.equal(whyDown('any', [down]), 'none up: b:down DOWN');
  t.equal(whyDown('never', []), 'the rule says never');
});

t.test('show stat CSV: columns by header name, frontends and backends only', async (t) => {
  const csv =
    '# pxname,svname,qcur,status,type,extra\nweb,FRONTEND,,OPEN,0,\napp,s1,,UP,2,\napp,BACKEND,0,DOWN,1,\nstats,FRONTEND,,PAUSED,0,\n\n';
  t.same(
    [...parseShowStat(csv)],
    [
      ['f:web', 'OPEN'],
      ['b:app', 'DOWN'],
      ['f:stats', 'PAUSED'],
    ],
  );
  t.throws(() => parseShowStat('Unknown command\n'), /unexpected reply from the runtime API/);
});

t.test('bird.conf: rendered, parsed by bird -p, and read back', async (t) => {
  const conf = birdConf({
    routerId: '192.0.2.10',
    localAs: 65010,
    peers: [
      { address: '192.0.2.1', family: 4, as: 65001 },
      { address: '2001:db8::1', family: 6, as: 65001 },
    ],
    bfd: true,
    ospf: { area: '0.0.0.0', interface: 'workload' },
    protocols: new Map([
      ['rhi', 4],
      ['rhi6', 6],
      ['vol2', 4],
    ]),
    routesDir: '/run/x',
  });
  t.same(staticProtocols(conf, '/run/x'), [
    { name: 'rhi', family: 4, file: '/run/x/rhi.conf' },
    { name: 'rhi6', family: 6, file: '/run/x/rhi6.conf' },
    { name: 'vol2', family: 4, file: '/run/x/vol2.conf' },
  ]);
  t.same(staticProtocols(conf, '/elsewhere'), [], 'only route files in the routes folder are ours');
  t.match(conf, /export where proto = "rhi" \|\| proto = "vol2";/);
  t.match(conf, /ipv6 \{\n\s+import none;\n\s+export where proto = "rhi6";/);
  t.same(
    staticProtocols(
      '# protocol static x { ipv4; include "/run/x/x.conf"; }\nprotocol static y {\n  ipv4 { table master4; };\n  include "/run/x/y.conf";\n}\n',
      '/run/x',
    ),
    [{ name: 'y', family: 4, file: '/run/x/y.conf' }],
    'comments ignored, nested braces counted',
  );
  t.equal(
    routesText(['192.0.2.70/32']),
    '# Routes announced by route health injection (ovactl rhi run); rewritten as health changes.\nroute 192.0.2.70/32 blackhole;\n',
  );
  // The appliance's BIRD (Debian 13's, from the rig's rootfs), not this machine's.
  const noBird = await appliancePrograms();
  if (noBird) return void skipUnless(`${noBird}: bird -p not run`);
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-rhi-birdp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const p of ['rhi', 'rhi6', 'vol2'])
    writeFileSync(join(dir, `${p}.conf`), routesText(p === 'rhi6' ? ['2001:db8::70/128'] : ['192.0.2.70/32']));
  const full = join(dir, 'bird.conf');
  writeFileSync(full, conf.replaceAll('/run/x/', `${dir}/`));
  const r = inAppliance('bird', ['-p', '-c', full]);
  t.equal(
    r.status,
    0,
    "the appliance's bird -p accepts every option together (BGP v4+v6, BFD, OSPF, three protocols)",
    {
      stderr: r.stderr,
    },
  );
  const minimal = join(dir, 'minimal.conf');
  writeFileSync(minimal, birdConf({ peers: [], bfd: false, protocols: new Map([['rhi', 4]]), routesDir: dir }));
  t.equal(inAppliance('bird', ['-p', '-c', minimal]).status, 0, 'and the least of them');
});

// The appliance's haproxy 3.0 and BIRD 2.17 (from the rig's rootfs), whose sockets ovactl talks to.
const noTools = isRoot ? await appliancePrograms() : undefined;
t.test(
  "the socket clients against the appliance's real haproxy and BIRD",
  {
    skip: skipUnless(
      firstUnmet([
        [isRoot, 'needs root (a network namespace)'],
        [!noTools, `the appliance's haproxy and BIRD: ${noTools}`],
      ]),
    ),
  },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ovactl-rhi-sockets-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const ns = Netns.create(t, 'rhi-sock');
    ns.ip('addr', 'add', '192.0.2.70/32', 'dev', 'lo');
    const hsock = join(dir, 'admin.sock');
    const cfg = (backend: string) =>
      `global\n  stats socket ${hsock} mode 600 level admin\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend web\n  bind 192.0.2.70:80\n  default_backend ${backend}\nbackend ${backend}\n  server s1 127.0.0.1:8080\n`;
    writeFileSync(join(dir, 'h1.cfg'), cfg('app'));
    const h = ns.spawn(applianceArgv('haproxy', ['-f', join(dir, 'h1.cfg'), '-db']));
    const stat = async () => parseShowStat(await haproxyCommand(hsock, 'show stat -1 3 -1'));
    let first: Map<string, string> | undefined;
    for (let i = 0; i < 100 && !first; i++) {
      first = await stat().catch(() => undefined);
      if (!first) await sleep(30);
    }
    t.same(
      first && [...first],
      [
        ['f:web', 'OPEN'],
        ['b:app', 'UP'],
      ],
      'a real show stat: the frontend OPEN, the backend UP',
      { err: h.err },
    );
    await haproxyCommand(hsock, 'disable server app/s1');
    t.equal((await stat()).get('b:app'), 'DOWN', 'disable server → the backend is DOWN');
    await haproxyCommand(hsock, 'set server app/s1 state ready');
    t.equal((await stat()).get('b:app'), 'UP');
    await haproxyCommand(hsock, 'disable frontend web');
    t.equal((await stat()).get('f:web'), 'PAUSED', 'disable frontend → PAUSED (down)');
    // A reload into a configuration where the backend was renamed: b:app is missing.
    writeFileSync(join(dir, 'h2.cfg'), cfg('app2'));
    const h2 = ns.spawn(applianceArgv('haproxy', ['-f', join(dir, 'h2.cfg'), '-db', '-sf', String(h.pid)]));
    let after: Map<string, string> | undefined;
    for (let i = 0; i < 100; i++) {
      after = await stat().catch(() => undefined);
      if (after?.has('b:app2')) break;
      await sleep(30);
    }
    t.same(
      inputState({ kind: 'b', name: 'app' }, after),
      { ref: 'b:app', status: 'missing', up: false },
      'after the reload b:app is missing: down',
      { err: h2.err },
    );
    t.equal(after?.get('f:web'), 'OPEN', 'the runtime state (disabled frontend) is lost at a reload');
    await t.rejects(haproxyCommand(join(dir, 'nope.sock'), 'show stat'), /nope\.sock does not exist/);

    // BIRD: configure, a refused configuration, show route.
    const routes = join(dir, 'rhi.conf');
    writeFileSync(routes, routesText([]));
    const bconf = join(dir, 'bird.conf');
    writeFileSync(
      bconf,
      birdConf({
        routerId: '192.0.2.1',
        peers: [],
        bfd: false,
        protocols: new Map([['rhi', 4]]),
        routesDir: dir,
        log: 'stderr',
      }),
    );
    const bsock = join(dir, 'bird.ctl');
    const b = ns.spawn(applianceArgv('bird', ['-f', '-c', bconf, '-s', bsock, '-P', join(dir, 'bird.pid')]));
    let hello: Awaited<ReturnType<typeof birdCommand>> | undefined;
    for (let i = 0; i < 100 && !hello; i++) {
      hello = await birdCommand(bsock, 'show status').catch(() => undefined);
      if (!hello) await sleep(30);
    }
    t.equal(hello?.code, 13, 'show status answers 0013', { err: b.err });
    t.same(await birdRoutes(bsock, 'rhi'), []);
    writeFileSync(routes, routesText(['192.0.2.70/32', '192.0.2.71/32']));
    t.same(await birdConfigure(bsock), { ok: true });
    t.same(await birdRoutes(bsock, 'rhi'), ['192.0.2.70/32', '192.0.2.71/32'], 'configure re-reads the route file');
    writeFileSync(routes, 'route 192.0.2.70/33 blackhole;\n');
    const refused = await birdConfigure(bsock);
    t.match(
      refused,
      { ok: false, message: /rhi\.conf:1:\d+ Invalid prefix length 33/ },
      'a refused configuration says why',
    );
    t.same(await birdRoutes(bsock, 'rhi'), ['192.0.2.70/32', '192.0.2.71/32'], 'and BIRD keeps the previous routes');
    await t.rejects(birdRoutes(bsock, 'nope'), /syntax error|not found/i);
  },
);
