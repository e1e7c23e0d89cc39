// The live state's rules (src/live/rules.ts) and the master CLI's `show proc` (src/haproxy/master.ts):
// facts in, findings and the next status out. The rig test (test/live.test.ts) runs them for real.
import t from 'tap';
import { parseShowProc } from '../src/haproxy/master.js';
import { LIVE_RULES, liveFindings, liveStatus, RELOAD_GRACE_MS, vipBinds, type LiveFacts } from '../src/live/rules.js';
import { parseCidr, type Cidr } from '../src/net/ip.js';
import { issueText, parseStatus, statusJson, type Status } from '../src/plan/status.js';
import { error as errorFinding } from '../src/validate/finding.js';

const cidr = (s: string): Cidr => parseCidr(s) as Cidr;
const NOW = Date.parse('2026-12-06T20:00:00Z');
const CFG = [
  '# _md5hash=0123',
  '# _version=7',
  'global',
  '  master-worker',
  'defaults unnamed_defaults_1',
  '  mode tcp',
  'frontend inside',
  '  bind 198.51.100.71:6443 name inside',
  'frontend outside',
  '  bind 198.51.100.140:6443 name outside',
  '  bind 198.51.100.140:443 name outside-443',
  'frontend api-on-management',
  '  bind 192.0.2.10:9000',
  'listen stats',
  '  bind *:8404',
  '  bind 127.0.0.1:8405',
  '',
].join('\n');

const healthy = (over: Partial<LiveFacts> = {}): LiveFacts => ({
  now: NOW,
  haproxy: { up: true, failedReloads: 0, loadedAt: NOW - 60_000 },
  cfg: { text: CFG.replace(/frontend outside\n.*\n.*\n/, ''), changedAt: NOW - 120_000 },
  ranges: [cidr('198.51.100.64/26')],
  own: ['192.0.2.10', '198.51.100.1', '127.0.0.1'],
  routes: { owned: ['198.51.100.64/26'] },
  api: { ok: true },
  ...over,
});
const rules = (f: LiveFacts) => liveFindings(f).map((x) => x.rule);

t.test('a healthy appliance has no finding', async (t) => {
  t.same(liveFindings(healthy()), []);
});

t.test('a VIP outside every range is named with the range to add', async (t) => {
  const f = liveFindings(healthy({ cfg: { text: CFG, changedAt: NOW - 120_000 } }));
  t.same(
    f.map((x) => x.rule),
    ['vip.outside-ranges'],
    'one finding: the appliance address, wildcard and loopback binds are not VIPs',
  );
  t.equal(f[0]!.severity, 'warning', 'it serves the rest: degraded, not error');
  t.match(f[0]!.message, 'VIP 198.51.100.140 (frontend outside) is outside every range: clients cannot reach it');
  t.match(f[0]!.hint, 'add 198.51.100.128/26 to loadbalance.service_ip_range or to /etc/vmware/anyip-routes.cfg');
  t.same(f[0]!.keys, ['loadbalance.service_ip_range']);
  const covered = healthy({
    cfg: { text: CFG, changedAt: NOW },
    ranges: [cidr('198.51.100.64/26'), cidr('198.51.100.128/26')],
  });
  t.notOk(rules(covered).includes('vip.outside-ranges'), 'clears itself once a range covers it');
});

t.test('an unreadable haproxy.cfg is said, not skipped', async (t) => {
  const f = liveFindings(healthy({ cfg: undefined, cfgProblem: 'not a regular file' }));
  t.same(
    f.map((x) => x.rule),
    ['haproxy.config-unreadable'],
  );
  t.equal(f[0]!.severity, 'warning');
  t.match(f[0]!.message, '/etc/haproxy/haproxy.cfg cannot be read (not a regular file)');
  t.same(rules(healthy()), [], 'a readable one says nothing');
});

t.test('a thousand stray VIPs make a bounded list', async (t) => {
  const many = Array.from({ length: 1000 }, (_, i) => `frontend f${i}\n  bind 203.0.113.${i % 250}:${1000 + i}\n`);
  const f = liveFindings(healthy({ cfg: { text: many.join(''), changedAt: NOW - 120_000 } }));
  t.equal(f.length, 9, 'eight VIPs and one line for the rest');
  t.match(f.at(-1)!.message, 'and 242 more VIP(s) outside every range');
});

