// The Data Plane API stand-in (test/standin/dataplaneapi.cjs) against recordings of the real parser
// (test/fixtures/dataplaneapi-rewrites/, client-native v5.1.27 inside dataplaneapi v2.9.27): driven as a
// process over HTTP on loopback the way the recordings were made, every file it writes must be the
// recorded one byte for byte. Also its watcher (md5), its last-known-good restore on a failed reload,
// and its answers (202 + Reload-ID, force_reload). The real haproxy checks each commit.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATAPLANEAPI_STANDIN, ROOT } from './helpers/values.js';
import { standinRequest, type Reply } from './helpers/standin-client.js';

const FIXTURES = join(ROOT, 'test/fixtures/dataplaneapi-rewrites');
const fixture = (prefix: string): string => {
  const name = readdirSync(FIXTURES).find((f) => f.startsWith(`${prefix}-`));
  if (!name) throw new Error(`no fixture ${prefix}`);
  return readFileSync(join(FIXTURES, name), 'utf8');
};
const NODE = process.env.OVACTL_NODE18 ?? process.execPath;
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/tap/i.test(k)));
const USER = 'wcp';
const PASSWORD = 'rewrites-test';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-dpapi-rewrites-'));
const etc = join(dir, 'etc');
mkdirSync(etc);
const CFG = join(etc, 'haproxy.cfg');
const TX = join(dir, 'transactions');
const RELOADS = join(dir, 'reloads');
const FAIL = join(dir, 'fail-reloads');
writeFileSync(join(dir, 'users.cfg'), `userlist controller\n  user ${USER} insecure-password ${PASSWORD}\n`);
writeFileSync(join(dir, 'reload.sh'), `#!/bin/sh\n[ ! -e ${FAIL} ] || exit 1\necho ok >> ${RELOADS}\n`, {
  mode: 0o755,
});

let proc: ChildProcess | undefined;
let port = 0;
t.teardown(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function stop(): Promise<void> {
  const p = proc;
  proc = undefined;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

/** A freshly started API on whatever haproxy.cfg holds now. */
async function start(): Promise<void> {
  await stop();
  port = await freePort();
  const yaml = join(dir, 'dataplaneapi.yaml');
  writeFileSync(
    yaml,
    [
      'config_version: 2',
      'name: rewrites-test',
      'dataplaneapi:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      '  scheme:',
      '    - http',
      '  userlist:',
      '    userlist: controller',
      `    userlist_file: ${join(dir, 'users.cfg')}`,
      '  transaction:',
      `    transaction_dir: ${TX}`,
      'haproxy:',
      `  config_file: ${CFG}`,
      '  haproxy_bin: /usr/sbin/haproxy',
      '  reload:',
      '    reload_delay: 1',
      `    reload_cmd: ${join(dir, 'reload.sh')}`,
      '',
    ].join('\n'),
  );
  const p = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', NODE, DATAPLANEAPI_STANDIN, '-f', yaml], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: ENV,
  });
  let err = '';
  p.stderr!.on('data', (c) => {
    err += c;
  });
  p.stdout!.resume();
  proc = p;
  const until = Date.now() + 15000;
  for (;;) {
    try {
      await request('GET', '/info');
      return;
    } catch (e) {
      if (Date.now() > until || p.exitCode !== null) throw new Error(`the stand-in did not answer: ${err}${e}`);
      await sleep(100);
    }
  }
}

const request = (method: string, path: string, body?: unknown): Promise<Reply> =>
  standinRequest({ port, scheme: 'http', auth: `${USER}:${PASSWORD}` }, method, path, body);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const C = '/services/haproxy/configuration';
