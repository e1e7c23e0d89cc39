// Certificates over time on an appliance tree (--root): first boot with unchanged values still renews
// a certificate that ends in 5 days and re-issues one that starts in the future, `ovactl certificates
// renew` (the daily timer) does the same, only the Data Plane API is restarted, a CA near its end is a
// warning in the status, on the console and in doctor, the running host name is set when applying,
// and build/install.sh installs and enables the timer (checked by systemd-analyze verify).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificates } from '../src/tls/certificates.js';
import { ROOT, withImage, withValues } from './helpers/values.js';
import { runCli } from './helpers/cli.js';
import { skipUnless } from './helpers/root.js';
import { caEndingIn, serverEndingIn } from './helpers/openssl-certs.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'ovactl-renew-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const ovactl = (...args: string[]) => runCli(args, { timeoutMs: 60_000 });
let n = 0;
const envFile = (v: Record<string, string>) => {
  const p = join(dir, `env${n++}.json`);
  writeFileSync(p, JSON.stringify(v));
  return p;
};
const VALUES = envFile(withValues({}));
const SANS = ['DNS:haproxy.example.test', 'DNS:localhost', 'IP:192.0.2.10', 'IP:127.0.0.1'];
const REQ = { ips: ['192.0.2.10', '127.0.0.1'], dnsNames: ['haproxy.example.test', 'localhost'] };
const read = (root: string, p: string) => readFileSync(join(root, p), 'utf8');
const leaf = (root: string) => new X509Certificate(read(root, 'etc/haproxy/server.crt'));
const daysTo = (iso: string) => (Date.parse(iso) - Date.now()) / DAY;
type Warning = { rule: string; keys: string[]; message: string; hint?: string };
const status = (root: string) => JSON.parse(read(root, 'var/lib/ovactl/status.json')) as { warnings: Warning[] };
const wouldRun = (out: string): string[] => [...(out.match(/would run: .*/g) ?? [])];
const doctorCheck = (root: string, id: string) => {
  const r = ovactl('doctor', '--json', '--root', root);
  type Check = { id: string; verdict: string; detail: string; fix?: string };
  const checks = (JSON.parse(r.out) as { checks: Check[] }).checks;
  return checks.find((c) => c.id === id)!;
};

/** A tree after a first boot with `values`. */
function booted(name: string, values = VALUES): string {
  const root = withImage(join(dir, name));
  const r = ovactl('firstboot', '--env', values, '--root', root);
  if (r.code !== 0) throw new Error(r.out + r.err);
  return root;
}
const healthy = booted('healthy');
const copy = (name: string): string => {
  const root = join(dir, name);
  cpSync(healthy, root, { recursive: true });
  return root;
};

t.test('a boot with unchanged values renews a certificate that ends in 5 days, restarting only the API', async (t) => {
  const root = copy('boot5');
  const ca = read(root, 'etc/haproxy/ca.crt');
  serverEndingIn(root, 5, SANS);
  t.ok(daysTo(leaf(root).validTo) < 5.1);
  const r = ovactl('firstboot', '--env', VALUES, '--root', root);
  t.equal(r.code, 0, r.out + r.err);
  t.match(r.out, /no changes/);
  t.match(r.out, /certificates renewed: server\.crt expires .*, within 30 days/);
  t.match(r.out, /wrote \/etc\/haproxy\/server\.crt/);
  t.same(
    wouldRun(r.out),
    [
      'would run: systemctl try-restart --no-block dataplaneapi.service',
      'would run: systemctl restart --no-block ovactl-ready.service',
    ],
    "only the Data Plane API restarts (and this boot's probe)",
  );
  t.equal(read(root, 'etc/haproxy/ca.crt'), ca, 'the same CA');
  t.ok(daysTo(leaf(root).validTo) > 728, 'a new validity');
  t.same(status(root).warnings, [], 'no warning: the CA is far from its end');

  const again = ovactl('firstboot', '--env', VALUES, '--root', root);
  t.notMatch(again.out, /renewed|wrote/, 'then nothing is due');
});

t.test('a boot with unchanged values issues removed certificate files again', async (t) => {
  const root = copy('removed');
  rmSync(join(root, 'etc/haproxy/server.crt'));
  rmSync(join(root, 'etc/haproxy/server.key'));
  const r = ovactl('firstboot', '--env', VALUES, '--root', root);
  t.match(r.out, /certificates renewed: server\.crt is missing/, "as doctor's fix says: remove them and reboot");
  t.equal(doctorCheck(root, 'dataplane-cert').verdict, 'ok');
});

