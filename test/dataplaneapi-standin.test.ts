// The Data Plane API as the Supervisor drives it, against the test stand-in (test/standin/dataplaneapi.cjs)
// or, with DATAPLANEAPI=PATH, against a real dataplaneapi binary. A tree from `ovactl firstboot --root`
// (its CA, server certificate, users file, haproxy.cfg and dataplaneapi.yaml, pointed into the tree and
// at 127.0.0.1), the appliance's haproxy 3.0 for `-c` (the API's haproxy_bin: the rig rootfs's, through
// test/helpers/appliance-programs.ts), openssl for the $6$ hash; everything on loopback.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, withImage } from './helpers/values.js';
import { runCli } from './helpers/cli.js';
import { appliancePrograms, applianceWrapper } from './helpers/appliance-programs.js';
import { skipUnless } from './helpers/root.js';
import { standinRequest, type Reply } from './helpers/standin-client.js';

const REAL = process.env.DATAPLANEAPI;
const STANDIN = join(ROOT, 'test/standin/dataplaneapi.cjs');
// Node 18.20 when test/run.sh provides one (the oldest Node the bundle supports): the stand-in runs there.
const NODE = process.env.OVACTL_NODE18 ?? process.execPath;
// Through env(1): tap's process tracking injects NODE_OPTIONS into node children (Node 18 cannot load
// it); env execs the program, so the child's PID is the program's.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/tap/i.test(k)));
const viaEnv = (args: string[]): [string, string[]] => ['/usr/bin/env', ['-u', 'NODE_OPTIONS', NODE, STANDIN, ...args]];
const DELAY = 2; // reload_delay in the test's YAML, seconds
const USER = 'wcp';
const PASSWORD = 'change-me-api'; // examples/ovf-env.xml's loadbalance.haproxy_pwd

const dir = mkdtempSync(join(tmpdir(), 'ovactl-dpapi-'));
// The haproxy the API validates with (haproxy_bin) and the test checks with: the appliance's 3.0; this
// machine's only where the rig's rootfs cannot be had (not root), and then said.
const noApplianceHaproxy = await appliancePrograms();
const HAPROXY = noApplianceHaproxy ? '/usr/sbin/haproxy' : applianceWrapper(dir, 'haproxy');
// Every commit runs that haproxy -c (a mount namespace and a chroot each time: tenths of a second, whole
// seconds on a loaded machine), and the file commits a few hundred times.
t.setTimeout(5 * 60_000);
const procs: ChildProcess[] = [];
t.teardown(async () => {
  for (const p of procs) await stop(p);
  rmSync(dir, { recursive: true, force: true });
});

function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null || !p.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(p.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(p.pid!, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

function start(yaml: string): { proc: ChildProcess; out: () => string; err: () => string } {
  const [cmd, args] = REAL ? [REAL, ['-f', yaml]] : viaEnv(['-f', yaml]);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  procs.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c) => {
    out += c;
  });
  proc.stderr!.on('data', (c) => {
    err += c;
  });
  return { proc, out: () => out, err: () => err };
}

