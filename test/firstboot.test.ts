// ovactl firstboot --root: the boot-time job applied into a scratch root. Idempotency, changed
// values, invalid values, secrets, and crash safety (killed at random points, then run again).
import t from 'tap';
import { spawn } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withValues, withImage } from './helpers/values.js';
import { cliArgv, cliEnv, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-firstboot-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const ROOT_PW = 'Root-Secret-4711';
const API_PW = 'Api-Secret-4711';
const values = (over: Record<string, string | null> = {}) =>
  withValues({ 'appliance.root_pwd': ROOT_PW, 'loadbalance.haproxy_pwd': API_PW, ...over });
const envFile = (name: string, v: Record<string, string>) => {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(v));
  return p;
};
const firstboot = (root: string, input: string) =>
  runCli(['firstboot', '--env', input, '--root', withImage(root)], { timeoutMs: 60_000 });

/** Every regular file under root: path → content (and mode). */
function tree(root: string): Map<string, { content: string; mode: number; mtimeMs: number }> {
  const m = new Map<string, { content: string; mode: number; mtimeMs: number }>();
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath ?? e.path, e.name);
    const st = statSync(p);
    m.set(p.slice(root.length), { content: readFileSync(p, 'utf8'), mode: st.mode & 0o7777, mtimeMs: st.mtimeMs });
  }
  return m;
}

t.test('first run, same values again, changed values', async (t) => {
  const root = join(dir, 'a');
  const input = envFile('a', values());
  const first = firstboot(root, input);
  t.equal(first.code, 0, first.out + first.err);
  t.match(first.out, /would run: systemctl enable --no-reload .*haproxy\.service/);
  t.match(first.out, /would run: systemctl start --no-block .*haproxy\.service/);
  t.match(first.out, /would run: chpasswd \(stdin\)/);
  t.match(first.out, /would publish guestinfo\.ovactl\.status and guestinfo\.dataplaneapi\.cacert/);
  const status = JSON.parse(readFileSync(join(root, 'var/lib/ovactl/status.json'), 'utf8'));
  t.equal(status.state, 'starting');
  t.same(status.errors, []);
  t.match(
    readFileSync(join(root, 'etc/issue.d/ovactl.issue'), 'utf8'),
    /STARTING - waiting for the Data Plane API[\s\S]*https:\/\/192\.0\.2\.10:5556/,
  );
  t.match(
    first.out,
    /ovactl-ready\.service would probe https:\/\/192\.0\.2\.10:5556\/v2\/info/,
    'the probe is listed, not run',
  );
  t.equal(statSync(join(root, 'var/lib/ovactl/state.json')).mode & 0o777, 0o600);
  for (const k of ['etc/haproxy/ca.key', 'etc/haproxy/server.key'])
    t.equal(statSync(join(root, k)).mode & 0o777, 0o600, `${k} is 0600`);
  const cert = new X509Certificate(readFileSync(join(root, 'etc/haproxy/server.crt')));
  t.match(cert.subjectAltName ?? '', /IP Address:192\.0\.2\.10/);
  t.match(cert.subjectAltName ?? '', /DNS:haproxy\.example\.test/);

  const before = tree(root);
  const second = firstboot(root, input);
  t.equal(second.code, 0);
  t.match(second.out, /no changes/);
  t.notMatch(second.out, /wrote/, 'nothing rewritten');
  t.same(
    second.out.match(/would run: .*/g),
    ['would run: systemctl restart --no-block ovactl-ready.service'],
    "nothing run but this boot's probe: READY is each boot's to say",
  );
  const after = tree(root);
  t.same([...after.keys()].sort(), [...before.keys()].sort());
  for (const [p, f] of before) t.equal(after.get(p)?.mtimeMs, f.mtimeMs, `${p} untouched`);

  const third = firstboot(root, envFile('a2', values({ 'loadbalance.dataplane_port': '5557' })));
  t.equal(third.code, 0, third.out);
  t.match(third.out, /wrote \/etc\/haproxy\/dataplaneapi\.yaml/);
  t.notMatch(third.out, /wrote \/etc\/haproxy\/haproxy\.cfg/, 'haproxy.cfg unchanged');
  t.match(third.out, /would run: systemctl try-restart --no-block dataplaneapi\.service/);
  t.notMatch(third.out, /try-restart[^\n]*haproxy\.service/, 'haproxy not restarted');

  const fourth = firstboot(root, envFile('a3', values({ 'network.management_ip': '192.0.2.11/24' })));
  t.equal(fourth.code, 0);
  t.match(fourth.out, /wrote \/etc\/haproxy\/server\.crt/, 'server certificate re-issued for the new address');
  t.match(
    new X509Certificate(readFileSync(join(root, 'etc/haproxy/server.crt'))).subjectAltName ?? '',
    /IP Address:192\.0\.2\.11/,
  );
  t.equal(
    readFileSync(join(root, 'etc/haproxy/ca.crt'), 'utf8'),
    before.get('/etc/haproxy/ca.crt')?.content,
    'the generated CA is kept',
  );
});

