// `ovactl export --for-successor`: appliance A boots with a generated CA; its export deploys B (a
// fresh root) with A's CA, management address and credentials, so the Supervisor accepts B unchanged.
// Real openssl verifies B's server certificate with A's CA. Then the refusals: values not in force, an
// existing file, a folder anybody may write; and no secret on stdout or stderr, ever.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDeployValues } from '../src/cli/deploy-values.js';
import { ROOT, withImage } from './helpers/values.js';
import { runCli } from './helpers/cli.js';

const ENV_XML = join(ROOT, 'examples/ovf-env.xml');
const dir = mkdtempSync(join(tmpdir(), 'ovactl-successor-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const ovactl = (...args: string[]) => runCli(args, { timeoutMs: 60_000 });
const A = withImage(join(dir, 'A'));
const B = withImage(join(dir, 'B'));
const at = (root: string, p: string) => readFileSync(join(root, p), 'utf8');
const CA = 'etc/haproxy/ca.crt',
  CA_KEY = 'etc/haproxy/ca.key';

const fbA = ovactl('firstboot', '--env', ENV_XML, '--root', A);
const xml = readFileSync(ENV_XML, 'utf8');
const secrets = () =>
  ['appliance.root_pwd', 'loadbalance.haproxy_pwd']
    .map((k) => new RegExp(`oe:key="${k}" oe:value="([^"]+)"`).exec(xml)![1]!)
    .concat(
      at(A, CA_KEY)
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'))[0]!,
    );

t.test('A: first boot applied the example with a generated CA', async (t) => {
  t.equal(fbA.code, 0, 'exit 0', { out: fbA.out, err: fbA.err });
  t.match(xml, /oe:key="appliance.ca_cert" oe:value=""/, 'no CA given: A generates its own');
  t.ok(existsSync(join(A, CA_KEY)));
});

const file = join(dir, 'successor.json');
const ex = ovactl('export', '--for-successor', file, '--root', A, '--env', ENV_XML);

t.test('the export: a 0600 govc options file with the CA in use; no secret printed', async (t) => {
  t.equal(ex.code, 0, 'exit 0', { out: ex.out, err: ex.err });
  t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
  t.match(ex.out, /holds the passwords and the CA key/);
  for (const s of secrets()) t.notOk(ex.out.includes(s) || ex.err.includes(s), 'a secret is not printed');
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  const value = (k: string) => spec.PropertyMapping.find((p: { Key: string }) => p.Key === k)?.Value;
  t.equal(value('appliance.ca_cert'), at(A, CA).trim(), 'the CA certificate A uses');
  t.equal(value('appliance.ca_cert_key'), at(A, CA_KEY).trim(), 'the CA key A uses');
  t.equal(spec.Deployment, 'frontend', 'the deployment A has (3 adapters)');
  t.same(
    spec.NetworkMapping,
    [
      { Name: 'Management', Network: 'Management' },
      { Name: 'Workload', Network: 'Workload' },
      { Name: 'Frontend', Network: 'Frontend' },
    ],
    "the port groups of A's adapters",
  );
  t.equal(spec.Name, 'haproxy-successor', 'a VM name of its own: the old VM stays for a rollback');
});

t.test("B from the exported file: A's CA, a server certificate A's CA verifies, A's values", async (t) => {
  const fbB = ovactl('firstboot', '--env', file, '--root', B);
  t.equal(fbB.code, 0, 'exit 0', { out: fbB.out, err: fbB.err });
  t.equal(JSON.parse(at(B, 'var/lib/ovactl/status.json')).state, 'starting');
  t.equal(at(B, CA), at(A, CA), "B's CA certificate is A's");
  t.equal(at(B, CA_KEY), at(A, CA_KEY), "B's CA key is A's");
  t.not(at(B, 'etc/haproxy/server.crt'), at(A, 'etc/haproxy/server.crt'), 'B issued its own server certificate');
  const v = spawnSync('openssl', ['verify', '-CAfile', join(A, CA), join(B, 'etc/haproxy/server.crt')], {
    encoding: 'utf8',
  });
  t.equal(v.status, 0, "openssl verify: A's CA verifies B's server certificate", { out: v.stdout, err: v.stderr });
  const a = await loadDeployValues(ENV_XML, undefined),
    b = await loadDeployValues(file, undefined);
  if (!a.ok || !b.ok) throw new Error('validation did not run');
  t.ok(a.value.report.valid && b.value.report.valid, 'both valid');
  t.equal(b.value.report.deployment, a.value.report.deployment);
  const { 'appliance.ca_cert': caB, 'appliance.ca_cert_key': keyB, ...restB } = b.value.report.properties;
  const { 'appliance.ca_cert': caA, 'appliance.ca_cert_key': keyA, ...restA } = a.value.report.properties;
  t.same(restB, restA, "every other value equals A's");
  t.equal(caA, undefined, 'A had no CA value');
  t.equal(keyA, undefined);
  t.equal(caB?.trim(), at(A, CA).trim(), "B's CA value is A's CA");
  t.equal(keyB?.trim(), at(A, CA_KEY).trim());
  const api = 'etc/haproxy/dataplaneapi.yaml';
  t.equal(at(B, api), at(A, api), 'the same Data Plane API setup');
  t.equal(at(B, 'etc/haproxy/haproxy.cfg'), at(A, 'etc/haproxy/haproxy.cfg'), 'the same haproxy.cfg (and its users)');
});

t.test('--format powercli: the same values as PowerShell literals, 0600', async (t) => {
  const ps = join(dir, 'successor.ps1');
  const r = ovactl('export', '--for-successor', ps, '--format', 'powercli', '--root', A, '--env', ENV_XML);
  t.equal(r.code, 0, 'exit 0', { out: r.out, err: r.err });
  t.equal(statSync(ps).mode & 0o777, 0o600);
  for (const s of secrets()) t.notOk(r.out.includes(s) || r.err.includes(s), 'a secret is not printed');
  const text = readFileSync(ps, 'utf8');
  t.ok(text.includes(`$c.appliance.ca_cert_key.Value = '${at(A, CA_KEY).trim()}'`), 'the CA key in use');
  t.match(text, /\$c\.loadbalance\.dataplane_port\.Value = 5556\n/);
  t.match(text, /\$c\.appliance\.permit_root_login\.Value = \$true\n/);
  t.match(text, /-Name 'haproxy-successor'/);
});

t.test('refusals: nothing written, one line, exit 1 or 2', async (t) => {
  const before = readFileSync(file, 'utf8');
  const again = ovactl('export', '--for-successor', file, '--root', A, '--env', ENV_XML);
  t.equal(again.code, 2, 'an existing file is never overwritten');
  t.match(again.err, /successor\.json exists and is in the way \(EEXIST\); fix: remove it/);
  t.equal(readFileSync(file, 'utf8'), before);

  const open = join(dir, 'open');
  mkdirSync(open, { mode: 0o777 });
  spawnSync('chmod', ['0777', open]);
  const o = ovactl('export', '--for-successor', join(open, 's.json'), '--root', A, '--env', ENV_XML);
  t.equal(o.code, 2);
  t.match(o.err, /may be written by everyone \(mode 0777, no sticky bit\)/);
  t.notOk(existsSync(join(open, 's.json')));
  spawnSync('chmod', ['1777', open]);
  const sticky = ovactl('export', '--for-successor', join(open, 's.json'), '--root', A, '--env', ENV_XML);
  t.equal(sticky.code, 0, 'a sticky folder such as /tmp will do: the file is 0600 and only its owner may move it');

  const other = join(dir, 'other.xml');
  writeFileSync(other, xml.replace('oe:value="wcp"', 'oe:value="someone-else"'));
  const differ = ovactl('export', '--for-successor', join(dir, 'o.json'), '--root', A, '--env', other);
  t.equal(differ.code, 1, 'values other than those in force');
  t.match(differ.err, /not the ones first boot applied/);
  t.notOk(existsSync(join(dir, 'o.json')));

  writeFileSync(other, xml.replace('oe:value="192.0.2.10/24"', 'oe:value="192.0.2.10/33"'));
  const invalid = ovactl('export', '--for-successor', join(dir, 'o.json'), '--root', A, '--env', other);
  t.equal(invalid.code, 1);
  t.match(invalid.err, /these values are invalid \(network\.management_ip\)/);

  const fresh = join(dir, 'never-booted');
  const none = ovactl('export', '--for-successor', join(dir, 'o.json'), '--root', fresh, '--env', ENV_XML);
  t.equal(none.code, 1);
  t.match(none.err, /first boot has applied no values here/);
  t.notOk(existsSync(join(dir, 'o.json')));

  for (const r of [again, o, differ, invalid, none]) {
    for (const s of secrets()) t.notOk(r.out.includes(s) || r.err.includes(s), 'a secret is not printed');
  }
  t.equal(ovactl('export', '--root', A).code, 2, 'no --for-successor: usage');
  t.equal(ovactl('export', '--for-successor', '-', '--root', A).code, 2, 'never to stdout');
  t.equal(ovactl('export', '--for-successor', join(dir, 'x'), '--format', 'yaml').code, 2);
});

t.test('--help says what the file holds and that it must be deleted', async (t) => {
  const h = ovactl('export', '--help');
  t.equal(h.code, 0);
  t.match(h.out, /FILE HOLDS SECRETS: the root and Data Plane API passwords and the CA's private key/);
  t.match(h.out, /then delete every copy/);
  t.match(h.out, /^Exit status: 0 /m);
  t.match(ovactl('--help').out, /^ {2}export +write the values in force/m, 'listed in the main help');
});
