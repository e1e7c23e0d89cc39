// Two appliances (ha.*): the values' rules, what plan and first boot make of them (keepalived.conf, the
// floating API listen, the units, the certificate's names, the standby's AnyIP routes), the standby's copy
// of the active's haproxy.cfg (src/ha/sync.ts), the pair's decisions (src/ha/decide.ts), and how the live
// state and the console say the role. The rendered files go through the appliance's own haproxy -c and
// keepalived --config-test (the rig rootfs: test/helpers/appliance-programs.ts).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HA_HEALTH_FILE, HA_UNITS, KEEPALIVED_CONF } from '../src/appliance/ha.js';
import {
  API_GRACE_MS,
  decide,
  STEP_DOWN_MS,
  type Look,
  type PeerView,
  type Side,
  unhealthyReason,
} from '../src/ha/decide.js';
import { configVersion, followedConfig } from '../src/ha/sync.js';
import { liveFindings, liveStatus, type HaFacts, type LiveFacts } from '../src/live/rules.js';
import { parseCidr, type Cidr } from '../src/net/ip.js';
import { bootPlan } from '../src/plan/boot.js';
import { metricsConfig, plan } from '../src/plan/plan.js';
import { issueText, parseStatus, statusJson, type Status } from '../src/plan/status.js';
import type { Action, PlanInput } from '../src/plan/types.js';
import type { Report } from '../src/validate/validate.js';
import { appliancePrograms, applianceArgv, haproxyCheck } from './helpers/appliance-programs.js';
import { FIRST_BOOT_FACTS, PLAN_FACTS } from './helpers/facts.js';
import { hostEnv } from './helpers/rig/procs.js';
import { skipUnless } from './helpers/root.js';
import { check, ROOT, rulesOf, valuesOf } from './helpers/values.js';

// Recognisable secrets: no finding, file or step may carry them.
const SECRETS = { 'appliance.root_pwd': 'Root-Pw-Pair-26', 'loadbalance.haproxy_pwd': 'Api-Pw-Pair-26' };
const CA = {
  'appliance.ca_cert': readFileSync(join(ROOT, 'test/fixtures/syslog-ca.crt'), 'utf8'),
  'appliance.ca_cert_key': readFileSync(join(ROOT, 'test/fixtures/syslog-ca.key'), 'utf8'),
};
/** A PEM body line of the CA's private key: it must appear nowhere either. */
const KEY_LINE = CA['appliance.ca_cert_key'].split('\n').find((l) => /^[A-Za-z0-9+/]{40,}$/.test(l))!;
// Appliance A of a pair (examples/appliance.json's networks: management 192.0.2.0/24, gateway .1).
const PAIR = {
  ...SECRETS,
  ...CA,
  'network.management_ip': '192.0.2.11/24',
  'ha.address': '192.0.2.20',
  'ha.peers': '192.0.2.12',
};

const findingsOf = (r: Report) => [...r.errors, ...r.warnings];
const haRules = (r: Report) => rulesOf(r).filter((id) => id.startsWith('ha.') || id === 'integer.range');

t.test('validation: a valid pair has no finding; the parsed values are what plan reads', async (t) => {
  const r = await check(PAIR);
  t.same(rulesOf(r), [], 'no finding at all');
  t.ok(r.valid);
  t.same(valuesOf(r).ha, { address: '192.0.2.20', peers: ['192.0.2.12'], priority: 100, vrid: 51 }, 'the defaults');
  const three = await check({ ...PAIR, 'ha.peers': '192.0.2.12, 192.0.2.13', 'ha.priority': '1', 'ha.vrid': '255' });
  t.same(rulesOf(three), [], 'three appliances, the ends of both ranges');
  t.same(valuesOf(three).ha, { address: '192.0.2.20', peers: ['192.0.2.12', '192.0.2.13'], priority: 1, vrid: 255 });
  const single = await check(SECRETS);
  t.same(rulesOf(single), [], 'a single appliance needs no CA and no ha value');
  t.equal(valuesOf(single).ha, undefined, 'and has no pair values');
});

interface Bad {
  readonly why: string;
  readonly values: Record<string, string | null>;
  readonly rule: string;
  readonly keys: readonly string[];
  readonly message: RegExp;
}

