// `ovactl ready`: READY only once the Data Plane API answers as the Supervisor asks it. A tree from
// `ovactl firstboot --root` (state "starting"), the Data Plane API stand-in (test/standin, test code)
// serving that tree's certificate and users file on the management address, in a network namespace of
// this test's own; `ovactl ready --root` probes it for real with the tree's CA and the deploy values'
// credentials. Then the ways it does not answer, each named in the status with its reason.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/values.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { exitUnless, firstUnmet, haveTool, isRoot } from './helpers/root.js';

const ENV_XML = join(ROOT, 'examples/ovf-env.xml');
const STANDIN = ['cjs', 'mjs']
  .map((x) => join(ROOT, `test/standin/dataplaneapi.${x}`))
  .find((p) => {
    try {
      return readFileSync(p).length > 0;
    } catch {
      return false;
    }
  })!;
const PASSWORD = 'change-me-api'; // examples/ovf-env.xml's loadbalance.haproxy_pwd
const MGMT = '192.0.2.10'; // its management address
const NODE = process.env.OVACTL_NODE18 ?? process.execPath;
exitUnless(
  firstUnmet([
    [isRoot, 'needs root (a network namespace)'],
    [haveTool('ip', '-V'), 'iproute2 is not installed (test/run.sh installs it)'],
  ]),
);

const NS = `ovactl-ready-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'ovactl-ready-'));
const procs: ChildProcess[] = [];
const ip = (...a: string[]) => {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
};
ip('netns', 'add', NS);
t.teardown(() => {
  for (const p of procs)
    if (p.exitCode === null && p.pid)
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  spawnSync('ip', ['netns', 'del', NS]);
  rmSync(dir, { recursive: true, force: true });
});
ip('-n', NS, 'link', 'set', 'lo', 'up');
ip('-n', NS, 'link', 'add', 'management', 'type', 'veth', 'peer', 'name', 'peer0');
ip('-n', NS, 'link', 'set', 'peer0', 'up');
ip('-n', NS, 'addr', 'add', `${MGMT}/24`, 'dev', 'management');
ip('-n', NS, 'link', 'set', 'management', 'up');

const ovactl = (args: string[], input?: string) =>
  runCli(args, { node: NODE, input, timeoutMs: 60_000, wrap: ['ip', 'netns', 'exec', NS] });
const statusOf = () => JSON.parse(readFileSync(join(dir, 'var/lib/ovactl/status.json'), 'utf8'));
const issue = () => readFileSync(join(dir, 'etc/issue.d/ovactl.issue'), 'utf8');

// The image's Data Plane API: the stand-in, as the VM test's image carries it.
mkdirSync(join(dir, 'usr/local/bin'), { recursive: true });
copyFileSync(STANDIN, join(dir, 'usr/local/bin/dataplaneapi'));
chmodSync(join(dir, 'usr/local/bin/dataplaneapi'), 0o755);
const fb = ovactl(['firstboot', '--env', ENV_XML, '--root', dir]);

t.test('first boot leaves the state "starting" and lists the probe; it does not claim READY', async (t) => {
  t.equal(fb.code, 0, 'exit 0', { out: fb.out, err: fb.err });
  t.equal(statusOf().state, 'starting');
  t.equal(statusOf().dataplaneapi, `https://${MGMT}:5556`, 'the URL the Supervisor will use');
  t.match(issue(), /STARTING - waiting for the Data Plane API/);
  t.notMatch(issue(), /READY \(/);
  t.match(fb.out, /would run: systemctl restart --no-block ovactl-ready\.service/);
  t.match(fb.out, new RegExp(`would probe https://${MGMT.replace(/\./g, '\\.')}:5556/v2/info`));
});

/** The stand-in on the tree's files (paths pointed into it); reloads run `true`. */
function startApi(): ChildProcess {
  const yaml = readFileSync(join(dir, 'etc/haproxy/dataplaneapi.yaml'), 'utf8')
    .split('\n')
    .map((line) => {
      const m = line.match(/^(\s*)([a-z_]+):\s+(.+)$/);
      if (!m) return line;
      const [, indent, key, value] = m as unknown as [string, string, string, string];
      if (key === 'reload_cmd' || key === 'restart_cmd') return `${indent}${key}: true`;
      if (value.startsWith('/') && key !== 'haproxy_bin') return `${indent}${key}: ${join(dir, value)}`;
      return line;
    })
    .join('\n');
  writeFileSync(join(dir, 'api.yaml'), yaml, { mode: 0o600 });
  const p = spawn(
    'ip',
    ['netns', 'exec', NS, '/usr/bin/env', '-u', 'NODE_OPTIONS', NODE, STANDIN, '-f', join(dir, 'api.yaml')],
    { stdio: 'ignore', env: cliEnv() },
  );
  procs.push(p);
  return p;
}
const stopApi = (p: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (p.exitCode !== null) return resolve();
    p.once('exit', () => resolve());
    process.kill(p.pid!, 'SIGTERM');
  });