t.test('ovactl certificates renew (the timer): 5 days left → renewed; then not due', async (t) => {
  const root = copy('timer5');
  const ca = read(root, 'etc/haproxy/ca.crt');
  serverEndingIn(root, 5, SANS);
  const dr = doctorCheck(root, 'dataplane-cert');
  t.equal(dr.verdict, 'warn', 'doctor warns before the timer ran');
  t.match(dr.detail, /within 30 days/);
  t.match(dr.fix, /ovactl certificates renew/);

  const r = ovactl('certificates', 'renew', '--root', root);
  t.equal(r.code, 0, r.out + r.err);
  t.match(r.out, /certificates renewed: server\.crt expires .*, within 30 days/);
  t.same(wouldRun(r.out), ['would run: systemctl try-restart dataplaneapi.service'], 'only the Data Plane API');
  t.equal(read(root, 'etc/haproxy/ca.crt'), ca, 'the same CA');
  t.same((leaf(root).subjectAltName ?? '').split(', ').sort(), [
    'DNS:haproxy.example.test',
    'DNS:localhost',
    'IP Address:127.0.0.1',
    'IP Address:192.0.2.10',
  ]);
  t.equal(doctorCheck(root, 'dataplane-cert').verdict, 'ok');

  const again = ovactl('certificates', 'renew', '--root', root);
  t.equal(again.code, 0);
  t.match(again.out, /not due for renewal/);
  t.same(wouldRun(again.out), [], 'nothing restarted');
});

t.test('a certificate that starts in the future is re-issued, at boot and by the timer', async (t) => {
  for (const how of ['boot', 'timer'] as const) {
    const root = copy(`future-${how}`);
    const ca = read(root, 'etc/haproxy/ca.crt');
    rmSync(join(root, 'etc/haproxy/server.crt'));
    // Issued while the clock was 3 days fast, from the same CA (which started a day before the real now).
    await ensureCertificates(root, REQ, { now: new Date(Date.now() + 3 * DAY) });
    t.ok(daysTo(leaf(root).validFrom) > 1.9, `${how}: made to start in the future`);
    const d = doctorCheck(root, 'dataplane-cert');
    t.equal(d.verdict, 'fail', `${how}: doctor fails it`);
    t.match(d.detail, /not valid before/);
    const r =
      how === 'boot'
        ? ovactl('firstboot', '--env', VALUES, '--root', root)
        : ovactl('certificates', 'renew', '--root', root);
    t.equal(r.code, 0, r.out + r.err);
    t.match(r.out, /certificates renewed: server\.crt is not valid before /);
    t.ok(daysTo(leaf(root).validFrom) < 0, `${how}: valid now`);
    t.equal(read(root, 'etc/haproxy/ca.crt'), ca, `${how}: the same CA`);
  }
});

t.test('a given CA that ends in 50 days: a warning in the status, on the console and in doctor', async (t) => {
  const given = caEndingIn(50, 'Corp CA');
  const values = envFile(withValues({ 'appliance.ca_cert': given.cert, 'appliance.ca_cert_key': given.key }));
  const root = booted('given50', values);
  const w = status(root).warnings.find((x) => x.rule === 'certificates.ca-expiring');
  t.match(w, { keys: ['appliance.ca_cert'] });
  t.match(w?.message, /the given CA \(appliance\.ca_cert, CN=Corp CA\) ends on .* in 49 days/);
  t.match(w?.hint, /appliance\.ca_cert and appliance\.ca_cert_key/);
  const banner = read(root, 'etc/issue.d/ovactl.issue');
  t.match(banner, /! the given CA \(appliance\.ca_cert, CN=Corp CA\) ends on/);
  t.match(banner, /fix: deploy a new CA: set the vApp properties appliance\.ca_cert and appliance\.ca_cert_key/);
  const d = doctorCheck(root, 'dataplane-ca');
  t.equal(d.verdict, 'warn');
  t.match(d.detail, /in 49 days/);
  t.match(d.fix, /the Supervisor must then be given the new CA/);

  // Boots and the timer keep one such warning, not one more each time.
  t.equal(ovactl('firstboot', '--env', values, '--root', root).code, 0);
  t.equal(ovactl('certificates', 'renew', '--root', root).code, 0);
  t.equal(status(root).warnings.filter((x) => x.rule === 'certificates.ca-expiring').length, 1);
  t.equal(read(root, 'etc/haproxy/ca.crt'), given.cert, 'the given CA is never replaced');
});

