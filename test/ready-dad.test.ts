// Duplicate address detection at READY: an "old appliance" (a namespace of this test's own, across
// veth pairs) holds the management address and serves the VIP range, as one left running during an
// upgrade would. The successor's `ovactl ready --root` probes with the real arping -D, finds both, takes
// nothing and says so in the status and on the console; once the old one is gone, a boot with the same
// values starts over and the check passes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, withImage } from './helpers/values.js';
import { runCli } from './helpers/cli.js';
import { exitUnless, firstUnmet, haveTool, isRoot } from './helpers/root.js';

const ENV_XML = join(ROOT, 'examples/ovf-env.xml'); // management 192.0.2.10/24, frontend 203.0.113.10/24, VIPs .64/26
exitUnless(
  firstUnmet([
    [isRoot, 'needs root (network namespaces)'],
    [haveTool('ip', '-V'), 'iproute2 is not installed (test/run.sh installs it)'],
    [haveTool('arping', '-V'), 'arping is not installed (test/run.sh installs iputils-arping)'],
  ]),
);

const NEW = `ovactl-dad-new-${process.pid}`,
  OLD = `ovactl-dad-old-${process.pid}`;
const dir = withImage(mkdtempSync(join(tmpdir(), 'ovactl-dad-')));
const ip = (...a: string[]) => {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
ip('netns', 'add', NEW);
ip('netns', 'add', OLD);
t.teardown(() => {
  spawnSync('ip', ['netns', 'del', NEW]);
  spawnSync('ip', ['netns', 'del', OLD]);
  rmSync(dir, { recursive: true, force: true });
});
// The successor's NICs (named as the appliance names them), each wired to the old appliance's.
const WIRES = [
  ['management', 'old-mgmt', '192.0.2.10/24'],
  ['frontend', 'old-fe', '203.0.113.10/24'],
];
for (const [nic, peer, addr] of WIRES) {
  ip('-n', NEW, 'link', 'add', nic!, 'type', 'veth', 'peer', 'name', peer!, 'netns', OLD);
  ip('-n', NEW, 'addr', 'add', addr!, 'dev', nic!);
  ip('-n', NEW, 'link', 'set', nic!, 'up');
  ip('-n', OLD, 'link', 'set', peer!, 'up');
}
const macOf = (ns: string, dev: string) => JSON.parse(ip('-n', ns, '-j', 'link', 'show', dev))[0].address as string;
const oldMgmtMac = macOf(OLD, 'old-mgmt'),
  oldFeMac = macOf(OLD, 'old-fe');

const ovactl = (...args: string[]) => runCli(args, { timeoutMs: 60_000, wrap: ['ip', 'netns', 'exec', NEW] });
const status = () => JSON.parse(readFileSync(join(dir, 'var/lib/ovactl/status.json'), 'utf8'));
const issue = () => readFileSync(join(dir, 'etc/issue.d/ovactl.issue'), 'utf8');

t.test('nobody else there: the check passes and READY waits for the API as before', async (t) => {
  t.equal(ovactl('firstboot', '--env', ENV_XML, '--root', dir).code, 0);
  const r = ovactl('ready', '--env', ENV_XML, '--root', dir, '--wait', '1');
  const probed = ['192.0.2.10', '203.0.113.65', '203.0.113.126', '203.0.113.10'].join(', ');
  t.ok(r.out.includes(`address check: nobody else answers for ${probed}\n`), 'the management address, VIPs, NICs');
  t.same(
    status().errors.map((e: { rule: string }) => e.rule),
    ['dataplaneapi.not-answering'],
    'no conflict found',
  );
});

t.test('the old appliance answers: the successor takes nothing and says so', async (t) => {
  // What the old appliance holds: the same management address; the VIP range as anyip's local route.
  ip('-n', OLD, 'addr', 'add', '192.0.2.10/24', 'dev', 'old-mgmt');
  ip('-n', OLD, 'addr', 'add', '203.0.113.11/24', 'dev', 'old-fe');
  ip('-n', OLD, 'route', 'add', 'local', '203.0.113.64/26', 'dev', 'lo', 'table', 'local');
  const fb = ovactl('firstboot', '--env', ENV_XML, '--root', dir);
  t.equal(fb.code, 0);
  t.equal(status().state, 'starting', 'a boot with the same values starts over');
  const started = Date.now();
  const r = ovactl('ready', '--env', ENV_XML, '--root', dir, '--wait', '30');
  t.ok(Date.now() - started < 15_000, 'decided by the probes (about a second), not by the API wait');
  t.equal(r.code, 1, 'exit 1', { out: r.out, err: r.err });
  const said = r.out.toLowerCase(); // arping prints the MAC in capitals
  t.ok(
    said.includes(`192.0.2.10 (the management address) is answered on management by ${oldMgmtMac}`),
    "the management address, answered by the old appliance's MAC",
  );
  t.ok(
    said.includes(`203.0.113.65 (a vip of 203.0.113.64/26) is answered on frontend by ${oldFeMac}`),
    "a VIP, answered by the old appliance's frontend MAC",
  );
  t.match(r.out, /would run: systemctl stop ovactl-rhi\.service bird\.service haproxy\.service dataplaneapi\.service/);
  t.match(r.out, /anyip-routes\.service route-tables\.service\n/, 'anyip-routes: its stop withdraws the routes');
  t.match(r.out, /would withdraw the VIP routes/);
  t.match(r.out, /would run: ip addr del 192\.0\.2\.10\/24 dev management/, 'the management address given up');
  t.notMatch(r.out, /ip addr del 203\.0\.113\.10/, 'the frontend address nobody else holds is not touched');
  t.match(r.out, /NOT READY: another host answers/);
  const s = status();
  t.equal(s.state, 'error');
  const f = s.errors.find((e: { rule: string }) => e.rule === 'network.duplicate-address');
  t.ok(f, 'the finding network.duplicate-address');
  t.same(f.keys.sort(), ['loadbalance.service_ip_range', 'network.management_ip']);
  t.match(f.message, /this appliance took none of them/);
  t.match(f.hint, /an old appliance with the same values must be powered off first.*then reboot this appliance/);
  t.notOk(
    s.errors.some((e: { rule: string }) => e.rule === 'dataplaneapi.not-answering'),
    'the API was not asked',
  );
  t.match(issue(), /ADDRESS CONFLICT - another host answers for its addresses; it took none/);
  t.match(issue(), /x another host answers for this appliance's addresses: 192\.0\.2\.10/);
  t.notMatch(issue(), /you can log in/, 'the management address is not claimed as configured');
  t.match(r.out, /would publish guestinfo\.ovactl\.status/, 'guestinfo too (not the CA: nothing is served)');
  t.notMatch(r.out, /dataplaneapi\.cacert/);
});

t.test('the old appliance powered off, the successor rebooted: the check passes again', async (t) => {
  ip('-n', OLD, 'link', 'set', 'old-mgmt', 'down');
  ip('-n', OLD, 'link', 'set', 'old-fe', 'down');
  const fb = ovactl('firstboot', '--env', ENV_XML, '--root', dir);
  t.equal(fb.code, 0);
  t.equal(status().state, 'starting', "the conflict was that boot's finding: dropped");
  t.same(status().errors, []);
  const r = ovactl('ready', '--env', ENV_XML, '--root', dir, '--wait', '1');
  t.match(r.out, /address check: nobody else answers/);
  t.notOk(status().errors.some((e: { rule: string }) => e.rule === 'network.duplicate-address'));
});