const BAD: readonly Bad[] = [
  {
    why: 'an address without peers',
    values: { ...PAIR, 'ha.peers': '' },
    rule: 'ha.incomplete',
    keys: ['ha.address', 'ha.peers'],
    message: /^ha\.address is set but ha\.peers is not/,
  },
  {
    why: 'peers without an address',
    values: { ...PAIR, 'ha.address': '' },
    rule: 'ha.incomplete',
    keys: ['ha.peers', 'ha.address'],
    message: /^ha\.peers is set but ha\.address is not/,
  },
  {
    why: 'a DHCP management NIC',
    values: { ...PAIR, 'network.management_ip': '', 'network.management_gateway': '' },
    rule: 'ha.management-static',
    keys: ['network.management_ip', 'ha.address'],
    message: /static management address \(network\.management_ip is blank: DHCP\)/,
  },
  {
    why: 'a floating address outside the management network',
    values: { ...PAIR, 'ha.address': '198.51.100.20' },
    rule: 'ha.address-network',
    keys: ['ha.address', 'network.management_ip'],
    message: /^ha\.address 198\.51\.100\.20 is not in the management network 192\.0\.2\.11\/24$/,
  },
  {
    why: 'an IPv6 floating address on an IPv4 management network',
    values: { ...PAIR, 'ha.address': '2001:db8::20' },
    rule: 'ha.address-network',
    keys: ['ha.address', 'network.management_ip'],
    message: /^ha\.address 2001:db8::20 is not in the management network/,
  },
  {
    why: "the floating address is the appliance's own",
    values: { ...PAIR, 'ha.address': '192.0.2.11' },
    rule: 'ha.address-taken',
    keys: ['ha.address', 'network.management_ip'],
    message: /192\.0\.2\.11 is this appliance's management address/,
  },
  {
    why: 'the floating address is the gateway',
    values: { ...PAIR, 'ha.address': '192.0.2.1' },
    rule: 'ha.address-taken',
    keys: ['ha.address', 'network.management_gateway'],
    message: /192\.0\.2\.1 is the management gateway/,
  },
  {
    why: 'the floating address is a peer',
    values: { ...PAIR, 'ha.address': '192.0.2.12' },
    rule: 'ha.address-taken',
    keys: ['ha.address', 'ha.peers'],
    message: /192\.0\.2\.12 is also listed in ha\.peers/,
  },
  {
    why: 'a peer by name',
    values: { ...PAIR, 'ha.peers': '192.0.2.12, appliance-b' },
    rule: 'ha.peer-syntax',
    keys: ['ha.peers'],
    message: /^ha\.peers entry "appliance-b" is not an IP address$/,
  },
  {
    why: 'a peer outside the management network',
    values: { ...PAIR, 'ha.peers': '198.51.100.12' },
    rule: 'ha.peer-network',
    keys: ['ha.peers', 'network.management_ip'],
    message: /198\.51\.100\.12 is not in the management network 192\.0\.2\.11\/24/,
  },
  {
    why: 'a peer that is the management gateway',
    values: { ...PAIR, 'ha.peers': '192.0.2.12, 192.0.2.1' },
    rule: 'ha.peer-own',
    keys: ['ha.peers', 'network.management_gateway'],
    message: /192\.0\.2\.1 is the management gateway/,
  },
  {
    why: "a peer that is this appliance's management address",
    values: { ...PAIR, 'ha.peers': '192.0.2.11' },
    rule: 'ha.peer-own',
    keys: ['ha.peers', 'network.management_ip'],
    message: /192\.0\.2\.11 is this appliance's management address/,
  },
  {
    why: 'a peer listed twice',
    values: { ...PAIR, 'ha.peers': '192.0.2.12, 192.0.2.13, 192.0.2.12' },
    rule: 'ha.peer-duplicate',
    keys: ['ha.peers'],
    message: /^ha\.peers lists 192\.0\.2\.12 twice$/,
  },
  {
    why: 'no given CA',
    values: { ...PAIR, 'appliance.ca_cert': null, 'appliance.ca_cert_key': null },
    rule: 'ha.ca-required',
    keys: ['appliance.ca_cert', 'appliance.ca_cert_key', 'ha.address'],
    message: /two appliances need the same CA/,
  },
  {
    why: 'priority 0',
    values: { ...PAIR, 'ha.priority': '0' },
    rule: 'integer.range',
    keys: ['ha.priority'],
    message: /^ha\.priority = 0 is outside 1–254$/,
  },
  {
    why: 'priority 255',
    values: { ...PAIR, 'ha.priority': '255' },
    rule: 'integer.range',
    keys: ['ha.priority'],
    message: /^ha\.priority = 255 is outside 1–254$/,
  },
  {
    why: 'router ID 256',
    values: { ...PAIR, 'ha.vrid': '256' },
    rule: 'integer.range',
    keys: ['ha.vrid'],
    message: /^ha\.vrid = 256 is outside 1–255$/,
  },
  {
    why: 'a router ID that is no number',
    values: { ...PAIR, 'ha.vrid': 'abc' },
    rule: 'integer.range',
    keys: ['ha.vrid'],
    message: /^ha\.vrid = "abc" is not a whole number$/,
  },
];

t.test('validation: each ha rule fires on its mistake, alone, naming the values and a fix', async (t) => {
  for (const b of BAD) {
    const r = await check(b.values);
    t.equal(r.valid, false, `${b.why}: invalid`);
    t.same(haRules(r), [b.rule], `${b.why}: ${b.rule}, and no other pair rule`);
    const f = findingsOf(r).find((x) => x.rule === b.rule);
    t.same(f?.keys, b.keys, `${b.why}: the keys named`);
    t.match(f?.message, b.message, `${b.why}: the message`);
    t.match(f?.hint, /\S{3}/, `${b.why}: a fix`);
    for (const x of findingsOf(r))
      for (const secret of [...Object.values(SECRETS), KEY_LINE])
        t.notOk(`${x.message} ${x.hint ?? ''}`.includes(secret), `${b.why}: ${x.rule} says no secret`);
  }
});

t.test('validation: a floating address that is no address is said once', async (t) => {
  for (const bad of ['floating', '192.0.2.20/24']) {
    const r = await check({ ...PAIR, 'ha.address': bad });
    const about = findingsOf(r).filter((f) => f.keys.includes('ha.address'));
    t.same(
      about.map((f) => f.rule),
      ['gateway.syntax'],
      `${bad}: one finding (the address syntax), not a second from ha.address-network`,
    );
  }
  // The hint's example is the property's own, from the property table.
  const named = findingsOf(await check({ ...PAIR, 'ha.address': 'floating' })).find((f) => f.rule === 'gateway.syntax');
  t.match(named?.hint, /e\.g\. 192\.0\.2\.20$/);
  const gw = findingsOf(await check({ ...PAIR, 'network.workload_gateway': 'router' })).find(
    (f) => f.rule === 'gateway.syntax',
  );
  t.match(gw?.hint, /e\.g\. 198\.51\.100\.1$/);
});

