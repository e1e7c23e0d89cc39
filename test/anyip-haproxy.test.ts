// AnyIP end to end with the appliance's haproxy (3.0, from the rig's Debian 13 rootfs): three namespaces joined by veths, client ↔ appliance ↔
// backend. `ovactl anyip watch` runs in the appliance on a scratch ranges file; the client pings every
// address of a range, and curls a VIP that haproxy binds in the range and proxies to the backend. A
// VIP outside every range cannot be bound until its range is added to the file — with the watcher
// still running, not restarted.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, sleep } from './helpers/netns.js';
import { firstUnmet, isRoot, skipUnless } from './helpers/root.js';
import { applianceArgv, appliancePrograms } from './helpers/appliance-programs.js';

const noHaproxy = isRoot ? await appliancePrograms() : undefined;
const skip = skipUnless(
  firstUnmet([
    [isRoot, 'needs root (network namespaces)'],
    [!noHaproxy, `the appliance's haproxy: ${noHaproxy}`],
  ]),
);

const CLIENT = '198.51.100.1',
  APPLIANCE = '198.51.100.2',
  APPLIANCE_BACK = '198.51.100.5',
  BACKEND = '198.51.100.6';
const RANGE = '192.0.2.64/29';
const RANGE_ADDRS = Array.from({ length: 8 }, (_, i) => `192.0.2.${64 + i}`);
const VIP = '192.0.2.70';
const LATE_RANGE = '203.0.113.8/29';
const LATE_VIP = '203.0.113.10';

const haproxyCfg = (vip: string) => `# test config: no chroot, no user, foreground
global
  maxconn 100
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend vip
  bind ${vip}:80
  default_backend app
backend app
  server backend1 ${BACKEND}:8080
`;

