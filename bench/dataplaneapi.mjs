// The Data Plane API as the Supervisor meets it (issue 13), in the nspawn rig (test/helpers/rig/) with real
// haproxy and systemd and the API's stand-in (test/standin/dataplaneapi.cjs, test code: the real
// binary cannot be downloaded here, so the figures time the appliance around the API, not the API):
//  (a) boot to API: from the start of ovactl-firstboot.service (and of systemd-nspawn) to the first
//      GET /v2/info answered over HTTPS on the management address, trusting only the CA published
//      in guestinfo.dataplaneapi.cacert, with the Basic credentials; and when that CA appeared;
//  (b) a burst of BENCH_DPAPI_CHANGES (100) changes as the Supervisor makes them, one after another
//      as fast as answered (a backend, then servers into it, each POST with ?version=N): changes/s
//      accepted; then, once reload_delay (30 s) has passed after the last one, the haproxy reloads
//      performed (the master's reload count in `show proc`; times from systemd's journal), whether
//      no two came closer than reload_delay, the old workers left and haproxy's total RSS.
// Needs root (namespaces, nspawn); prints figures, asserts nothing. With the argument `client` this
// file is the HTTPS client the bench runs in the rig's host-side namespace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const CHANGES = Number(process.env.BENCH_DPAPI_CHANGES ?? 100);
const RELOAD_DELAY_S = 30; // templates/haproxy/dataplaneapi.yaml.hbs
const CACERT_KEY = 'guestinfo.dataplaneapi.cacert';
const nowUs = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as systemd's timestamps
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const s1 = (us) => `${(us / 1e6).toFixed(2)} s`;

if (process.argv[1] === SELF && process.argv[2] === 'client') await client(JSON.parse(process.argv[3]));
else if (process.getuid?.() !== 0) console.log('dataplaneapi: skipped (needs root for namespaces and systemd-nspawn)');
else if (!existsSync(join(root, 'dist/ovactl.js')))
  console.log('dataplaneapi: skipped (no dist/ovactl.js: npm run build)');
else await main();

// ---------------------------------------------------------------- the client (host-side namespace)
function request(o, method, path, body) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        host: o.host,
        port: o.port,
        path,
        method,
        ca: o.ca,
        agent: o.agent,
        timeout: 2_000,
        auth: `${o.user}:${o.password}`,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text, version: res.headers['configuration-version'] }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, text: e.code ?? e.message }));
    req.end(data);
  });
}

async function client(o) {
  const out = (x) => process.stdout.write(`${JSON.stringify(x)}\n`);
  if (o.mode === 'first-answer') {
    // Poll every 10 ms: first for the CA in guestinfo, then for /v2/info answered with it.
    let caUs = 0;
    for (;;) {
      if (!caUs && existsSync(o.caFile) && readFileSync(o.caFile, 'utf8').trim()) {
        caUs = nowUs();
        o.ca = Buffer.from(readFileSync(o.caFile, 'utf8'), 'base64').toString('utf8');
      }
      if (caUs) {
        const r = await request({ ...o, agent: false }, 'GET', '/v2/info');
        if (r.status === 200) return out({ caUs, answerUs: nowUs(), info: JSON.parse(r.text) });
      }
      await sleep(10);
    }
  }
  // The burst: keep-alive, one change after another, each with the version the last one made.
  o.ca = Buffer.from(readFileSync(o.caFile, 'utf8'), 'base64').toString('utf8');
  o.agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const C = '/v2/services/haproxy/configuration';
  let version = Number((await request(o, 'GET', `${C}/version`)).text);
  const codes = {};
  const startUs = nowUs();
  for (let i = 0; i < o.changes; i++) {
    const [path, body] =
      i === 0
        ? [`${C}/backends?version=${version}`, { name: o.backend, mode: 'tcp', balance: { algorithm: 'roundrobin' } }]
        : [
            `${C}/servers?backend=${o.backend}&version=${version}`,
            { name: `s${i}`, address: o.server, port: 20000 + i, weight: 100 },
          ];
    const r = await request(o, 'POST', path, body);
    codes[r.status] = (codes[r.status] ?? 0) + 1;
    if (r.status >= 200 && r.status < 300) version = r.version ? Number(r.version) : version + 1;
  }
  out({ startUs, endUs: nowUs(), codes, version });
}

// ---------------------------------------------------------------- the bench
/** test/helpers/rig/*.ts for plain Node: bundled with esbuild under .cache/bench/rig/ (three levels below the repo,
 * where the rig's own `new URL('../../..', import.meta.url)` still names the repository). */