t.test('validation: a VIP range may contain neither the floating address nor a peer', async (t) => {
  const floating = await check({ ...PAIR, 'loadbalance.service_ip_range': '192.0.2.16/28' });
  const a = findingsOf(floating).filter((f) => f.rule === 'vip.contains-infrastructure');
  t.same(
    a.map((f) => f.keys),
    [['loadbalance.service_ip_range', 'ha.address']],
  );
  t.match(a[0]?.message, /contains the floating management address 192\.0\.2\.20 \(ha\.address\)/);
  const peer = await check({ ...PAIR, 'loadbalance.service_ip_range': '192.0.2.12/30' });
  const b = findingsOf(peer).filter((f) => f.rule === 'vip.contains-infrastructure');
  t.same(
    b.map((f) => f.keys),
    [['loadbalance.service_ip_range', 'ha.peers']],
  );
  t.match(b[0]?.message, /contains a peer appliance's management address 192\.0\.2\.12 \(ha\.peers\)/);
  t.same(
    findingsOf(await check({ ...PAIR, 'loadbalance.service_ip_range': '192.0.2.32/28' })).map((f) => f.rule),
    [],
    'a range of the management network beside them is fine',
  );
});

// ─── plan and first boot ──────────────────────────────────────────────────────────────────────────────

const planOf = async (values: Record<string, string | null>) => {
  const input: PlanInput = {
    properties: valuesOf(await check(values)),
    deployment: 'default',
    facts: PLAN_FACTS,
    scope: 'full',
  };
  return { input, plan: plan(input) };
};
const unitActions = (actions: readonly Action[]) =>
  actions.flatMap((a) =>
    a.kind === 'enable-start'
      ? [`enable-start ${a.unit}`]
      : a.kind === 'disable-stop'
        ? [`disable-stop ${a.units}`]
        : [],
  );

t.test('plan with a pair: keepalived.conf, both units, the floating API, the certificate', async (t) => {
  const { plan: p } = await planOf({
    ...PAIR,
    'ha.peers': '192.0.2.12, 192.0.2.13',
    'ha.priority': '150',
    'ha.vrid': '42',
  });
  const conf = p.files.find((f) => f.path === KEEPALIVED_CONF);
  t.ok(conf, `${KEEPALIVED_CONF} is planned`);
  const text = conf?.content ?? '';
  t.same(conf?.restarts, ['keepalived.service', 'ovactl-ha.service'], 'a change restarts keepalived and ovactl-ha');
  for (const path of [
    '/etc/haproxy/dataplaneapi-users.cfg',
    '/etc/haproxy/dataplaneapi.yaml',
    '/etc/vmware/anyip-routes.cfg',
  ])
    t.ok(
      p.files.find((f) => f.path === path)?.restarts.includes('ovactl-ha.service'),
      `a change of ${path} restarts ovactl-ha (it reads the values at its start)`,
    );
  t.match(text, /^\s+virtual_router_id 42$/m);
  t.match(text, /^\s+priority 150$/m);
  t.match(text, /^\s+unicast_src_ip 192\.0\.2\.11$/m, 'VRRP from the own management address');
  t.match(text, /unicast_peer \{\n\s+192\.0\.2\.12\n\s+192\.0\.2\.13\n\s+\}/, 'every peer, in order');
  t.match(text, /^\s+192\.0\.2\.20\/24 dev management$/m, 'the floating address with the management prefix');
  t.match(text, /^\s+state BACKUP$/m);
  t.match(text, /^\s+nopreempt$/m);
  t.match(text, new RegExp(`^\\s+file ${HA_HEALTH_FILE}$`, 'm'), 'the health file ovactl-ha.service writes');
  t.match(text, /track_file \{\n\s+ovactl_health\n\s+\}/, 'the instance tracks it');
  t.notMatch(text, /\b(notify|script)\b.*\//, 'no script runs');

  const units = unitActions(p.actions);
  for (const unit of HA_UNITS) t.ok(units.includes(`enable-start ${unit}`), `${unit} is enabled and started`);
  t.notOk(
    units.some((u) => u.startsWith('disable-stop') && HA_UNITS.some((h) => u.includes(h))),
    'and not stopped too',
  );

  const metrics = p.files.find((f) => f.path === '/etc/haproxy/ovactl-metrics.cfg')?.content ?? '';
  const listen = /^listen ovactl_api_floating\n((?:\s+.*\n)+)/m.exec(metrics)?.[1] ?? '';
  t.match(listen, /^\s+bind 192\.0\.2\.20:5556$/m, 'the floating address, on the Data Plane API port');
  t.match(listen, /^\s+server api 192\.0\.2\.11:5556$/m, 'forwarded to the API on the own address');
  t.match(listen, /^\s+mode tcp$/m, 'TLS passes through');

  const cert = p.actions.find((a) => a.kind === 'issue-certificates');
  t.same(
    cert?.kind === 'issue-certificates' && cert.ips,
    ['192.0.2.11', '192.0.2.20', '127.0.0.1'],
    'the certificate names the floating address',
  );
  t.equal(cert?.kind === 'issue-certificates' && cert.givenCa, true, 'of the given CA');
  const all = JSON.stringify(p);
  for (const secret of [...Object.values(SECRETS), KEY_LINE]) t.notOk(all.includes(secret), 'no secret in the plan');
});

t.test('plan without a pair: no keepalived.conf, both units stopped, no floating listen', async (t) => {
  const { plan: p } = await planOf(SECRETS);
  t.notOk(
    p.files.some((f) => f.path === KEEPALIVED_CONF),
    'no keepalived.conf',
  );
  t.same(
    p.actions.filter(
      (a) => a.kind === 'disable-stop' && a.units.some((u) => (HA_UNITS as readonly string[]).includes(u)),
    ),
    [{ kind: 'disable-stop', units: ['ovactl-ha.service', 'keepalived.service'] }],
    'both stopped and disabled',
  );
  t.notOk(
    unitActions(p.actions).some((u) => u.startsWith('enable-start') && HA_UNITS.some((h) => u.endsWith(h))),
    'neither started',
  );
  const metrics = p.files.find((f) => f.path === '/etc/haproxy/ovactl-metrics.cfg')?.content ?? '';
  t.notMatch(metrics, /ovactl_api_floating|^listen /m, 'no floating listen');
  const cert = p.actions.find((a) => a.kind === 'issue-certificates');
  t.same(cert?.kind === 'issue-certificates' && cert.ips, ['192.0.2.10', '127.0.0.1']);
  const noKeepalived = plan({
    properties: valuesOf(await check(SECRETS)),
    deployment: 'default',
    facts: { ...PLAN_FACTS, keepalivedInstalled: false },
    scope: 'full',
  });
  t.same(
    noKeepalived.actions.filter((a) => a.kind === 'disable-stop' && a.units.includes('ovactl-ha.service')),
    [{ kind: 'disable-stop', units: ['ovactl-ha.service'] }],
    'keepalived only where it is installed',
  );
});

t.test(
  'first boot: a pair without route health injection withholds the VIP routes unless it holds the address',
  async (t) => {
    const steps = async (values: Record<string, string>) =>
      bootPlan({ report: await check(values), version: 'test', facts: FIRST_BOOT_FACTS }).steps.filter(
        (s) => s.kind === 'converge-anyip',
      );
    t.same(await steps(PAIR), [{ kind: 'converge-anyip', bestEffort: false, standbyUnless: '192.0.2.20' }]);
    const rhi = { 'rhi.enabled': 'True', 'rhi.local_as': '65010', 'rhi.peers': '198.51.100.1:65001' };
    t.same(
      await steps({ ...PAIR, ...rhi }),
      [{ kind: 'converge-anyip', bestEffort: false }],
      'with route health injection every appliance keeps its routes',
    );
    t.same(await steps(SECRETS), [{ kind: 'converge-anyip', bestEffort: false }], 'a single appliance keeps them');
  },
);

t.test('first boot: a pair on an image without keepalived is an error, and its units are not enabled', async (t) => {
  const plan = bootPlan({
    report: await check(PAIR),
    version: 'test',
    facts: { ...FIRST_BOOT_FACTS, keepalivedInstalled: false },
  });
  const status = plan.steps.find((s) => s.kind === 'write-status');
  t.match(
    status && 'status' in status ? status.status.errors.map((e) => e.rule) : [],
    ['ha.keepalived-missing'],
    'the error says keepalived is missing',
  );
  const enabled = plan.steps.flatMap((s) => (s.kind === 'systemctl' && s.args[0] === 'enable' ? s.args : []));
  t.ok(enabled.includes('haproxy.service'), 'the data plane is still enabled');
  t.notOk(enabled.includes('keepalived.service') || enabled.includes('ovactl-ha.service'), 'the pair units are not');
});

// The appliance's programs on the rendered files (root, the rig rootfs).
const noPrograms = await appliancePrograms();
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-ha-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

t.test(
  "the appliance's haproxy -c takes ovactl-metrics.cfg with the floating listen",
  { skip: skipUnless(noPrograms) },
  async (t) => {
    const { input, plan: p } = await planOf(PAIR);
    const cfg = join(scratch, 'haproxy.cfg');
    writeFileSync(cfg, p.files.find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content);
    const metrics = join(scratch, 'ovactl-metrics.cfg');
    const rendered = metricsConfig(input).cfg;
    t.match(rendered, /^listen ovactl_api_floating$/m, 'the file checked holds the listen');
    writeFileSync(metrics, rendered);
    const r = haproxyCheck([cfg, metrics]);
    t.ok(r.valid, 'valid', { stderr: r.stderr });
    t.same(r.warnings, [], 'no warning');
    // The check sees a broken listen (so the pass above means something).
    writeFileSync(metrics, rendered.replace(/server api \S+/, 'server api 192.0.2.11:notaport'));
    t.notOk(haproxyCheck([cfg, metrics]).valid, 'a broken server line fails');
  },
);

/** keepalived --config-test of FILE in a network namespace of its own that has a NIC named management. */
function keepalivedTest(file: string): { status: number | null; out: string } {
  const argv = applianceArgv('keepalived', ['--config-test', '-f', file]);
  const r = spawnSync(
    'unshare',
    [
      '--net',
      'bash',
      '-c',
      'ip link add management type veth peer name ovactl-peer && ip link set management up && exec "$@"',
      'keepalived-test',
      ...argv,
    ],
    { encoding: 'utf8', env: hostEnv(), timeout: 60_000 },
  );
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}` };
}

t.test(
  "the appliance's keepalived --config-test takes keepalived.conf",
  { skip: skipUnless(noPrograms) },
  async (t) => {
    const { plan: p } = await planOf({ ...PAIR, 'ha.peers': '192.0.2.12, 192.0.2.13' });
    // The health file where the test can make it: keepalived drops a track file whose folder is missing.
    const health = join(scratch, 'ha-health');
    writeFileSync(health, '0\n');
    const conf = join(scratch, 'keepalived.conf');
    const text = p.files.find((f) => f.path === KEEPALIVED_CONF)!.content;
    t.ok(text.includes(HA_HEALTH_FILE));
    writeFileSync(conf, text.replaceAll(HA_HEALTH_FILE, health));
    const ok = keepalivedTest(conf);
    t.equal(ok.status, 0, 'keepalived 2.3 accepts it', { output: ok.out });
    t.notMatch(ok.out, /WARNING|not found|ignoring/i, 'and says nothing about it');
    // The check sees a broken file (so the pass above means something).
    writeFileSync(
      conf,
      text.replaceAll(HA_HEALTH_FILE, health).replace(/virtual_router_id \d+/, 'virtual_router_id 300'),
    );
    t.not(keepalivedTest(conf).status, 0, 'a router ID out of range fails');
  },
);

// ─── the standby's copy of the active's haproxy.cfg ───────────────────────────────────────────────────

const REC = (name: string) => readFileSync(join(ROOT, 'test/fixtures/dataplaneapi-rewrites', name), 'utf8');
const ACTIVE = REC('04-api-third-service-one-request-each.cfg'); // version 9, three services
const md5Valid = (text: string) => {
  const [first, ...rest] = text.split('\n');
  return first === `# _md5hash=${createHash('md5').update(rest.join('\n')).digest('hex')}`;
};
/** The sections of a file by their header line, with their text (up to the next header). */
const sectionsOf = (text: string): Map<string, string> =>
  new Map(
    text
      .split(/\n(?=[a-z])/)
      .filter((s) => /^(global|defaults|frontend|backend|listen)\b/.test(s))
      .map((s) => [s.split('\n')[0]!, s.trimEnd()]),
  );

t.test('configVersion reads the Data Plane API header', async (t) => {
  t.equal(configVersion(ACTIVE), 9);
  t.equal(configVersion(REC('02-api-first-service-fresh-api.cfg')), 2);
  t.equal(configVersion(REC('00-ovactl-first-boot.cfg')), undefined, "ovactl's first file has no header");
  t.equal(configVersion(undefined), undefined);
  t.equal(configVersion('# _version=twelve\n'), undefined);
});

t.test("a standby follows the active: the control plane's sections byte for byte, its own kept", async (t) => {
  t.ok(md5Valid(ACTIVE), "the recording's md5 is the API's own (the helper is right)");
  for (const current of ['00-ovactl-first-boot.cfg', '02-api-first-service-fresh-api.cfg']) {
    const r = followedConfig({ activeRaw: ACTIVE, activeVersion: 9, current: REC(current) });
    t.ok(r, `${current}: a new file`);
    t.equal(r?.content, ACTIVE, `${current}: own sections of the same meaning: the active's file, header included`);
    t.same(
      r?.sections,
      [...sectionsOf(ACTIVE).keys()].filter((h) => !/^(global|defaults)/.test(h)).map((h) => h.replace(/ from .*/, '')),
      `${current}: the control plane's sections`,
    );
  }
  // Its own global differs in meaning (a VM of another size): kept; every other section is the active's.
  const own = REC('02-api-first-service-fresh-api.cfg').replace('maxconn 29000', 'maxconn 12000');
  const r = followedConfig({ activeRaw: ACTIVE, activeVersion: 9, current: own })!;
  const got = sectionsOf(r.content);
  const want = sectionsOf(ACTIVE);
  t.match(got.get('global'), /^\s+maxconn 12000$/m, 'this appliance keeps its own global');
  t.notMatch(got.get('global'), /maxconn 29000/);
  t.same([...got.keys()], [...want.keys()], 'the same sections, in the same order');
  for (const [header, text] of want)
    if (header !== 'global') t.equal(got.get(header), text, `${header}: the active's bytes`);
  t.equal(configVersion(r.content), 9, "the active's version");
  t.ok(md5Valid(r.content), 'an md5 the local Data Plane API takes as its own save (it leaves the file alone)');
  t.equal(r.content.match(/^# _md5hash=/gm)?.length, 1, 'one md5 line');
  t.equal(r.content.match(/^# _version=/gm)?.length, 1, 'one version line');
  t.equal(
    followedConfig({ activeRaw: ACTIVE, activeVersion: 9, current: r.content }),
    undefined,
    'and nothing to do once it holds that',
  );
});

t.test('a standby that already holds the active configuration writes nothing', async (t) => {
  t.equal(followedConfig({ activeRaw: ACTIVE, activeVersion: 9, current: ACTIVE }), undefined);
  const first = followedConfig({ activeRaw: ACTIVE, activeVersion: 9, current: undefined });
  t.equal(first?.content, ACTIVE, 'no haproxy.cfg yet: the active file as it is');
  const newer = followedConfig({
    activeRaw: REC('06-api-watch-after-external-edit.cfg'),
    activeVersion: 10,
    current: ACTIVE,
  });
  t.ok(newer, 'a newer version of the active: a new file');
  t.equal(configVersion(newer?.content), 10);
  t.ok(md5Valid(newer!.content));
});

t.test('hostile input: a raw configuration of 2 MB of garbage or sections returns', async (t) => {
  const mb2 = (unit: (i: number) => string) => {
    let s = '';
    for (let i = 0; s.length < 2_000_000; i++) s += unit(i);
    return s;
  };
  const inputs = {
    garbage: mb2((i) => `\t}{ "garbage ${i} \\ # _version=x\n`),
    sections: mb2((i) => `backend b${i}\n`),
    owned: mb2(() => 'global\ndefaults\n'),
    'one line': 'x'.repeat(2_000_000),
    'version lines': mb2(() => '# _version=1\n'),
  };
  for (const [name, raw] of Object.entries(inputs)) {
    const r = followedConfig({ activeRaw: raw, activeVersion: 3, current: ACTIVE });
    t.ok(r === undefined || typeof r.content === 'string', `${name}: returns`);
    followedConfig({ activeRaw: ACTIVE, activeVersion: 9, current: raw });
    t.pass(`${name} as the current file: returns`);
  }
});

// ─── the pair's decisions ─────────────────────────────────────────────────────────────────────────────

const NOW = 1_000_000;
const side = (over: Partial<Side> = {}): Side => ({
  role: 'standby',
  version: 9,
  activeFrom: undefined,
  activeTo: undefined,
  digest: 'd1',
  ...over,
});
const peer = (seen: Side | { error: string }, address = '192.0.2.12'): PeerView => ({ address, seen });
const look = (over: Partial<Look> = {}): Look => ({
  now: NOW,
  self: side(),
  peers: [peer(side({ role: 'active', activeFrom: NOW - 60_000 }))],
  unhealthy: undefined,
  stepDownUntil: undefined,
  ...over,
});

t.test('decide: a healthy standby follows the active and may take over', async (t) => {
  t.same(decide(look()), { mayBeActive: true, stepDownUntil: undefined, follow: true, problems: [] });
  const active = decide(look({ self: side({ role: 'active', activeFrom: NOW - 60_000 }), peers: [peer(side())] }));
  t.same(
    active,
    { mayBeActive: true, stepDownUntil: undefined, follow: false, problems: [] },
    'the active follows nobody',
  );
  const unhealthy = decide(look({ unhealthy: 'haproxy is not running' }));
  t.equal(unhealthy.mayBeActive, false, 'unhealthy: keepalived puts it in FAULT');
  t.same(unhealthy.problems, []);
  const lone = decide(look({ peers: [peer({ error: 'connection refused' })] }));
  t.same(lone, { mayBeActive: true, stepDownUntil: undefined, follow: true, problems: [] }, 'an unreachable peer');
});

t.test('decide: a split brain, settled by the configuration version', async (t) => {
  const self = side({ role: 'active', version: 9, activeFrom: NOW - 10_000 });
  const rival = side({ role: 'active', version: 12, activeFrom: NOW - 8_000 });
  const lost = decide(look({ self, peers: [peer(rival)] }));
  t.equal(lost.stepDownUntil, NOW + STEP_DOWN_MS, 'the older version steps down');
  t.equal(lost.mayBeActive, false);
  t.equal(lost.follow, false, 'while it is active it follows nobody');
  t.same(
    lost.problems.map((p) => p.rule),
    ['ha.split-brain'],
  );
  t.match(lost.problems[0]?.message, /versions 9 and 12\): this one steps down and follows 192\.0\.2\.12/);
  t.match(lost.problems[0]?.hint, /changes the Supervisor made here during the split are lost/);
  const later = decide(
    look({
      now: NOW + 1000,
      self: side({ role: 'fault', version: 9, activeFrom: NOW - 10_000, activeTo: NOW + 500 }),
      peers: [peer(rival)],
      stepDownUntil: lost.stepDownUntil,
    }),
  );
  t.equal(later.stepDownUntil, NOW + STEP_DOWN_MS, 'the step-down stays in force');
  t.equal(later.mayBeActive, false);
  t.equal(later.follow, true, 'and it follows the winner');
  const over = decide(
    look({
      now: NOW + STEP_DOWN_MS + 1,
      self: side({ version: 12, activeFrom: NOW - 10_000, activeTo: NOW + 500 }),
      peers: [peer(rival)],
      stepDownUntil: lost.stepDownUntil,
    }),
  );
  t.equal(over.stepDownUntil, undefined, 'it ends');
  t.equal(over.mayBeActive, true);

  const won = decide(look({ self: rival, peers: [peer(self)] }));
  t.equal(won.stepDownUntil, undefined, 'the newer version stays active');
  t.equal(won.mayBeActive, true);
  t.same(
    won.problems.map((p) => p.rule),
    ['ha.split-brain'],
    'and says so',
  );
  t.match(
    won.problems[0]?.message,
    /versions 12 and 9\): this one holds the newer configuration and stays active; 192\.0\.2\.12 steps down$/,
  );

  // VRRP already made the newer one standby: it waits for the older one to step down, and does not follow it.
  const newerStandby = side({ role: 'standby', version: 12, activeFrom: NOW - 8_000, activeTo: NOW - 1000 });
  const waits = decide(look({ self: newerStandby, peers: [peer(self)] }));
  t.equal(waits.follow, false, 'the newer configuration is not overwritten with the older one');
  t.equal(waits.mayBeActive, true, 'it may take over');
  t.match(waits.problems[0]?.message, /holds the newer configuration and waits for 192\.0\.2\.12 to step down/);
});

t.test('decide: equal versions and short handovers are no reason to step down', async (t) => {
  const a = side({ role: 'active', version: 9, activeFrom: NOW - 10_000 });
  const b = side({ role: 'active', version: 9, activeFrom: NOW - 8_000 });
  const equal = decide(look({ self: a, peers: [peer(b)] }));
  t.equal(equal.stepDownUntil, undefined, 'equal versions: VRRP decides');
  t.equal(equal.mayBeActive, true);
  t.match(equal.problems[0]?.message, /VRRP decides which one stays active/);
  t.match(equal.problems[0]?.hint, /IP protocol 112/);
  // A handover: the old active let go 1 s after the new one took the address.
  const old = side({ role: 'standby', version: 12, activeFrom: NOW - 60_000, activeTo: NOW - 4_000 });
  const handover = decide(
    look({ self: side({ role: 'active', version: 9, activeFrom: NOW - 5_000 }), peers: [peer(old)] }),
  );
  t.same(
    handover,
    { mayBeActive: true, stepDownUntil: undefined, follow: false, problems: [] },
    'overlap 1 s: no split',
  );
  const edge = side({ role: 'active', version: 12, activeFrom: NOW - 1_500 });
  t.same(
    decide(look({ self: side({ role: 'active', version: 9, activeFrom: NOW - 60_000 }), peers: [peer(edge)] }))
      .problems,
    [],
    'both active for exactly 1.5 s: not yet a split brain',
  );
});

t.test('decide: a split brain settled long ago is no reason to step down later', async (t) => {
  // W has been active for 20 minutes; L was active too for 100 s ten minutes ago, then stepped down.
  const w = side({ role: 'active', version: 13, activeFrom: NOW - 1_200_000 });
  const l = side({ role: 'standby', version: 14, activeFrom: NOW - 700_000, activeTo: NOW - 600_000 });
  t.equal(
    decide(look({ self: w, peers: [peer(l)] })).stepDownUntil,
    undefined,
    'the active does not step down for a split settled 10 minutes ago',
  );
  t.equal(decide(look({ self: l, peers: [peer(w)] })).follow, true, 'the standby follows it');
  // The same periods, the split having ended 10 s ago: it still counts (it is being settled).
  const recent = side({ role: 'standby', version: 14, activeFrom: NOW - 100_000, activeTo: NOW - 10_000 });
  t.ok(decide(look({ self: w, peers: [peer(recent)] })).stepDownUntil, 'a split that ended 10 s ago still counts');
});

t.test('decide: a peer deployed with other pair values', async (t) => {
  const d = decide(look({ peers: [peer(side({ role: 'active', activeFrom: NOW - 60_000, digest: 'other' }))] }));
  t.same(
    d.problems.map((p) => p.rule),
    ['ha.values-differ'],
  );
  t.match(d.problems[0]?.message, /^peer 192\.0\.2\.12 was deployed with other pair values/);
  t.equal(d.follow, true, 'it still follows (the values differ, the configuration is the Supervisor’s)');
});

// ─── the live state and the console ───────────────────────────────────────────────────────────────────

const cidr = (s: string): Cidr => parseCidr(s) as Cidr;
const LIVE_NOW = Date.parse('2026-12-06T20:00:00Z');
const facts = (ha: HaFacts | undefined, owned: readonly string[]): LiveFacts => ({
  now: LIVE_NOW,
  haproxy: { up: true, failedReloads: 0, loadedAt: LIVE_NOW - 60_000 },
  cfg: { text: 'global\n  master-worker\n', changedAt: LIVE_NOW - 120_000 },
  ranges: [cidr('198.51.100.64/26')],
  own: ['192.0.2.11', '198.51.100.10', '127.0.0.1'],
  routes: { owned },
  api: { ok: true },
  ...(ha ? { ha } : {}),
});
const HA: HaFacts = {
  role: 'standby',
  address: '192.0.2.20',
  follows: '192.0.2.20',
  version: 7,
  activeVersion: 9,
  behind: 2,
  withheld: true,
  problems: [],
};
const status = (over: Partial<Status> = {}): Status => ({
  state: 'ready',
  version: '0.1.0',
  deployment: 'default',
  errors: [],
  warnings: [],
  findings: [],
  apiUrl: 'https://192.0.2.11:5556',
  ranges: ['198.51.100.64/26'],
  managementConfigured: true,
  ...over,
});

t.test('live: a standby withholds the AnyIP routes on purpose; an active must have them', async (t) => {
  const rules = (f: LiveFacts) => liveFindings(f).map((x) => x.rule);
  t.same(rules(facts(HA, [])), [], 'a standby without routes: fine');
  t.same(rules(facts({ ...HA, role: 'active', withheld: false }, [])), ['anyip.routes-differ'], 'an active without');
  t.same(rules(facts({ ...HA, role: 'active', withheld: false }, ['198.51.100.64/26'])), [], 'an active with them');
  t.same(rules(facts(undefined, [])), ['anyip.routes-differ'], 'a single appliance without');
  const extra = liveFindings(facts(HA, ['198.51.100.64/26']));
  t.same(
    extra.map((x) => x.rule),
    ['anyip.routes-differ'],
    'a standby that still has them',
  );
  t.match(extra[0]?.message, /198\.51\.100\.64\/26/);
  t.notMatch(extra[0]?.message, /not in \/etc\/vmware\/anyip-routes\.cfg/, 'not said to be missing from the file');
});

t.test("live: the pair's problems are warnings, and the status carries the role", async (t) => {
  const problems = [
    { rule: 'ha.peer-unreachable', message: 'peer 192.0.2.12 does not answer on port 5557: connection refused' },
    { rule: 'ha.split-brain', message: 'split brain: …', hint: 'check VRRP' },
    { rule: 'ha.unknown-rule', message: 'not a rule of the table' },
  ];
  const ha: HaFacts = { ...HA, problems };
  const found = liveFindings(facts(ha, []));
  t.same(
    found.map((f) => [f.rule, f.severity, f.keys]),
    [
      ['ha.peer-unreachable', 'warning', ['ha.address']],
      ['ha.split-brain', 'warning', ['ha.address']],
    ],
    'each known problem a warning on ha.address; an unknown rule id is not reported',
  );
  t.equal(found[1]?.hint, 'check VRRP');
  const s = liveStatus(status(), found, true, ha)!;
  t.equal(s.state, 'degraded', 'the pair is degraded, the appliance serves');
  t.same(s.ha, {
    role: 'standby',
    address: '192.0.2.20',
    follows: '192.0.2.20',
    version: 7,
    activeVersion: 9,
    behind: 2,
  });
  const healthy = liveStatus(status({ ha: { role: 'active', address: '192.0.2.20' } }), [], true, undefined)!;
  t.equal(healthy.state, 'ready');
  t.equal(healthy.ha, undefined, 'ovactl-ha.service gone: the old role is not shown as current');
});

t.test('status JSON: the ha block round-trips; a malformed one is dropped', async (t) => {
  const s = status({
    ha: { role: 'standby', address: '192.0.2.20', follows: '192.0.2.20', version: 7, activeVersion: 9, behind: 2 },
  });
  const json = statusJson(s);
  t.same(JSON.parse(json).ha, s.ha);
  const back = parseStatus(json, { ranges: s.ranges, managementConfigured: true });
  t.same(back?.ha, s.ha);
  t.equal(statusJson(back!), json, 'the same bytes once read back');
  const active = statusJson(status({ ha: { role: 'active', address: '192.0.2.20' } }));
  t.same(JSON.parse(active).ha, { role: 'active', address: '192.0.2.20' }, 'absent fields stay absent');
  t.notOk('ha' in JSON.parse(statusJson(status())), 'no block on a single appliance');

  const withHa = (ha: unknown) => {
    const o = JSON.parse(json);
    o.ha = ha;
    return parseStatus(JSON.stringify(o), { ranges: [], managementConfigured: true });
  };
  for (const bad of [
    'active',
    null,
    [],
    { role: 'boss', address: '192.0.2.20' },
    { role: 'active' },
    { role: 'active', address: 20 },
    { address: '192.0.2.20' },
  ]) {
    const r = withHa(bad);
    t.equal(r?.state, 'ready', `${JSON.stringify(bad)}: the status still reads`);
    t.equal(r?.ha, undefined, `${JSON.stringify(bad)}: the block is dropped`);
  }
  t.same(
    withHa({ role: 'fault', address: '192.0.2.20', version: 1e300, behind: -1.5, activeVersion: '9', follows: 5 })?.ha,
    { role: 'fault', address: '192.0.2.20' },
    'fields of the wrong type or beyond a safe integer are dropped',
  );
});

t.test('the console says the role', async (t) => {
  const text = (ha: Status['ha']) => issueText(status({ ha }));
  t.match(
    text({ role: 'active', address: '192.0.2.20' }),
    /^ {2}Pair: ACTIVE - holds the floating address 192\.0\.2\.20 \(the Supervisor's Data Plane API\)$/m,
  );
  t.match(
    text({ role: 'standby', address: '192.0.2.20', follows: '192.0.2.20', version: 7, activeVersion: 9, behind: 2 }),
    /^ {2}Pair: STANDBY - follows 192\.0\.2\.20: version 7 of 9 \(2 behind\)$/m,
  );
  t.match(
    text({ role: 'standby', address: '192.0.2.20', follows: '192.0.2.20', version: 9, activeVersion: 9, behind: 0 }),
    /\(0 behind\)$/m,
    'caught up',
  );
  t.match(
    text({ role: 'standby', address: '192.0.2.20' }),
    /^ {2}Pair: STANDBY - does not follow 192\.0\.2\.20 now \(ovactl ha status\)$/m,
  );
  t.match(text({ role: 'fault', address: '192.0.2.20' }), /^ {2}Pair: FAULT - may not hold 192\.0\.2\.20/m);
  t.notMatch(issueText(status()), /Pair:/, 'a single appliance says nothing of a pair');
  t.match(
    text({ role: 'active', address: '192.0.2.20' }),
    /^HAProxy load-balancer appliance: READY/,
    'after the state',
  );
});

t.test('the health keepalived tracks: what keeps an appliance from being active', async (t) => {
  const base = { version: '1', deployment: 'default' as const, warnings: [], ranges: [], managementConfigured: true };
  const finding = (rule: string, severity: 'error' | 'warning' = 'error') => ({
    severity,
    rule,
    keys: [],
    message: `${rule} happened`,
  });
  type S = Parameters<typeof unhealthyReason>[0]['status'];
  const why = (status: S, o: { apiSilentMs?: number; apiStopped?: boolean } = {}) =>
    unhealthyReason({ status, apiSilentMs: o.apiSilentMs ?? 0, apiStopped: o.apiStopped ?? false });
  t.equal(why(undefined), 'no status yet');
  t.equal(why({ ...base, state: 'starting', errors: [] }), 'still starting');
  t.equal(why({ ...base, state: 'ready', errors: [] }), undefined, 'ready: may be active');
  t.equal(
    why({ ...base, state: 'degraded', errors: [], findings: [finding('vip.outside-ranges', 'warning')] }),
    undefined,
    'degraded by a stray VIP: may be active (the standby would be no better)',
  );
  t.equal(
    why({ ...base, state: 'error', errors: [], findings: [finding('haproxy.not-running')] }),
    'haproxy.not-running happened',
    'haproxy not running: not active, at once',
  );
  const silent = {
    ...base,
    state: 'degraded' as const,
    errors: [],
    findings: [finding('dataplaneapi.not-answering', 'warning')],
  };
  t.equal(
    why(silent, { apiSilentMs: 2_000 }),
    undefined,
    'the API silent for 2 s (a takeover restarts it): still may be',
  );
  t.equal(
    why(silent, { apiSilentMs: API_GRACE_MS }),
    'dataplaneapi.not-answering happened',
    `the API silent for ${API_GRACE_MS / 1000} s: not active`,
  );
  t.equal(
    why(silent, { apiSilentMs: 60_000, apiStopped: true }),
    undefined,
    "a standby's API stopped on purpose: no reason",
  );
  t.equal(
    why({ ...base, state: 'error', errors: [finding('network.duplicate-address')] }),
    'network.duplicate-address happened',
    'an error with nothing in force (it took none of its addresses): not active',
  );
  t.equal(
    why({
      ...base,
      state: 'error',
      errors: [finding('vip.contains-infrastructure')],
      serving: { appliedAt: '2026-12-07T00:00:00Z', ranges: [] },
    }),
    undefined,
    'new values refused while the last good ones serve: may stay active',
  );
});
