// The live state's figures (issue 22), in a network namespace of our own with a real haproxy
// (master-worker, its master CLI) and `ovactl watch --root` over a scratch tree; prints figures,
// asserts nothing.
//  (a) the control plane's write → the status changing: haproxy.cfg saved as the Data Plane API saves
//      it (a rename) with a VIP outside every range, then without it: ready → degraded → ready;
//  (b) the watcher's resident memory: VmRSS, and RssAnon (its own; the rest is the node binary and
//      libraries, mapped from disk and shared with every other Node process of the appliance);
//  (c) its CPU at idle (one stat of five paths a second, a full look every 30 s).
// Goals: ≤ 2 s for (a); ≤ 40 MB for (b). Needs root and haproxy, and a build (npm run build).
// Env: BENCH_EDITS (default 10), BENCH_IDLE_SECONDS (default 60), BENCH_NODE (the node to run the
// watcher with; default this one).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAtExit } from './cleanup.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const ovactl = join(repo, 'dist/ovactl.js');
const edits = Number(process.env.BENCH_EDITS ?? 10);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const node = process.env.BENCH_NODE ?? process.execPath;
const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.NODE_EXTRA_CA_CERTS;

const sleep = (n) => new Promise((r) => setTimeout(r, n));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.getuid?.() !== 0 || spawnSync('haproxy', ['-v']).status !== 0) {
  console.log('bench/live.mjs: needs root and haproxy; skipped');
} else {
  const ns = `ovactl-bench-live-${process.pid}`;
  const scratch = mkdtempSync(join(tmpdir(), 'ovactl-bench-live-'));
  const { children, done } = cleanupAtExit({ namespaces: [ns], scratch });
  const ip = (...a) => spawnSync('ip', ['-n', ns, ...a], { stdio: 'inherit' });
  const inNs = (cmd) => ['nsenter', `--net=/run/netns/${ns}`, ...cmd];
  spawnSync('ip', ['netns', 'add', ns]);
  ip('link', 'set', 'lo', 'up');
  ip('route', 'add', 'local', '198.51.100.64/26', 'dev', 'lo', 'table', 'local', 'proto', '252');
  spawnSync('nsenter', [`--net=/run/netns/${ns}`, 'sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1']);

  const at = (p) => join(scratch, p);
  for (const d of ['etc/haproxy', 'etc/vmware', 'var/lib/ovactl', 'run']) mkdirSync(at(d), { recursive: true });
  const cert = spawnSync(
    'sh',
    [
      '-c',
      'OPENSSL_CONF=/dev/null openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ' +
        '-subj /CN=bench -days 30 -keyout /dev/null 2>/dev/null',
    ],
    { encoding: 'utf8' },
  ).stdout;
  writeFileSync(at('etc/haproxy/server.crt'), cert);
  writeFileSync(at('etc/vmware/anyip-routes.cfg'), '198.51.100.64/26\n');
  const ready = { state: 'ready', version: '0.1.0', deployment: 'default', errors: [], warnings: [], findings: [] };
  writeFileSync(at('var/lib/ovactl/status.json'), `${JSON.stringify(ready)}\n`);
  const cfg = (outside) =>
    [
      'global',
      '  master-worker',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 5s',
      '  timeout server 5s',
      'frontend inside',
      '  bind 198.51.100.71:6443',
      '  default_backend b',
      ...(outside ? ['frontend outside', '  bind 198.51.100.140:6443', '  default_backend b'] : []),
      'backend b',
      '  server s1 127.0.0.1:9',
      '',
    ].join('\n');
  const save = (outside) => {
    writeFileSync(at('etc/haproxy/haproxy.cfg.new'), cfg(outside));
    renameSync(at('etc/haproxy/haproxy.cfg.new'), at('etc/haproxy/haproxy.cfg'));
    if (running.haproxy) process.kill(running.haproxy.pid, 'SIGUSR2'); // the API reloads after its save
  };
  const running = {};
  save(false);
  const start = (cmd) => {
    const c = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.add(c);
    return c;
  };
  running.haproxy = start(
    inNs(['haproxy', '-W', '-S', at('run/haproxy-master.sock'), '-f', at('etc/haproxy/haproxy.cfg')]),
  );
  await sleep(1000);
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const watcher = start(inNs([node, ...flags, ovactl, 'watch', '--root', scratch]));
  await sleep(3000);
  const state = () => {
    try {
      return JSON.parse(readFileSync(at('var/lib/ovactl/status.json'), 'utf8')).state;
    } catch {
      return undefined;
    }
  };

  // (a) write → status
  const took = [];
  for (let i = 0; i < edits; i++) {
    const outside = i % 2 === 0;
    const want = outside ? 'degraded' : 'ready';
    const t0 = process.hrtime.bigint();
    save(outside);
    while (state() !== want) {
      if (Number(process.hrtime.bigint() - t0) / 1e6 > 35_000) break;
      await sleep(5);
    }
    took.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await sleep(300 + Math.random() * 700); // a write lands anywhere in the watcher's second
  }
  console.log(
    `live (a) write → status (${edits} changes, ready ↔ degraded): median ${(median(took) / 1000).toFixed(2)} s, ` +
      `max ${(Math.max(...took) / 1000).toFixed(2)} s (goal ≤ 2 s)`,
  );

  // (b), (c) at idle
  const pid = spawnSync('pgrep', ['-P', String(watcher.pid)], { encoding: 'utf8' }).stdout.trim() || watcher.pid;
  const watcherPid = Number(String(pid).split('\n')[0]);
  const cpu = () => {
    const f = readFileSync(`/proc/${watcherPid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const c0 = cpu();
  await sleep(idleSeconds * 1000);
  const c1 = cpu();
  const mib = (p, k) => {
    const st = readFileSync(`/proc/${p}/status`, 'utf8');
    return (Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? 0) / 1024).toFixed(1);
  };
  // The same node doing nothing: what any resident Node process of the appliance costs.
  const bare = start([node, '-e', 'setInterval(() => {}, 1000)']);
  await sleep(2000);
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(
    `live (b) watcher memory (node ${version}): VmRSS ${mib(watcherPid, 'VmRSS')} MiB, its own (RssAnon) ` +
      `${mib(watcherPid, 'RssAnon')} MiB; a bare node: VmRSS ${mib(bare.pid, 'VmRSS')} MiB, RssAnon ` +
      `${mib(bare.pid, 'RssAnon')} MiB (goal ≤ 40 MB)`,
  );
  console.log(
    `live (c) watcher CPU at idle: ${(((c1 - c0) / idleSeconds) * 100).toFixed(2)} % of one core over ${idleSeconds} s`,
  );
  done();
}