t.test('client → VIP in an AnyIP range → haproxy → backend', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-anyip-haproxy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Teardowns run in order: processes of each namespace are stopped before it is deleted.
  const client = Netns.create(t, 'ah-client');
  const appliance = Netns.create(t, 'ah-appl');
  const backend = Netns.create(t, 'ah-back');

  // Veths made directly inside the namespaces: nothing appears in the host's namespace.
  const veth = (a: Netns, an: string, b: Netns, bn: string) => {
    const r = spawnSync(
      'ip',
      ['link', 'add', an, 'netns', a.name, 'type', 'veth', 'peer', 'name', bn, 'netns', b.name],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`veth ${an}/${bn}: ${r.stderr}`);
  };
  veth(client, 'c0', appliance, 'a0');
  veth(appliance, 'a1', backend, 'b0');
  for (const [ns, dev, addr] of [
    [client, 'c0', CLIENT],
    [appliance, 'a0', APPLIANCE],
    [appliance, 'a1', APPLIANCE_BACK],
    [backend, 'b0', BACKEND],
  ] as const) {
    ns.ip('addr', 'add', `${addr}/30`, 'dev', dev);
    ns.ip('link', 'set', dev, 'up');
  }
  client.ip('route', 'add', '192.0.2.0/24', 'via', APPLIANCE);
  client.ip('route', 'add', '203.0.113.0/24', 'via', APPLIANCE);

  const cfg = join(dir, 'anyip-routes.cfg');
  writeFileSync(cfg, `# VIP ranges\n${RANGE}\n`);
  const watcher = appliance.spawnOvactl('anyip', 'watch', '--config', cfg);
  t.ok(await watcher.waitFor(/anyip watch: following /), 'the watcher is up', { out: watcher.out, err: watcher.err });
  t.same((await appliance.converge([RANGE])).routes, [RANGE], "the range is in the appliance's local table");

  const ping = (addr: string, wait = '1') => client.exec(['ping', '-c1', '-W', wait, '-q', addr]).status === 0;
  const silent = RANGE_ADDRS.filter((a) => !ping(a));
  t.same(silent, [], `all ${RANGE_ADDRS.length} addresses of ${RANGE} answer ping from the client`);
  t.notOk(ping('192.0.2.72', '0.3'), 'the address after the range does not answer');

  // The backend: a tiny HTTP server.
  const server = backend.spawn([
    '/usr/bin/env',
    '-u',
    'NODE_OPTIONS',
    '-u',
    'NODE_EXTRA_CA_CERTS',
    process.execPath,
    '-e',
    `require('http').createServer((q, s) => s.end('hello from the backend, ' + q.url + ' from ' + q.socket.remoteAddress + '\\n')).listen(8080, '${BACKEND}', () => console.log('listening'))`,
  ]);
  t.ok(await server.waitFor(/listening/), 'backend listening', { err: server.err });

  const curl = (vip: string) =>
    client.exec(['curl', '-sS', '--noproxy', '*', '--max-time', '2', `http://${vip}/probe`]);
  /** haproxy -db in the foreground; started when the client's curl gets the backend's answer. */
  const serve = async (file: string, vip: string) => {
    const h = appliance.spawn(applianceArgv('haproxy', ['-f', file, '-db']));
    const deadline = Date.now() + 5000;
    let r = curl(vip);
    while (r.status !== 0 && h.alive() && Date.now() < deadline) {
      await sleep(20);
      r = curl(vip);
    }
    return { h, r };
  };

  const inRange = join(dir, 'haproxy-in-range.cfg');
  writeFileSync(inRange, haproxyCfg(VIP));
  const a = await serve(inRange, VIP);
  t.ok(a.h.alive(), 'haproxy binds a VIP inside the range', { stderr: a.h.err });
  t.equal(a.r.status, 0, `curl http://${VIP}/ from the client`, { stderr: a.r.stderr });
  t.equal(a.r.stdout, `hello from the backend, /probe from ${APPLIANCE_BACK}\n`, 'the backend answers through haproxy');

  // A VIP outside every range: the kernel refuses the bind and haproxy does not start.
  const outside = join(dir, 'haproxy-outside.cfg');
  writeFileSync(outside, haproxyCfg(LATE_VIP));
  const refused = appliance.exec(applianceArgv('haproxy', ['-f', outside, '-db']), { timeoutMs: 10_000 });
  t.not(refused.status, 0, 'haproxy exits non-zero');
  t.match(refused.stderr, /cannot bind socket/, 'with "cannot bind socket"', { stderr: refused.stderr });
  t.notOk(ping(LATE_VIP, '0.3'), `${LATE_VIP} does not answer ping yet`);

  // Add the range to the file; the same watcher (same PID) picks it up.
  const pid = watcher.pid;
  appendFileSync(cfg, `${LATE_RANGE}\n`);
  const conv = await appliance.converge([RANGE, LATE_RANGE]);
  t.ok(conv.ok, `the watcher added ${LATE_RANGE} (${conv.ms} ms)`, {
    routes: conv.routes,
    out: watcher.out,
    err: watcher.err,
  });
  t.ok(watcher.alive() && watcher.pid === pid, 'the watcher was not restarted');
  t.ok(ping(LATE_VIP), `${LATE_VIP} answers ping now`);
  const b = await serve(outside, LATE_VIP);
  t.ok(b.h.alive(), 'the same haproxy config starts now', { stderr: b.h.err });
  t.equal(
    b.r.stdout,
    `hello from the backend, /probe from ${APPLIANCE_BACK}\n`,
    `curl http://${LATE_VIP}/ gets the backend's answer`,
    { stderr: b.r.stderr },
  );
  t.equal(curl(VIP).status, 0, 'the first VIP still serves');

  // Stop everything by PID (the teardown would too): haproxy, the server, then the watcher.
  for (const p of [a.h, b.h, server]) await p.stop();
  t.equal(await watcher.stop(), 0, 'the watcher exits 0 on SIGTERM');
  t.notMatch(watcher.err, /refused|pass failed/, 'the watcher reported no errors', { stderr: watcher.err });
});