async function loadRig() {
  const { build } = await import('esbuild');
  const outfile = join(root, '.cache/bench/rig/rig.mjs');
  mkdirSync(join(root, '.cache/bench/rig'), { recursive: true });
  await build({
    stdin: {
      contents: ['appliance', 'ovf-env', 'values'].map((m) => `export * from './test/helpers/rig/${m}.ts';`).join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    outfile,
    packages: 'external',
    logLevel: 'error',
  });
  return import(`${outfile}?${Date.now()}`);
}

/** Run the client in the rig's host-side namespace; its one JSON line. */
function runClient(a, opts) {
  const p = a.hostSpawn([process.execPath, SELF, 'client', JSON.stringify(opts)]);
  let text = '';
  let err = '';
  p.stdout.setEncoding('utf8').on('data', (d) => (text += d));
  p.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const done = new Promise((resolve) =>
    p.once('exit', (code) => {
      try {
        resolve(JSON.parse(text.trim().split('\n').pop()));
      } catch {
        resolve({ error: `exit ${code}: ${err.trim()}` });
      }
    }),
  );
  return { p, done };
}

/** One command to haproxy's master CLI, inside the container (Node there speaks to the socket). The
 * master keeps the connection open until the client half-closes it: end(), not write(). */
async function masterCli(a, command) {
  const js =
    `const s=require('net').connect('/run/haproxy-master.sock');let o='';` +
    'setTimeout(()=>process.exit(2),10000);' +
    `s.on('connect',()=>s.end(${JSON.stringify(`${command}\n`)}));s.on('data',d=>o+=d);` +
    "s.on('close',()=>process.stdout.write(o));s.on('error',e=>{console.error(e.message);process.exit(1)})";
  return (await a.exec(['node', '-e', js])).stdout;
}

/** `show proc`: the master's reload count and the old workers' PIDs. */
function parseShowProc(text) {
  let section = 'master';
  let reloads = Number.NaN;
  const old = [];
  for (const line of text.split('\n')) {
    const header = /^# (\S+)/.exec(line);
    if (header) section = header[1] === 'old' ? 'old' : header[1];
    else if (/^#/.test(line) || !line.trim()) continue;
    else if (/\bmaster\b/.test(line)) reloads = Number(line.trim().split(/\s+/)[2]);
    else if (section === 'old') old.push(Number(line.trim().split(/\s+/)[0]));
  }
  return { reloads, old };
}

async function main() {
  const rig = await loadRig();
  const rootfs = await rig.ensureRootfs();
  if (rootfs.skip) return console.log(`dataplaneapi: skipped (${rootfs.skip})`);
  if (!rootfs.ok) return console.log(`dataplaneapi: no rootfs (test/helpers/rig/rootfs.sh failed)\n${rootfs.output}`);
  const values = rig.deployValues();
  const port = Number(values['loadbalance.dataplane_port']);
  const credentials = { user: values['loadbalance.haproxy_user'], password: values['loadbalance.haproxy_pwd'] };
  let first;
  const a = await rig.bootAppliance({
    managementHost: '192.0.2.1/24',
    workloadHost: '198.51.100.1/24',
    client: '198.51.100.200/24',
    ovfEnv: rig.ovfEnvXml(values),
    dataplaneapi: 'standin',
    beforeBoot: (a) => {
      first = runClient(a, {
        mode: 'first-answer',
        host: rig.MANAGEMENT_IP,
        port,
        ...credentials,
        caFile: join(a.root, 'var/lib/ovactl-test/guestinfo', CACERT_KEY),
      });
    },
  });
  try {
    let timer;
    const late = new Promise((r) => (timer = setTimeout(() => r({ error: 'no answer in 180 s' }), 180_000)));
    const answered = await Promise.race([first.done, late]);
    clearTimeout(timer);
    if (answered.error) {
      console.log(`dataplaneapi: the API never answered (${answered.error})\n${await a.diagnostics()}`);
      return;
    }
    const fb = await a.unit('ovactl-firstboot.service', [
      'ExecMainStartTimestampMonotonic',
      'ExecMainExitTimestampMonotonic',
    ]);
    const fbStart = Number(fb.ExecMainStartTimestampMonotonic);
    const fbExit = Number(fb.ExecMainExitTimestampMonotonic);
    console.log(
      `Data Plane API in systemd-nspawn (${answered.info.api.version}; real haproxy ${
        (await a.exec(['haproxy', '-v'])).stdout.split('\n')[0].split(' ')[2]
      } and systemd)`,
    );
    console.log('  (a) boot to API: GET /v2/info over HTTPS, CA from guestinfo only, Basic auth');
    console.log(
      `      firstboot start → API answers  ${s1(answered.answerUs - fbStart)}` +
        `   (nspawn start → API ${s1(answered.answerUs - a.bootStartUs)})`,
    );
    console.log(
      `      firstboot start → CA in guestinfo ${s1(answered.caUs - fbStart)};` +
        ` firstboot ran ${s1(fbExit - fbStart)}`,
    );

    // (b) the burst, once haproxy runs.
    const active = async () => (await a.exec(['systemctl', 'is-active', 'haproxy'])).stdout.trim() === 'active';
    await rig.waitFor(active, 60_000, { what: 'haproxy.service to be active' });
    const before = parseShowProc(await masterCli(a, 'show proc'));
    const { done } = runClient(a, {
      mode: 'burst',
      host: rig.MANAGEMENT_IP,
      port,
      changes: CHANGES,
      backend: 'bench',
      server: '198.51.100.200',
      ...credentials,
      caFile: join(a.root, 'var/lib/ovactl-test/guestinfo', CACERT_KEY),
    });
    const burst = await done;
    if (burst.error) return console.log(`dataplaneapi: the burst failed (${burst.error})`);
    const accepted = Object.entries(burst.codes)
      .filter(([c]) => c >= 200 && c < 300)
      .reduce((n, [, k]) => n + k, 0);
    const burstS = (burst.endUs - burst.startUs) / 1e6;
    console.log(`  (b) a burst of ${CHANGES} changes (1 backend + ${CHANGES - 1} servers, one POST each, ?version=N)`);
    console.log(
      `      ${accepted} accepted in ${burstS.toFixed(2)} s: ${(accepted / burstS).toFixed(1)} changes/s` +
        `   (HTTP ${Object.entries(burst.codes)
          .map(([c, n]) => `${c}×${n}`)
          .join(', ')})`,
    );
    // A reload asked for during the burst may come up to reload_delay after it: wait that, and a margin.
    const waitUntilUs = burst.endUs + (RELOAD_DELAY_S + 5) * 1e6;
    await sleep(Math.max(0, (waitUntilUs - nowUs()) / 1000));
    const after = parseShowProc(await masterCli(a, 'show proc'));
    const journal = await a.exec(['journalctl', '-b', '-u', 'haproxy.service', '-o', 'json', '--no-pager']);
    const reloadTimes = journal.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => /^Reloading/.test(String(e.MESSAGE)) && Number(e.__MONOTONIC_TIMESTAMP) >= burst.startUs)
      .map((e) => Number(e.__MONOTONIC_TIMESTAMP));
    const gaps = reloadTimes.slice(1).map((t, i) => t - reloadTimes[i]);
    const reloads = after.reloads - before.reloads;
    const windowS = (Math.max(burst.endUs, reloadTimes.at(-1) ?? 0) - burst.startUs) / 1e6;
    console.log(
      `      haproxy reloads: ${reloads} (master's count ${before.reloads} → ${after.reloads}; ` +
        `journal: ${reloadTimes.length}), ${(reloads / windowS).toFixed(3)} reloads/s over ${windowS.toFixed(1)} s`,
    );
    // systemd's "Reloading" lines: when each `systemctl reload` reached systemd, so ±0.5 s of start-up is allowed.
    const honoured = gaps.every((g) => g >= RELOAD_DELAY_S * 1e6 - 5e5);
    console.log(
      `      reload_delay ${RELOAD_DELAY_S} s honoured: ${honoured ? 'yes' : 'NO'} (gaps between reloads in` +
        ` the journal: ${gaps.length ? gaps.map(s1).join(', ') : 'none, one reload'}; 0.5 s allowed for systemctl)`,
    );
    const state = await masterCli(a, '@1 show servers state bench');
    const served = state.split('\n').filter((l) => /^\d+ bench /.test(l)).length;
    console.log(`      in force after the wait: ${served} of ${CHANGES - 1} servers in haproxy's backend "bench"`);
    const ps = await a.exec(['ps', '-C', 'haproxy', '-o', 'rss=']);
    const rss = ps.stdout
      .split('\n')
      .filter(Boolean)
      .reduce((n, x) => n + Number(x), 0);
    const procs = ps.stdout.split('\n').filter(Boolean).length;
    // No client holds a connection through haproxy here, so an old worker may leave at once: a floor.
    console.log(
      `      at the end: ${after.old.length} old workers (no client connections held); haproxy RSS` +
        ` ${(rss / 1024).toFixed(1)} MiB over ${procs} processes (master and workers)`,
    );
  } finally {
    await a.stop();
  }
}