t.test("vipBinds groups a VIP's frontends and skips what is not a VIP", async (t) => {
  t.same(
    vipBinds('frontend a\n  bind [2001:db8::5]:443\nfrontend b\n  bind 2001:db8::5:80\n  bind :::80\n', []),
    [{ vip: '2001:db8::5', frontends: ['a', 'b'] }],
    'an IPv6 VIP with or without brackets (haproxy takes the port after the last colon); ::: is the wildcard',
  );
});

t.test('haproxy down is an error; a failed reload and a late one are degraded', async (t) => {
  const down = liveFindings(healthy({ haproxy: { up: false, why: 'its master is gone' } }));
  t.same(
    down.map((x) => [x.rule, x.severity]),
    [['haproxy.not-running', 'error']],
  );
  const failed = liveFindings(
    healthy({
      haproxy: { up: true, failedReloads: 2, loadedAt: NOW - 60_000, alert: 'cannot bind socket (EADDRINUSE)' },
      cfg: { text: CFG, changedAt: NOW - 10_000 },
      ranges: [cidr('198.51.100.0/24')],
      routes: { owned: ['198.51.100.0/24'] },
    }),
  );
  t.same(
    failed.map((x) => x.rule),
    ['haproxy.reload-failed'],
    'not also "not live": the failed reload says why',
  );
  t.match(failed[0]!.message, /last 2 reloads failed \(cannot bind socket \(EADDRINUSE\)\).*version 7 is not live/);
  const changed = (ago: number) =>
    rules(healthy({ cfg: { text: CFG.replace(/frontend outside\n.*\n.*\n/, ''), changedAt: NOW - ago } }));
  t.same(changed(RELOAD_GRACE_MS - 1000), [], 'within the reload delay a change is pending, not a finding');
  t.same(changed(90_000), [], 'a worker that started after the change serves it');
  const late = healthy({
    haproxy: { up: true, failedReloads: 0, loadedAt: NOW - RELOAD_GRACE_MS - 60_000 },
    cfg: { text: CFG.replace(/frontend outside\n.*\n.*\n/, ''), changedAt: NOW - RELOAD_GRACE_MS - 1000 },
  });
  t.same(rules(late), ['haproxy.config-not-live']);
  const restored = healthy({
    haproxy: { ...late.haproxy, loadedText: late.cfg!.text } as LiveFacts['haproxy'],
    cfg: late.cfg,
  });
  t.same(rules(restored), [], "a file written back with what serves (the API's last-known-good copy) is live");
});

t.test('routes, the API and the certificate', async (t) => {
  t.same(rules(healthy({ routes: { owned: [] } })), ['anyip.routes-differ']);
  t.match(
    liveFindings(healthy({ routes: { owned: ['198.51.100.64/26', '203.0.113.0/24'] } }))[0]!.message,
    'local routes not in /etc/vmware/anyip-routes.cfg: 203.0.113.0/24',
  );
  t.same(rules(healthy({ ranges: undefined })), ['anyip.routes-differ'], 'a missing ranges file is said');
  t.same(rules(healthy({ api: { ok: false, url: 'https://192.0.2.10:5556', reason: 'refused' } })), [
    'dataplaneapi.not-answering',
  ]);
  t.same(rules(healthy({ api: undefined })), [], 'an image without the API: first boot says so');
  t.same(rules(healthy({ certificate: 'expired' })), ['certificates.server-invalid']);
});

t.test('every rule has a distinct id, a summary and the state it leads to', async (t) => {
  const ids = LIVE_RULES.map((r) => r.id);
  t.equal(new Set(ids).size, ids.length);
  for (const r of LIVE_RULES) t.match(r.id, /^[a-z0-9-]+\.[a-z0-9.-]+$/, r.id);
});

const status = (over: Partial<Status> = {}): Status => ({
  state: 'ready',
  version: '0.1.0',
  deployment: 'default',
  errors: [],
  warnings: [],
  findings: [],
  ranges: ['198.51.100.64/26'],
  managementConfigured: true,
  ...over,
});