const exited = (p: ChildProcess, ms: number): Promise<number | null> =>
  new Promise((resolve) => {
    if (p.exitCode !== null) {
      resolve(p.exitCode);
      return;
    }
    const timer = setTimeout(() => resolve(null), ms);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// ---- the appliance's files, as first boot writes them
const fb = runCli(['firstboot', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', withImage(dir)], {
  timeoutMs: 60_000,
});
if (fb.code !== 0) throw new Error(`ovactl firstboot --root failed: ${fb.out}${fb.err}`);
const etc = join(dir, 'etc/haproxy');
const CFG = join(etc, 'haproxy.cfg');
const CA = readFileSync(join(etc, 'ca.crt'));
const RELOADS = join(dir, 'reloads');
writeFileSync(join(dir, 'reload.sh'), `#!/bin/sh\ndate +%s.%N >> ${RELOADS}\n`, { mode: 0o755 });

/** ovactl's dataplaneapi.yaml with the same keys, its values pointed into the tree and at loopback. */
function pointedYaml(port: number, extra: (text: string) => string = (x) => x): string {
  const values: Record<string, string> = {
    host: '127.0.0.1',
    tls_host: '127.0.0.1',
    port: String(port),
    tls_port: String(port),
    reload_cmd: `sh ${join(dir, 'reload.sh')}`,
    restart_cmd: `sh ${join(dir, 'reload.sh')}`,
    reload_delay: String(DELAY),
    haproxy_bin: HAPROXY,
  };
  const text = readFileSync(join(etc, 'dataplaneapi.yaml'), 'utf8')
    .split('\n')
    .map((line) => {
      const m = line.match(/^(\s*)([a-z_]+):\s+(.+)$/);
      if (!m) return line;
      const [, indent, key, value] = m;
      if (key in values) return `${indent}${key}: ${values[key]}`;
      if (value.startsWith('/')) return `${indent}${key}: ${join(dir, value)}`;
      return line;
    })
    .join('\n');
  return extra(text);
}

const port = await freePort();
const YAML = join(dir, 'dataplaneapi.test.yaml');
writeFileSync(YAML, pointedYaml(port), { mode: 0o600 });
const api = start(YAML);

// ---- a client that trusts only the appliance's CA, as the Supervisor does
interface RequestOptions {
  auth?: string | null;
  ca?: Buffer | null;
}
const request = (method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Reply> =>
  standinRequest(
    {
      port,
      scheme: 'https',
      ...(opts.ca === null ? {} : { ca: opts.ca ?? CA }),
      auth: opts.auth === undefined ? `${USER}:${PASSWORD}` : opts.auth,
    },
    method,
    path,
    body,
  );

async function waitUp(): Promise<void> {
  const until = Date.now() + 15000;
  for (;;) {
    try {
      await request('GET', '/info');
      return;
    } catch (e) {
      if (Date.now() > until || api.proc.exitCode !== null) {
        throw new Error(`the API did not answer: ${api.err()}${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
await waitUp();

const C = '/services/haproxy/configuration';
const version = async (): Promise<number> => (await request('GET', `${C}/version`)).json as number;
const haproxyCheck = (file: string) => spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
const reloads = (): number[] =>
  existsSync(RELOADS) ? readFileSync(RELOADS, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
const E = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A section's text (header to the next section) in a haproxy.cfg. */
function sectionText(cfg: string, header: RegExp): string | undefined {
  const lines = cfg.split('\n');
  const i = lines.findIndex((l) => header.test(l));
  if (i < 0) return undefined;
  const j = lines.findIndex((l, k) => k > i && /^[a-z]/.test(l));
  return lines
    .slice(i, j < 0 ? undefined : j)
    .join('\n')
    .trimEnd(); // blank lines between sections are no one's
}

/** ovactl's sections as the API writes them back (defaults named), and as first boot wrote them. */
const OVACTL_SECTIONS: [RegExp, RegExp][] = [
  [/^global$/, /^global$/],
  [/^defaults unnamed_defaults_1$/, /^defaults( unnamed_defaults_1)?$/],
];
/** A section's directives without their order, indentation or comments: what they mean to haproxy. */
const directiveSet = (text: string | undefined): string[] =>
  (text ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/).join(' '))
    .filter(Boolean)
    .sort();

// ---- seed 003's service, as the Supervisor creates it through the API
const ID = 'domain-c50:b42f9558-a4eb-4e8f-8f0f-9a8f295f0a8e-kube-system-kube-apiserver-lb-svc';
const VIP = '192.168.0.1';
const SERVERS = ['192.168.128.0', '192.168.128.1', '192.168.128.2'];
const BACKENDS = [
  ['kube-apiserver', 6443],
  ['nginx', 443],
] as const;

async function createSeed003(tx: string): Promise<number[]> {
  const q = `transaction_id=${tx}`;
  const codes: number[] = [];
  const post = async (path: string, body: unknown) => codes.push((await request('POST', `${C}/${path}`, body)).status);
  await post(`frontends?${q}`, { name: ID, mode: 'tcp', log_tag: ID, tcplog: true });
  for (const [name, p] of [...BACKENDS].reverse()) {
    // seed 003's order: nginx's bind first
    await post(`binds?frontend=${E(ID)}&${q}`, { name: `${ID}-${VIP}:${name}`, address: VIP, port: p });
  }
  for (const [name, p] of BACKENDS) {
    const be = `${ID}-${name}`;
    await post(`backends?${q}`, {
      name: be,
      mode: 'tcp',
      balance: { algorithm: 'roundrobin' },
      adv_check: 'tcp-check',
      log_tag: be,
    });
    for (const s of SERVERS) {
      await post(`servers?backend=${E(be)}&${q}`, {
        name: `${ID}-${s}:${p}`,
        address: s,
        port: p,
        check: 'enabled',
        weight: 100,
        verify: 'none',
      });
    }
  }
  for (const [i, [name, p]] of BACKENDS.entries()) {
    await post(`backend_switching_rules?frontend=${E(ID)}&${q}`, {
      index: i,
      name: `${ID}-${name}`,
      cond: 'if',
      cond_test: `{ dst_port ${p} }`,
    });
  }
  return codes;
}

t.test(
  "the API validates with the appliance's haproxy 3.0 (haproxy_bin)",
  { skip: skipUnless(noApplianceHaproxy) },
  async (t) => {
    t.match(readFileSync(YAML, 'utf8'), new RegExp(`haproxy_bin: ${HAPROXY}\\n`), 'haproxy_bin is the wrapper');
    t.match(spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' }).stdout, /^HAProxy version 3\.0\./);
  },
);

t.test('--version names the version it stands in for', async (t) => {
  const [cmd, args] = REAL ? [REAL, ['--version']] : viaEnv(['--version']);
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: ENV });
  t.equal(r.status, 0);
  t.match(r.stdout.split('\n')[0], /^HAProxy Data Plane API v2\.9\.27\b/);
  if (!REAL) t.match(r.stdout, /stand-in/, 'says it is a stand-in');
});

t.test('answers /v2/info over HTTPS, trusting only the CA first boot published', async (t) => {
  const r = await request('GET', '/info');
  t.equal(r.status, 200);
  t.match(r.json, { api: { version: /2\.9\.27/ }, system: { hostname: String } });
  await t.rejects(request('GET', '/info', undefined, { ca: null }), 'a client without the CA does not trust it');
});

t.test('Basic auth against the userlist $6$ hash', async (t) => {
  const users = readFileSync(join(etc, 'dataplaneapi-users.cfg'), 'utf8');
  t.match(users, /user wcp password \$6\$/, 'the users file holds a $6$ hash');
  const wrong = await request('GET', '/info', undefined, { auth: `${USER}:not-${PASSWORD}` });
  t.equal(wrong.status, 401, 'a wrong password');
  t.match(String(wrong.headers['www-authenticate']), /^Basic /);
  t.equal((await request('GET', '/info', undefined, { auth: `nobody:${PASSWORD}` })).status, 401, 'an unknown user');
  t.equal((await request('GET', `${C}/frontends`, undefined, { auth: null })).status, 401, 'no credentials');
  t.equal((await request('GET', '/info')).status, 200, 'the right password (again, from the cache)');
});

let v0 = 0;
t.test("creates seed 003's service in one transaction", async (t) => {
  const before = readFileSync(CFG, 'utf8');
  v0 = await version();
  t.ok(Number.isInteger(v0) && v0 >= 1, `configuration version ${v0}`);
  const tx = await request('POST', `/services/haproxy/transactions?version=${v0}`);
  t.equal(tx.status, 201);
  t.match(tx.json, { _version: v0, id: String, status: 'in_progress' });
  const id = tx.json.id as string;
  const codes = await createSeed003(id);
  t.same(
    codes,
    codes.map(() => 202),
    'every object accepted into the transaction (202, as v2.9.27 answers)',
  );
  t.equal(readFileSync(CFG, 'utf8'), before, 'nothing written before the commit');
  const names = async (q: string): Promise<string[]> =>
    (await request('GET', `${C}/frontends${q}`)).json.data.map((f: { name: string }) => f.name);
  t.notOk((await names('')).includes(ID), 'not visible outside it');
  t.ok((await names(`?transaction_id=${id}`)).includes(ID), 'visible inside it');
  if (!REAL) {
    const txFiles = readdirSync(join(dir, 'var/lib/dataplaneapi/transactions'));
    t.ok(
      txFiles.some((f) => f.endsWith(id)),
      'its file in transaction_dir',
    );
  }

  const commit = await request('PUT', `/services/haproxy/transactions/${id}`);
  t.ok([200, 202].includes(commit.status), `committed (${commit.status})`);
  t.match(commit.json, { id, status: 'success' });
  t.equal(await version(), v0 + 1, 'version incremented');
  const after = readFileSync(CFG, 'utf8');
  t.match(after.split('\n')[0], /^# _md5hash=[0-9a-f]{32}$/, 'the # _md5hash line');
  t.equal(after.split('\n')[1], `# _version=${v0 + 1}`, 'the # _version line');
  const c = haproxyCheck(CFG);
  t.equal(c.status, 0, `haproxy -c accepts the committed file ${c.stderr}`);
  for (const [s, was] of OVACTL_SECTIONS) {
    t.same(
      directiveSet(sectionText(after, s)),
      directiveSet(sectionText(before, was)),
      `ovactl's ${s.source}: same directives`,
    );
  }
  const fe = sectionText(after, new RegExp(`^frontend ${ID}$`));
  t.ok(fe, 'the frontend section');
  t.match(fe, `bind ${VIP}:443 name ${ID}-${VIP}:nginx`);
  t.match(fe, `bind ${VIP}:6443 name ${ID}-${VIP}:kube-apiserver`);
  t.match(fe, `use_backend ${ID}-kube-apiserver if { dst_port 6443 }`);
  t.match(fe, `use_backend ${ID}-nginx if { dst_port 443 }`);
  t.match(fe, /option tcplog/);
  for (const [name, p] of BACKENDS) {
    const be = sectionText(after, new RegExp(`^backend ${ID}-${name}$`));
    t.ok(be, `backend ${name}`);
    t.match(be, /balance roundrobin/);
    t.match(be, /option tcp-check/);
    for (const s of SERVERS) t.match(be, new RegExp(`server ${ID}-${s}:${p} ${s}:${p} .*check.*`));
  }

  const f = await request('GET', `${C}/frontends/${E(ID)}`);
  t.match(f.json, { _version: v0 + 1, data: { name: ID, mode: 'tcp', tcplog: true, log_tag: ID } });
  const binds = await request('GET', `${C}/binds?frontend=${E(ID)}`);
  t.match(binds.json.data, [
    { address: VIP, port: 443 },
    { address: VIP, port: 6443 },
  ]);
  const rules = await request('GET', `${C}/backend_switching_rules?frontend=${E(ID)}`);
  t.match(rules.json.data, [
    { index: 0, name: `${ID}-kube-apiserver`, cond: 'if', cond_test: '{ dst_port 6443 }' },
    { index: 1, name: `${ID}-nginx`, cond: 'if', cond_test: '{ dst_port 443 }' },
  ]);
  const servers = await request('GET', `${C}/servers?backend=${E(`${ID}-nginx`)}`);
  t.same(
    servers.json.data.map((s: { address: string }) => s.address),
    SERVERS,
  );
  t.match(servers.json.data[0], { port: 443, check: 'enabled', weight: 100 });
  const be = await request('GET', `${C}/backends/${E(`${ID}-nginx`)}`);
  t.match(be.json.data, { mode: 'tcp', balance: { algorithm: 'roundrobin' }, adv_check: 'tcp-check' });
});

t.test('a stale version gets 409 and changes nothing', async (t) => {
  const v = await version();
  const before = readFileSync(CFG, 'utf8');
  const stale = await request('POST', `/services/haproxy/transactions?version=${v - 1}`);
  t.equal(stale.status, 409, 'a transaction on a stale version');
  t.match(stale.json, { code: 409, message: String });
  const direct = await request('POST', `${C}/backends?version=${v - 1}`, { name: 'stale', mode: 'tcp' });
  t.equal(direct.status, 409, 'a direct change on a stale version');
  t.equal(readFileSync(CFG, 'utf8'), before, 'the file unchanged');

  // A transaction overtaken by another change cannot be committed.
  const tx = (await request('POST', `/services/haproxy/transactions?version=${v}`)).json.id as string;
  t.equal((await request('POST', `${C}/backends?transaction_id=${tx}`, { name: 'late', mode: 'tcp' })).status, 202);
  const first = await request('POST', `${C}/backends?version=${v}`, { name: 'first', mode: 'tcp' });
  t.equal(first.status, 202, 'a direct change first');
  const late = await request('PUT', `/services/haproxy/transactions/${tx}`);
  t.equal(late.status, 409, 'the outdated transaction refused');
  const names = (await request('GET', `${C}/backends`)).json.data.map((b: { name: string }) => b.name);
  t.ok(names.includes('first') && !names.includes('late'));
  t.equal((await request('DELETE', `${C}/backends/first?version=${v + 1}`)).status, 202);
});

t.test('a commit haproxy -c refuses is refused with its message', async (t) => {
  const v = await version();
  const before = readFileSync(CFG, 'utf8');
  const tx = (await request('POST', `/services/haproxy/transactions?version=${v}`)).json.id as string;
  const r = await request('POST', `${C}/backend_switching_rules?frontend=${E(ID)}&transaction_id=${tx}`, {
    index: 0,
    name: `${ID}-nginx`,
    cond: 'if',
    cond_test: '{ no_such_fetch 1 }',
  });
  t.equal(r.status, 202, 'accepted into the transaction');
  const c = await request('PUT', `/services/haproxy/transactions/${tx}`);
  t.equal(c.status, 400);
  t.match(c.json.message, /no_such_fetch|ALERT|error/i, "haproxy's message");
  t.equal(readFileSync(CFG, 'utf8'), before, 'the file unchanged');
  t.equal(await version(), v, 'the version unchanged');
});

t.test(`a burst of 20 changes within reload_delay (${DELAY} s) reloads at most twice`, async (t) => {
  await sleep(DELAY * 1000 + 500); // the reloads of the earlier commits are done
  const n0 = reloads().length;
  t.ok(n0 >= 1, 'the earlier commits reloaded');
  const started = Date.now();
  let v = await version();
  for (let i = 0; i < 20; i++) {
    const r = await request('POST', `${C}/servers?backend=${E(`${ID}-nginx`)}&version=${v}`, {
      name: `burst-${i}`,
      address: '192.168.128.9',
      port: 1000 + i,
      check: 'enabled',
      weight: 100,
    });
    t.equal(r.status, 202, `change ${i}`);
    v += 1;
  }
  const lastChange = Date.now() / 1000;
  const elapsed = (Date.now() - started) / 1000;
  t.comment(`20 changes in ${elapsed.toFixed(2)} s`);
  await sleep(DELAY * 1000 + 1500);
  const all = reloads();
  const burst = all.slice(n0);
  // Within one delay: at most one reload at once and one for the rest (more only when the burst ran longer).
  t.ok(burst.length >= 1 && burst.length <= 1 + Math.ceil(elapsed / DELAY), `${burst.length} reloads for the burst`);
  if (elapsed <= DELAY) t.ok(burst.length <= 2, 'at most 2');
  // Timestamps come from the reload command, so they carry its start-up jitter (a busy machine: tenths of a
  // second); reloads without the delay would be milliseconds apart.
  for (let i = 1; i < all.length; i++) {
    const gap = all[i] - all[i - 1];
    t.ok(gap >= DELAY - 0.5, `reloads ${i - 1} and ${i} about ${DELAY} s apart or more (${gap.toFixed(3)} s)`);
  }
  t.ok(burst[burst.length - 1] >= lastChange - 0.05, 'the last change is reloaded too (coalesced, not lost)');
  const servers = await request('GET', `${C}/servers?backend=${E(`${ID}-nginx`)}`);
  t.equal(servers.json.data.length, SERVERS.length + 20, 'every change applied');
});

t.test('replacing the frontend keeps its binds and rules', async (t) => {
  const v = await version();
  const r = await request('PUT', `${C}/frontends/${E(ID)}?version=${v}`, {
    name: ID,
    mode: 'tcp',
    log_tag: 'renamed-tag',
  });
  t.equal(r.status, 202);
  t.match(r.json, { name: ID, log_tag: 'renamed-tag' });
  t.notOk(r.json.tcplog, 'option tcplog gone: not in the new object');
  const fe = sectionText(readFileSync(CFG, 'utf8'), new RegExp(`^frontend ${ID}$`));
  t.match(fe, /log-tag renamed-tag/);
  t.notMatch(fe, /option tcplog/);
  t.equal((fe?.match(/^ +bind /gm) ?? []).length, 2, 'both binds kept');
  t.equal((fe?.match(/^ +use_backend /gm) ?? []).length, 2, 'both rules kept');
  t.equal(haproxyCheck(CFG).status, 0);
  t.equal((await request('PUT', `${C}/frontends/no-such?version=${v + 1}`, { name: 'no-such' })).status, 404);
});

t.test('deleting the service removes its sections', async (t) => {
  const v = await version();
  const tx = (await request('POST', `/services/haproxy/transactions?version=${v}`)).json.id as string;
  t.equal((await request('DELETE', `${C}/frontends/${E(ID)}?transaction_id=${tx}`)).status, 202);
  for (const [name] of BACKENDS) {
    t.equal((await request('DELETE', `${C}/backends/${E(`${ID}-${name}`)}?transaction_id=${tx}`)).status, 202);
  }
  t.equal((await request('DELETE', `${C}/backends/no-such?transaction_id=${tx}`)).status, 404, 'an unknown backend');
  t.ok([200, 202].includes((await request('PUT', `/services/haproxy/transactions/${tx}`)).status));
  const cfg = readFileSync(CFG, 'utf8');
  t.notMatch(cfg, ID, 'no trace of the service');
  t.equal(cfg.split('\n')[1], `# _version=${v + 1}`);
  t.equal(haproxyCheck(CFG).status, 0, 'haproxy -c still accepts it');
  t.same((await request('GET', `${C}/frontends`)).json.data, []);
  t.equal((await request('GET', `${C}/frontends/${E(ID)}`)).status, 404);
});

// Hostile input from the network, with a fixed seed: the API answers every request (never a 500, never
// down) and whatever it commits is a file haproxy -c accepts, with no smuggled lines.
t.test('random requests (seed 13) never break the API or the file', async (t) => {
  let seed = 13;
  const rnd = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const values = [
    'fz',
    'fz-1',
    'a b',
    'x\nfrontend evil',
    'tcp',
    'http',
    'if',
    '{ dst_port 80 }',
    '127.0.0.9',
    '::1',
    '',
    'é',
    0,
    -1,
    1,
    80,
    65536,
    1e12,
    2.5,
    true,
    null,
    [],
    {},
    { algorithm: 'roundrobin' },
    { algorithm: 'x\ny' },
  ];
  const keys = [
    'name',
    'mode',
    'address',
    'port',
    'index',
    'cond',
    'cond_test',
    'check',
    'weight',
    'verify',
    'balance',
    'adv_check',
    'log_tag',
    'tcplog',
    'maxconn',
    'ssl',
    'default_backend',
  ];
  const TEMPLATES: Record<string, object> = {
    frontends: { name: 'fz', mode: 'tcp' },
    backends: { name: 'fz', mode: 'tcp' },
    binds: { name: 'fz-b', address: '127.0.0.9', port: 80 },
    servers: { name: 'fz-s', address: '127.0.0.9', port: 80 },
    backend_switching_rules: { index: 0, name: 'fz', cond: 'if', cond_test: '{ dst_port 80 }' },
  };
  const colls = [
    'frontends',
    'backends',
    'binds?frontend=fz',
    'servers?backend=fz',
    'backend_switching_rules?frontend=fz',
    'nope',
  ];
  const before = readFileSync(CFG, 'utf8');
  const statuses = new Map<number, number>();
  for (let i = 0; i < 150; i++) {
    const [coll, query = ''] = pick(colls).split('?');
    const mutations = Array.from({ length: Math.floor(rnd() * 3) }, () => [pick(keys), pick(values)]);
    const body =
      rnd() < 0.1 ? '{"name": ' : { ...(rnd() < 0.6 ? TEMPLATES[coll] : {}), ...Object.fromEntries(mutations) };
    const method = pick(['GET', 'POST', 'POST', 'PUT', 'DELETE']);
    const own =
      coll === 'backend_switching_rules' ? '0' : ((TEMPLATES[coll] as { name?: string } | undefined)?.name ?? 'x');
    const item = method === 'POST' && rnd() < 0.9 ? '' : `/${E(String(rnd() < 0.7 ? own : pick(values)))}`;
    const v = rnd() < 0.8 ? await version() : Math.floor(rnd() * 1000);
    const q = [query, rnd() < 0.9 ? `version=${v}` : 'transaction_id=x%zz'].filter(Boolean).join('&');
    const withBody = method === 'POST' || method === 'PUT';
    const r = await request(method, `${C}/${coll}${item}?${q}`, withBody ? body : undefined);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status >= 500) {
      t.fail(`${method} ${coll}${item}?${q} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
    }
  }
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  t.ok((statuses.get(202) ?? 0) + (statuses.get(204) ?? 0) >= 5, 'some requests were valid changes, committed');
  t.equal(api.proc.exitCode, null, 'still running');
  t.equal((await request('GET', '/info')).status, 200, 'still answering');
  const cfg = readFileSync(CFG, 'utf8');
  t.equal(haproxyCheck(CFG).status, 0, 'haproxy -c accepts the file');
  t.equal(cfg.split('\n')[1], `# _version=${await version()}`);
  t.notMatch(cfg, /evil/, 'no smuggled lines');
  // The API re-renders every section through its parser: what stays is their meaning.
  for (const [s, was] of OVACTL_SECTIONS) {
    t.same(directiveSet(sectionText(cfg, s)), directiveSet(sectionText(before, was)), `${s.source}: same directives`);
  }
});

t.test('the stand-in refuses what it cannot take', { skip: REAL ? 'stand-in behaviour' : false }, async (t) => {
  const big = await request('POST', `${C}/backends?version=${await version()}`, 'x'.repeat(2 * 1024 * 1024)).catch(
    (e) => e,
  );
  t.ok(big instanceof Error || big.status === 413, 'a 2 MiB body');
  const smuggle = await request('POST', `${C}/backend_switching_rules?frontend=fz&version=${await version()}`, {
    index: 0,
    name: 'fz',
    cond: 'if',
    cond_test: '{ dst_port 80 }\nbackend evil',
  });
  t.equal(smuggle.status, 422, 'a line break in a value');
  t.notMatch(readFileSync(CFG, 'utf8'), /evil/);
  t.match(api.out(), /"GET \/v2\/info" 200/, 'one log line per request');
  t.match(api.out(), /"GET \/v2\/info" 401/);
  t.notMatch(api.out(), PASSWORD, 'never the password');

  const cases: [string, (y: string) => string][] = [
    ['dataplaneapi.tls.tls_bogus', (y) => y.replace(/^( *)tls:\n/m, '$1tls:\n$1  tls_bogus: 1\n')],
    ['frobnicate', (y) => `${y}\nfrobnicate: true\n`],
    ['haproxy.reload.reload_delays', (y) => y.replace(/^( *)reload_delay: .*$/m, '$1reload_delays: 30')],
  ];
  for (const [key, edit] of cases) {
    const file = join(dir, `bad-${key}.yaml`);
    writeFileSync(file, pointedYaml(await freePort(), edit));
    const bad = start(file);
    const code = await exited(bad.proc, 10000);
    t.equal(code, 1, `exit 1 for ${key}`);
    const lines = bad.err().trim().split('\n');
    t.equal(lines.length, 1, 'one line on stderr');
    t.match(lines[0], `"${key}"`, 'naming the key');
  }
});
