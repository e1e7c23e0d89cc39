// `ovactl watch` against the appliance's haproxy (master-worker, its master CLI) and the kernel's routes, in a
// network namespace of its own, over a --root tree: no appliance boot, so the live rules are tested
// with real parts in seconds (test/live.test.ts does the same through the Data Plane API in nspawn).
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Netns } from './helpers/netns.js';
import { caEndingIn } from './helpers/openssl-certs.js';
import { firstUnmet, isRoot, skipUnless } from './helpers/root.js';
import { applianceArgv, appliancePrograms } from './helpers/appliance-programs.js';
import {
  HAPROXY_CFG,
  HAPROXY_MASTER_SOCKET,
  METRICS_CFG,
  METRICS_DIR,
  RANGES_FILE,
  STATUS_FILE,
  TLS_PATHS,
} from '../src/appliance/paths.js';

const skip = skipUnless(firstUnmet([[isRoot, 'needs root (network namespaces)']]) ?? (await appliancePrograms()));

const OWN = '192.0.2.10';
const INSIDE = '198.51.100.71';
const OUTSIDE = '198.51.100.140';

const frontend = (name: string, bind: string) => `frontend ${name}\n  bind ${bind}\n  default_backend b\n`;
const config = (...frontends: string[]) =>
  [
    '# _version=3',
    'global',
    '  master-worker',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 5s',
    '  timeout server 5s',
    ...frontends,
    'backend b',
    '  server s1 127.0.0.1:9',
    '',
  ].join('\n');

interface StatusDoc {
  state: string;
  findings: { rule: string; message: string; hint?: string }[];
}