t.test(
  'invalid values: no haproxy, management NIC still configured, the error on the console and in the status',
  async (t) => {
    const root = join(dir, 'bad');
    const r = firstboot(root, envFile('bad', values({ 'loadbalance.service_ip_range': '10.10.18.18/28' })));
    t.equal(r.code, 1);
    t.match(r.out, /NOT READY/);
    t.match(
      r.out,
      /would run: systemctl disable --no-reload anyip-routes\.service haproxy\.service dataplaneapi\.service/,
    );
    t.notMatch(r.out, /systemctl enable[^\n]*haproxy/);
    t.notOk(existsSync(join(root, 'etc/haproxy/haproxy.cfg')), 'no haproxy.cfg');
    t.ok(existsSync(join(root, 'etc/systemd/network/20-ovactl-management.network')), 'management NIC configured');
    t.notOk(existsSync(join(root, 'etc/systemd/network/20-ovactl-workload.network')));
    const issue = readFileSync(join(root, 'etc/issue.d/ovactl.issue'), 'utf8');
    t.match(issue, /CONFIGURATION ERROR/);
    t.match(issue, /rule vip\.host-bits \(loadbalance\.service_ip_range\)/);
    t.match(issue, /fix: use 10\.10\.18\.16\/28 \(hosts 10\.10\.18\.17–10\.10\.18\.30\)/);
    const status = JSON.parse(readFileSync(join(root, 'var/lib/ovactl/status.json'), 'utf8'));
    t.equal(status.state, 'error');
    t.equal(status.errors[0].rule, 'vip.host-bits');
    const again = firstboot(root, envFile('bad', values({ 'loadbalance.service_ip_range': '10.10.18.18/28' })));
    t.equal(again.code, 1, 'still an error on the next boot');
    t.match(again.out, /no changes/);
    const fixed = firstboot(root, envFile('fixed', values()));
    t.equal(fixed.code, 0, 'corrected values make it ready');
    t.ok(existsSync(join(root, 'etc/haproxy/haproxy.cfg')));
  },
);

t.test('no secret in any output, log or world-readable file', async (t) => {
  const root = join(dir, 'secrets');
  const r = firstboot(root, envFile('secrets', values()));
  t.equal(r.code, 0);
  t.notMatch(r.out + r.err, ROOT_PW);
  t.notMatch(r.out + r.err, API_PW);
  for (const [p, f] of tree(root)) {
    t.notMatch(f.content, ROOT_PW, `${p}: no root password`);
    t.notMatch(f.content, API_PW, `${p}: no API password`);
    if (/\.key$|state\.json$|dataplaneapi\.yaml$/.test(p)) t.equal(f.mode & 0o077, 0, `${p} is private`);
  }
});

t.test('no OVF environment: exit 2 and say where it looked', async (t) => {
  const r = runCli(['firstboot', '--root', join(dir, 'none')], { envArgs: ['PATH=/nonexistent'], timeoutMs: 60_000 });
  t.equal(r.code, 2);
  t.match(
    r.err,
    /no OVF environment found\. Looked in guestinfo\.ovfEnv: vmware-rpctool is not installed; vmtoolsd is not installed \| \/dev\/disk\/by-label\/OVF\\x20ENV/,
  );
});

t.test('crash safety: killed at random points, run again, same files as an uninterrupted run', async (t) => {
  const input = envFile('crash', values());
  const clean = join(dir, 'clean');
  t.equal(firstboot(clean, input).code, 0);
  const reference = tree(clean);
  // Certificates, keys and the password hash are random by nature: compared for consistency instead.
  const RANDOM = new Set([
    '/etc/haproxy/ca.crt',
    '/etc/haproxy/ca.key',
    '/etc/haproxy/server.crt',
    '/etc/haproxy/server.key',
  ]);
  // …and so are the password hash's salt and the time the values were applied.
  const normalise = (p: string, c: string) =>
    p === '/etc/haproxy/dataplaneapi-users.cfg'
      ? c.replace(/\$6\$\S+/, '$6$HASH')
      : p === '/var/lib/ovactl/state.json'
        ? c.replace(/"appliedAt":"[^"]+"/, '"appliedAt":"T"')
        : c;
  let seed = 7;
  for (let i = 0; i < 8; i++) {
    const root = withImage(join(dir, `crash${i}`));
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const delay = 20 + (seed % 400);
    await new Promise<void>((resolve) => {
      const [cmd, ...args] = cliArgv(['firstboot', '--env', input, '--root', root]);
      const child = spawn(cmd, args, { env: cliEnv(), stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const rerun = firstboot(root, input);
    t.equal(rerun.code, 0, `killed after ${delay} ms, then run again: ${rerun.err}`);
    const got = tree(root);
    t.same(
      [...got.keys()].sort(),
      [...reference.keys()].sort(),
      `killed after ${delay} ms: same files, no temp files left behind`,
    );
    t.notOk(
      readdirSync(join(root, 'etc/haproxy')).some((f) => f.includes('.ovactl-')),
      'no work folders left behind',
    );
    for (const [p, f] of reference) {
      if (RANDOM.has(p)) continue;
      t.equal(normalise(p, got.get(p)?.content ?? ''), normalise(p, f.content), `${p} identical`);
      t.equal(got.get(p)?.mode, f.mode, `${p} mode`);
    }
    const ca = new X509Certificate(readFileSync(join(root, 'etc/haproxy/ca.crt')));
    const server = new X509Certificate(readFileSync(join(root, 'etc/haproxy/server.crt')));
    t.ok(server.verify(ca.publicKey), 'server certificate signed by the CA on disk');
    t.ok(
      server.checkPrivateKey(createPrivateKey(readFileSync(join(root, 'etc/haproxy/server.key')))),
      'server key matches',
    );
  }
});