t.test('the state follows the findings, and the watcher leaves boot decisions alone', async (t) => {
  const degraded = liveFindings(healthy({ cfg: { text: CFG, changedAt: NOW } }));
  const down = liveFindings(healthy({ haproxy: { up: false, why: 'gone' } }));
  t.equal(liveStatus(status(), degraded, true)?.state, 'degraded');
  t.equal(liveStatus(status(), down, true)?.state, 'error');
  t.equal(liveStatus(status({ state: 'degraded', findings: degraded }), [], true)?.state, 'ready', 'recovers');
  t.equal(liveStatus(status({ state: 'starting' }), degraded, true), undefined, "starting is ready's to end");
  const invalid = status({ state: 'error', errors: [errorFinding('network.gateway', [], 'bad')] });
  t.equal(liveStatus(invalid, down, true), undefined, 'values never applied: nothing to watch');
  const notAnswering = status({
    state: 'error',
    errors: [errorFinding('dataplaneapi.not-answering', ['loadbalance.dataplane_port'], 'no answer')],
  });
  t.equal(liveStatus(notAnswering, [], true)?.state, 'ready', "the boot's not-answering clears once it answers");
  t.equal(liveStatus(notAnswering, [], false)?.state, 'error', 'and stays while it does not');
  const serving = status({
    state: 'error',
    errors: [errorFinding('network.gateway', [], 'bad')],
    serving: { appliedAt: '2026-12-01T00:00:00Z', ranges: ['198.51.100.64/26'] },
  });
  const s = liveStatus(serving, degraded, true);
  t.equal(s?.state, 'error', 'refused new values keep the state error');
  t.same(
    s?.findings?.map((f) => f.rule),
    ['vip.outside-ranges'],
    'and the live findings are listed',
  );
});

t.test('the status JSON carries the findings and reads back', async (t) => {
  const findings = liveFindings(healthy({ cfg: { text: CFG, changedAt: NOW } }));
  const s = liveStatus(status(), findings, true)!;
  const json = statusJson(s);
  const o = JSON.parse(json);
  t.same(Object.keys(o), ['state', 'version', 'deployment', 'errors', 'warnings', 'findings']);
  t.same(o.findings[0], {
    rule: 'vip.outside-ranges',
    keys: ['loadbalance.service_ip_range'],
    message: findings[0]!.message,
    hint: findings[0]!.hint,
  });
  const back = parseStatus(json, { ranges: s.ranges, managementConfigured: true });
  t.equal(back?.state, 'degraded');
  t.equal(statusJson(back!), json, 'the same bytes once read back');
  t.equal(
    parseStatus(json.replace('"findings":[', '"findings":[{"rule":"x"},'), { ranges: [], managementConfigured: true }),
    undefined,
    'a malformed finding makes the status unreadable, as for errors',
  );
});

t.test('show proc of haproxy 2.6', async (t) => {
  const text = [
    '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
    '8827            master          3 [failed: 1]   0d00h02m53s     2.6.12-1+deb12u4',
    '# workers',
    '8829            worker          1               1d01h00m17s     2.6.12-1+deb12u4',
    '# old workers',
    '8790            worker          2               0d00h05m00s     2.6.12-1+deb12u4',
    '# programs',
    '',
  ].join('\n');
  t.same(parseShowProc(text), {
    master: { pid: 8827, reloads: 3, uptimeSeconds: 173, failedReloads: 1 },
    workers: [{ pid: 8829, reloads: 1, uptimeSeconds: 90017 }],
    oldWorkers: [{ pid: 8790, reloads: 2, uptimeSeconds: 300 }],
  });
  t.equal(parseShowProc('Unknown command.\n'), undefined, 'no master line: not an answer');
  t.equal(parseShowProc(''), undefined);
});

t.test('the console says DEGRADED, or NOT SERVING, with each live finding and its fix', async (t) => {
  const degraded = liveStatus(status(), liveFindings(healthy({ cfg: { text: CFG, changedAt: NOW } })), true)!;
  const text = issueText({ ...degraded, apiUrl: 'https://192.0.2.10:5556' });
  t.match(text, /^HAProxy load-balancer appliance: DEGRADED/m);
  t.match(text, '* VIP 198.51.100.140 (frontend outside) is outside every range');
  t.match(text, 'fix: add 198.51.100.128/26');
  const down = liveStatus(status(), liveFindings(healthy({ haproxy: { up: false, why: 'gone' } })), true)!;
  const downText = issueText({ ...down, dataPlaneStarted: true });
  t.match(downText, /^HAProxy load-balancer appliance: NOT SERVING/m);
  t.notMatch(downText, /CONFIGURATION ERROR/, 'not a configuration error: the values were fine');
  t.notMatch(issueText(status()), /Found by ovactl-watch/, 'a ready appliance lists nothing');
});