t.test('the watcher follows haproxy, its configuration and the ranges', { skip }, async (t) => {
  const ns = Netns.create(t, 'lw');
  ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer');
  ns.ip('addr', 'add', `${OWN}/24`, 'dev', 'eth0');
  ns.ip('link', 'set', 'eth0', 'up');
  ns.ip('link', 'set', 'eth0-peer', 'up');
  ns.ip('route', 'add', 'local', '198.51.100.64/26', 'dev', 'lo', 'table', 'local', 'proto', '252');
  t.equal(ns.exec(['sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1']).status, 0, 'nonlocal bind, as the appliance');

  const root = mkdtempSync(join(tmpdir(), 'ovactl-live-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const at = (p: string) => join(root, p);
  for (const p of [HAPROXY_CFG, RANGES_FILE, STATUS_FILE, HAPROXY_MASTER_SOCKET])
    mkdirSync(join(at(p), '..'), { recursive: true });
  writeFileSync(at(TLS_PATHS.serverCert), caEndingIn(30).cert);
  writeFileSync(at(RANGES_FILE), '198.51.100.64/26\n');
  // Metrics on (what first boot leaves): the watcher writes its status.prom beside the others.
  writeFileSync(at(METRICS_CFG), 'frontend ovactl_metrics\n');
  mkdirSync(at(METRICS_DIR), { recursive: true });
  const metric = () => readFileSync(at(`${METRICS_DIR}/status.prom`), 'utf8');
  const ready = { state: 'ready', version: '0.1.0', deployment: 'default', errors: [], warnings: [], findings: [] };
  writeFileSync(at(STATUS_FILE), `${JSON.stringify(ready)}\n`);
  const save = (text: string) => {
    writeFileSync(`${at(HAPROXY_CFG)}.new`, text);
    renameSync(`${at(HAPROXY_CFG)}.new`, at(HAPROXY_CFG)); // as the Data Plane API saves it
  };
  save(config(frontend('inside', `${INSIDE}:6443`)));

  // The appliance's haproxy (the rig rootfs's: the image's version), in this namespace.
  const haproxy = ns.spawn(applianceArgv('haproxy', ['-W', '-S', at(HAPROXY_MASTER_SOCKET), '-f', at(HAPROXY_CFG)]));
  t.ok(await haproxy.waitFor(/New worker/, 10_000), 'haproxy runs, master and worker');
  const reload = () => process.kill(haproxy.pid, 'SIGUSR2');

  const status = (): StatusDoc => JSON.parse(readFileSync(at(STATUS_FILE), 'utf8'));
  const until = async (what: string, ok: (s: StatusDoc) => boolean, ms = 20_000): Promise<StatusDoc> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = status();
      if (ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}\n${watch.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const once = ns.ovactl('watch', '--once', '--root', root);
  t.equal(once.code, 0, `--once on a healthy tree: ready (exit 0)\n${once.out}${once.err}`);
  t.match(once.out, /state ready/);

  const watch = ns.spawnOvactl('watch', '--root', root);
  t.teardown(() => watch.stop());
  t.ok(await watch.waitFor(/watching/, 10_000), 'the watcher runs');
  t.match(metric(), /^ovactl_state\{state="ready"\} 1$/m, 'the metric is written at start, though nothing changed');

  // The control plane binds a VIP outside every range; the reload works (nonlocal bind).
  const t0 = Date.now();
  save(config(frontend('inside', `${INSIDE}:6443`), frontend('outside', `${OUTSIDE}:6443`)));
  reload();
  const degraded = await until('degraded', (s) => s.state === 'degraded');
  t.comment(`degraded ${Date.now() - t0} ms after the write`);
  t.same(
    degraded.findings.map((f) => f.rule),
    ['vip.outside-ranges'],
  );
  t.match(degraded.findings[0]!.message, `VIP ${OUTSIDE} (frontend outside) is outside every range`);
  t.ok(await watch.waitFor(/ready → degraded; found vip\.outside-ranges/, 5000), 'the journal gets the change');
  t.match(metric(), /^ovactl_state\{state="degraded"\} 1$/m, 'the metric says degraded');
  t.match(metric(), /^ovactl_live_findings\{rule="vip.outside-ranges"\} 1$/m, 'with the finding by rule');

  // The range added: the finding clears itself.
  appendFileSync(at(RANGES_FILE), '198.51.100.128/26\n');
  ns.ip('route', 'add', 'local', '198.51.100.128/26', 'dev', 'lo', 'table', 'local', 'proto', '252');
  await until('ready again', (s) => s.state === 'ready' && s.findings.length === 0);
  t.pass('ready once a range covers the VIP');

  // A reload that cannot work: a bind on a port another process holds.
  const holder = ns.spawn([
    process.execPath,
    '-e',
    `require('net').createServer().listen(5556,'${OWN}',()=>console.log('held'))`,
  ]);
  t.teardown(() => holder.stop());
  t.ok(await holder.waitFor(/held/, 10_000), `${OWN}:5556 is held by another process`);
  save(config(frontend('inside', `${INSIDE}:6443`), frontend('collides', `${OWN}:5556`)));
  reload();
  const failed = await until('the failed reload', (s) => s.findings.some((f) => f.rule === 'haproxy.reload-failed'));
  t.equal(failed.state, 'degraded', 'degraded: the configuration before still serves');
  t.match(failed.findings.find((f) => f.rule === 'haproxy.reload-failed')!.message, /version 3 is not live/);
  save(config(frontend('inside', `${INSIDE}:6443`)));
  reload();
  await until('ready once a reload works', (s) => s.state === 'ready');
  t.pass('the failed reload cleared itself');

  // haproxy gone: nothing serves.
  await haproxy.stop();
  const down = await until('error', (s) => s.state === 'error');
  t.same(
    down.findings.map((f) => f.rule),
    ['haproxy.not-running'],
  );

  // A status first boot writes meanwhile (starting) is first boot's: the watcher leaves it.
  writeFileSync(at(STATUS_FILE), `${JSON.stringify({ ...ready, state: 'starting' })}\n`);
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(status().state, 'starting', 'starting is left to ovactl-ready');
  t.equal(await watch.stop(), 0, 'SIGTERM ends the watcher cleanly');
});