t.test('a generated CA ending in 50 days: warned at a boot with unchanged values, until replaced', async (t) => {
  const root = copy('generated50');
  const ca = caEndingIn(50, 'ovactl appliance CA haproxy.example.test');
  writeFileSync(join(root, 'etc/haproxy/ca.key'), ca.key, { mode: 0o600 });
  writeFileSync(join(root, 'etc/haproxy/ca.crt'), ca.cert);
  t.same(status(root).warnings, []);
  const r = ovactl('firstboot', '--env', VALUES, '--root', root);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /no changes/);
  t.match(r.out, /server\.crt is not signed by the CA in use/, 'the server certificate follows the CA in use');
  const w = status(root).warnings.find((x) => x.rule === 'certificates.ca-expiring');
  t.match(w?.message, /the CA the appliance generated \(\/etc\/haproxy\/ca\.crt\) ends on .* in 49 days/);
  t.match(read(root, 'etc/issue.d/ovactl.issue'), /! the CA the appliance generated/);
  t.equal(read(root, 'etc/haproxy/ca.crt'), ca.cert, 'not replaced before its end');

  // The admin follows the fix: remove ca.crt and ca.key and reboot.
  rmSync(join(root, 'etc/haproxy/ca.crt'));
  rmSync(join(root, 'etc/haproxy/ca.key'));
  const fixed = ovactl('firstboot', '--env', VALUES, '--root', root);
  t.match(fixed.out, /new CA: ca\.crt is missing/);
  t.same(status(root).warnings, [], 'the warning is gone');
  t.equal(doctorCheck(root, 'dataplane-ca').verdict, 'ok');
});

t.test('the running host name is set when applying (listed with --root)', async (t) => {
  const root = withImage(join(dir, 'host'));
  const first = ovactl('firstboot', '--env', VALUES, '--root', root);
  t.ok(wouldRun(first.out).includes('would run: hostname haproxy.example.test'), first.out);
  t.equal(read(root, 'etc/hostname').trim(), 'haproxy.example.test');
  t.equal(leaf(root).checkHost('haproxy.example.test'), 'haproxy.example.test', 'the name the certificate carries');
  const same = ovactl('firstboot', '--env', VALUES, '--root', root);
  t.notOk(
    wouldRun(same.out).some((l) => l.includes('hostname')),
    'unchanged: the boot already read /etc/hostname',
  );
  const renamedValues = envFile(withValues({ 'network.hostname': 'lb1.example.test' }));
  const renamed = ovactl('firstboot', '--env', renamedValues, '--root', root);
  t.ok(wouldRun(renamed.out).includes('would run: hostname lb1.example.test'), renamed.out);
});

const analyze =
  spawnSync('systemd-analyze', ['--version']).status === 0 && existsSync('/usr/lib/systemd/system/timers.target');
t.test('build/install.sh installs and enables the timer; systemd-analyze verify accepts both units', async (t) => {
  const root = join(dir, 'image');
  const inst = spawnSync('bash', [join(ROOT, 'build/install.sh'), root], { encoding: 'utf8' });
  t.equal(inst.status, 0, inst.stderr);
  const units = join(root, 'etc/systemd/system');
  const timer = read(root, 'etc/systemd/system/ovactl-certificates.timer');
  t.equal(timer, readFileSync(join(ROOT, 'build/systemd/ovactl-certificates.timer'), 'utf8'));
  t.ok(existsSync(join(units, 'ovactl-certificates.service')));
  t.equal(
    readlinkSync(join(units, 'timers.target.wants/ovactl-certificates.timer')),
    '/etc/systemd/system/ovactl-certificates.timer',
  );
  t.notOk(
    existsSync(join(units, 'multi-user.target.wants/ovactl-certificates.service')),
    'the service runs from the timer only',
  );
  t.match(timer, /^OnCalendar=daily$/m);
  t.match(timer, /^Persistent=true$/m);
  t.match(
    read(root, 'etc/systemd/system/ovactl-certificates.service'),
    /^ExecStart=\/usr\/bin\/ovactl certificates renew$/m,
  );

  const skip = skipUnless(!analyze && 'systemd-analyze or the system units are not here');
  t.test('systemd-analyze verify', { skip }, async (t) => {
    // The image's root has systemd's own units: give the scratch root the host's, so verify resolves
    // timers.target and sysinit.target there and checks ExecStart against the root's /usr/bin/ovactl.
    mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
    const units = ['ovactl-certificates.timer', 'ovactl-certificates.service'];
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...units], { encoding: 'utf8' });
    t.equal(v.status, 0, v.stderr);
    t.equal(v.stderr.trim(), '', 'no complaint');
  });
});