t.test('the API does not run: error with the reason, in the status and on the console', async (t) => {
  const r = ovactl(['ready', '--env', ENV_XML, '--root', dir, '--wait', '2']);
  t.equal(r.code, 1, 'exit 1');
  t.match(r.out, /did not answer https:\/\/192\.0\.2\.10:5556\/v2\/info within 2 s: nothing listens there/);
  const s = statusOf();
  t.equal(s.state, 'error');
  t.same(
    s.errors.map((e: { rule: string }) => e.rule),
    ['dataplaneapi.not-answering'],
  );
  t.match(issue(), /CONFIGURATION ERROR - haproxy serves, but the appliance is not ready/);
  t.notOk(
    JSON.stringify(s).includes(PASSWORD) || r.out.includes(PASSWORD) || issue().includes(PASSWORD),
    'no password anywhere',
  );
});

t.test('a boot with the same values starts over: "starting", the old probe failure dropped', async (t) => {
  const r = ovactl(['firstboot', '--env', ENV_XML, '--root', dir]);
  t.equal(r.code, 0);
  t.match(r.out, /no changes/);
  t.equal(statusOf().state, 'starting');
  t.same(statusOf().errors, []);
});

t.test('the API answers: READY, with the URL', async (t) => {
  const api = startApi();
  const r = ovactl(['ready', '--env', ENV_XML, '--root', dir, '--wait', '30']);
  t.equal(r.code, 0, 'exit 0', { out: r.out, err: r.err });
  t.match(r.out, /the Data Plane API answered https:\/\/192\.0\.2\.10:5556\/v2\/info after [\d.]+ s \(version /);
  t.equal(statusOf().state, 'ready');
  t.equal(statusOf().dataplaneapi, `https://${MGMT}:5556`);
  t.match(issue(), /READY \(frontend deployment\)\n {2}Data Plane API: https:\/\/192\.0\.2\.10:5556/);

  const again = ovactl(['ready', '--env', ENV_XML, '--root', dir]);
  t.equal(again.code, 0);
  t.match(again.out, /nothing to wait for: the first-boot status is ready/, 'no second probe once ready');

  // Wrong credentials: the API answers 401, which is not READY. The password never shows.
  ovactl(['firstboot', '--env', ENV_XML, '--root', dir]);
  const xml = readFileSync(ENV_XML, 'utf8').replace(`oe:value="${PASSWORD}"`, 'oe:value="not-the-password-9"');
  const wrong = ovactl(['ready', '--env', '-', '--root', dir, '--wait', '2'], xml);
  t.equal(wrong.code, 1);
  t.match(statusOf().errors[0]?.message, /refuses the credentials of user "wcp" \(HTTP 401\)/);
  t.notOk(wrong.out.includes('not-the-password-9') || JSON.stringify(statusOf()).includes('not-the-password-9'));

  // Another CA than the one the tree publishes: the Supervisor would refuse the server, and so does the probe.
  ovactl(['firstboot', '--env', ENV_XML, '--root', dir]);
  const ca = join(dir, 'etc/haproxy/ca.crt');
  const good = readFileSync(ca);
  const other = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      '/CN=another CA',
      '-days',
      '2',
    ],
    { encoding: 'utf8' },
  );
  writeFileSync(ca, other.stdout);
  const untrusted = ovactl(['ready', '--env', ENV_XML, '--root', dir, '--wait', '2']);
  writeFileSync(ca, good);
  t.equal(untrusted.code, 1);
  t.match(statusOf().errors[0]?.message, /not signed by the published CA/);
  await stopApi(api);
});

t.test('usage', async (t) => {
  for (const bad of ['0', 'x', '-1', '99999']) {
    const r = ovactl(['ready', '--env', ENV_XML, '--root', dir, `--wait=${bad}`]);
    t.equal(r.code, 2, `--wait ${bad}: exit 2`);
    t.match(r.err, /--wait must be a whole number of seconds/);
  }
  const none = ovactl(['ready', '--env', ENV_XML, '--root', join(dir, 'nowhere')]);
  t.equal(none.code, 1);
  t.match(none.out, /no first-boot status/);
});