const E = encodeURIComponent;
const version = async (): Promise<number> => (await request('GET', `${C}/version`)).json as number;
const mode = (f: string) => statSync(f).mode & 0o777;
const reloadCount = () => (existsSync(RELOADS) ? readFileSync(RELOADS, 'utf8').split('\n').length - 1 : 0);
/** As ovactl writes: a new file renamed over haproxy.cfg. */
function replaceCfg(text: string): void {
  writeFileSync(`${CFG}.new`, text, { mode: 0o640 });
  renameSync(`${CFG}.new`, CFG);
}
async function waitFor(what: string, ok: () => boolean, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---- the Supervisor-shaped services of the recordings (names, binds and servers read from 02, 03, 04)
interface Service {
  name: string;
  vip: string;
  port: number;
  servers: string[];
}
const SERVICES: Service[] = [
  {
    name: 'domain-c8:3f2a-kube-system-kube-apiserver-lb-svc',
    vip: '198.51.100.65',
    port: 6443,
    servers: ['198.51.100.20', '198.51.100.21', '198.51.100.22'],
  },
  {
    name: 'domain-c8:3f2a-ns1-tkc1-control-plane-service',
    vip: '198.51.100.66',
    port: 6443,
    servers: ['198.51.100.30'],
  },
  { name: 'domain-c8:3f2a-ns1-web', vip: '198.51.100.67', port: 443, servers: ['198.51.100.40', '198.51.100.41'] },
];

/** The requests that create one service, as the Supervisor sends them: [path, body]. */
function serviceRequests(s: Service): [string, unknown][] {
  const be = `${s.name}-backend`;
  return [
    ['backends', { name: be, mode: 'tcp', balance: { algorithm: 'roundrobin' }, adv_check: 'tcp-check', log_tag: be }],
    ...s.servers.map((ip): [string, unknown] => [
      `servers?backend=${E(be)}`,
      { name: `${s.name}-${ip}:${s.port}`, address: ip, port: s.port, check: 'enabled', verify: 'none', weight: 100 },
    ]),
    ['frontends', { name: s.name, mode: 'tcp', log_tag: s.name, tcplog: true }],
    [`binds?frontend=${E(s.name)}`, { name: `${s.name}-${s.vip}:${s.port}`, address: s.vip, port: s.port }],
    [
      `backend_switching_rules?frontend=${E(s.name)}`,
      { index: 0, name: be, cond: 'if', cond_test: `{ dst_port ${s.port} }` },
    ],
  ];
}
const withQuery = (path: string, q: string) => `${C}/${path}${path.includes('?') ? '&' : '?'}${q}`;

async function inTransaction(t: Test, s: Service, keep?: (id: string) => void): Promise<Reply> {
  const tx = await request('POST', `/services/haproxy/transactions?version=${await version()}`);
  t.equal(tx.status, 201, 'transaction started');
  keep?.(tx.json.id);
  for (const [path, body] of serviceRequests(s)) {
    const r = await request('POST', withQuery(path, `transaction_id=${tx.json.id}`), body);
    t.equal(r.status, 202, `${path.split('?')[0]} accepted into the transaction (202)`);
    t.notOk(r.headers['reload-id'], 'no reload for a change in a transaction');
  }
  return request('PUT', `/services/haproxy/transactions/${tx.json.id}`);
}

writeFileSync(CFG, fixture('00'), { mode: 0o640 });

t.test('00 → 01 → 02: a freshly started API saves 00 as 01, and commits one service as 02', async (t) => {
  await start();
  t.equal(await version(), 1, 'a file without # _version is version 1');
  let id = '';
  const commit = await inTransaction(t, SERVICES[0]!, (x) => {
    id = x;
    t.equal(readFileSync(join(TX, `haproxy.cfg.${x}`), 'utf8'), fixture('01'), 'the transaction file is 01');
    t.equal(readFileSync(CFG, 'utf8'), fixture('00'), 'haproxy.cfg untouched before the commit');
  });
  t.equal(commit.status, 202, 'commit accepted (202)');
  t.match(commit.headers['reload-id'], /^\d{4}-\d{2}-\d{2}-\d+$/, 'with the id of the scheduled reload');
  t.match(commit.json, { id, status: 'success' });
  t.equal(readFileSync(CFG, 'utf8'), fixture('02'), 'haproxy.cfg is 02 byte for byte');
  t.equal(mode(CFG), 0o644, 'mode 0644 after the save (it was 0640)');
  t.equal(await version(), 2);
  t.notOk(existsSync(join(TX, `haproxy.cfg.${id}`)), 'the transaction file removed');
});

t.test('02 → 03: the same running API commits a second service', async (t) => {
  const commit = await inTransaction(t, SERVICES[1]!);
  t.equal(commit.status, 202);
  t.equal(readFileSync(CFG, 'utf8'), fixture('03'), 'haproxy.cfg is 03 byte for byte');
  t.equal(await version(), 3);
});

// In 04 the sections of 03 say `from unnamed_defaults_1` and the new ones do not: the API read 03 at its
// start (reading a file, it gives each proxy the last defaults before it; its transactions do not), so
// 04 was written by an API started on 03.
t.test('03 → 04: an API started on 03, one request per object with ?version=', async (t) => {
  await start();
  let v = await version();
  t.equal(v, 3);
  for (const [path, body] of serviceRequests(SERVICES[2]!)) {
    const r = await request('POST', withQuery(path, `version=${v}`), body);
    t.equal(r.status, 202, `${path.split('?')[0]} committed (202)`);
    t.match(r.headers['reload-id'], /^\d{4}-\d{2}-\d{2}-\d+$/, 'a reload scheduled');
    v += 1;
    t.equal(await version(), v, `version ${v}`);
  }
  t.equal(v, 9, 'version 3 → 9: six requests');
  t.equal(readFileSync(CFG, 'utf8'), fixture('04'), 'haproxy.cfg is 04 byte for byte');
  const stale = await request('POST', `${C}/backends?version=3`, { name: 'late', mode: 'tcp' });
  t.equal(stale.status, 409, 'a stale ?version= is a conflict');
  t.equal(
    (await request('POST', `${C}/backends`, { name: 'x', mode: 'tcp' })).status,
    400,
    'neither version nor transaction',
  );
});

t.test('05 → 06: the watcher takes a write with a stale md5, raises the version and rewrites', async (t) => {
  replaceCfg(fixture('05'));
  await waitFor('the rewrite of 05', () => readFileSync(CFG, 'utf8') !== fixture('05'));
  t.equal(readFileSync(CFG, 'utf8'), fixture('06'), 'haproxy.cfg is 06 byte for byte');
  t.equal(await version(), 10, 'version 9 → 10');
  t.equal(mode(CFG), 0o644);
  // Without an md5 line, the same.
  replaceCfg(fixture('05').split('\n').slice(1).join('\n'));
  await waitFor('the rewrite of 05 without md5', () => readFileSync(CFG, 'utf8').startsWith('# _md5hash='));
  t.equal(await version(), 10, "a missing md5 line: taken too, its version the file's (9) + 1");
  t.equal(readFileSync(CFG, 'utf8'), fixture('06'), 'the same 06');
});

t.test('a write with a valid md5 is ignored: the API keeps its own configuration', async (t) => {
  const v = await version();
  const rest = readFileSync(CFG, 'utf8').split('\n').slice(1).join('\n').replace('maxconn 29000', 'maxconn 100');
  const text = `# _md5hash=${createHash('md5').update(rest).digest('hex')}\n${rest}`;
  replaceCfg(text);
  await sleep(1500);
  t.equal(readFileSync(CFG, 'utf8'), text, 'the file left as written');
  t.equal(await version(), v, 'the version unchanged');
  const tx = await request('POST', `/services/haproxy/transactions?version=${v}`);
  t.notMatch(readFileSync(join(TX, `haproxy.cfg.${tx.json.id}`), 'utf8'), 'maxconn 100', 'its next save is its own');
  t.equal((await request('DELETE', `/services/haproxy/transactions/${tx.json.id}`)).status, 204);
});

t.test('force_reload: the answer after the reload; a failed reload puts haproxy.cfg.lkg back', async (t) => {
  await start(); // a known state: the last-known-good file is the file at start
  const lkg = readFileSync(`${CFG}.lkg`, 'utf8');
  t.equal(lkg, readFileSync(CFG, 'utf8'), 'haproxy.cfg.lkg: a copy at start');
  const n = reloadCount();
  const v = await version();
  const forced = await request('POST', `${C}/backends?version=${v}&force_reload=true`, { name: 'forced', mode: 'tcp' });
  t.equal(forced.status, 201, 'created, after the reload (201)');
  t.notOk(forced.headers['reload-id'], 'no Reload-ID: nothing scheduled');
  t.equal(reloadCount(), n + 1, 'the reload ran before the answer');
  t.equal(readFileSync(`${CFG}.lkg`, 'utf8'), readFileSync(CFG, 'utf8'), 'the reloaded file is the last known good');
  const both = await request('POST', `${C}/backends?transaction_id=x&force_reload=true`, { name: 'y', mode: 'tcp' });
  t.equal(both.status, 400, 'force_reload with a transaction');

  const good = readFileSync(CFG, 'utf8');
  writeFileSync(FAIL, '');
  const failed = await request('POST', `${C}/backends?version=${v + 1}&force_reload=true`, {
    name: 'bad',
    mode: 'tcp',
  });
  t.equal(failed.status, 400, 'the reload command failed: 400');
  t.match(failed.json.message, /Reload failed/);
  t.equal(readFileSync(CFG, 'utf8'), good, 'haproxy.cfg.lkg copied back over haproxy.cfg');
  rmSync(FAIL);

  const scheduled = await request('DELETE', `${C}/backends/forced?version=${await version()}`);
  t.equal(scheduled.status, 202);
  const id = scheduled.headers['reload-id'] as string;
  await waitFor('the scheduled reload', () => reloadCount() === n + 2, 5000);
  // The command has run; the API records its outcome once the process has exited: ask until it has.
  let r = await request('GET', `/services/haproxy/reloads/${id}`);
  for (let i = 0; i < 50 && r.json?.status !== 'succeeded'; i++) {
    await sleep(100);
    r = await request('GET', `/services/haproxy/reloads/${id}`);
  }
  t.match(r.json, { id, status: 'succeeded' }, 'the reload by its id');
});
