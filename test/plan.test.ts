// Golden files of the rendered tree (plan() is pure: fixed facts give fixed files), and real
// `haproxy -c` on every rendered haproxy.cfg with the appliance's haproxy 3.0 (and `bird -p` with its
// BIRD), from the rig's Debian 13 rootfs (test/helpers/appliance-programs.ts): no error, and no warning
// either. UPDATE_GOLDEN=1 rewrites the golden files.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { metricsConfig, plan } from '../src/plan/plan.js';
import { bootPlan } from '../src/plan/boot.js';
import { describeStep } from '../src/plan/steps.js';
import { validateDocument } from '../src/validate/validate.js';
import type { Deployment } from '../src/appliance/nics.js';
import { doc, ROOT, valuesOf } from './helpers/values.js';
import { FIRST_BOOT_FACTS, PLAN_FACTS } from './helpers/facts.js';
import { applianceVersion, appliancePrograms, haproxyCheck, inAppliance } from './helpers/appliance-programs.js';
import { skipUnless } from './helpers/root.js';

const FACTS = PLAN_FACTS;

// Seed 003's deploy values (the Supervisor log), without its cut CA, and with recognisable passwords
// ("vmware" is also a folder name) so the test can prove they appear nowhere.
const SEED003 = {
  'network.nameservers': '10.170.16.48, 10.142.7.1',
  'network.management_gateway': '10.191.191.254',
  'appliance.root_pwd': 'Root-Pw-Seed003',
  'network.hostname': 'haproxy.local',
  'network.management_ip': '10.191.181.52/20',
  'loadbalance.dataplane_port': '5556',
  'network.workload_gateway': '192.168.1.1',
  'network.frontend_ip': '172.16.10.2/24',
  'network.workload_ip': '192.168.1.2/16',
  'loadbalance.haproxy_user': 'wcp',
  'loadbalance.haproxy_pwd': 'Api-Pw-Seed003',
  'network.frontend_gateway': '172.16.10.1',
  'appliance.permit_root_login': 'True',
  'loadbalance.service_ip_range': '192.168.0.0/24',
};

// A fixed CA (test/fixtures/syslog-ca.*, made once with openssl), so the golden files stay fixed.
const TEST_CA = {
  cert: readFileSync(join(ROOT, 'test/fixtures/syslog-ca.crt'), 'utf8'),
  key: readFileSync(join(ROOT, 'test/fixtures/syslog-ca.key'), 'utf8'),
};

const CASES: { name: string; values: Record<string, string>; deployment: Deployment }[] = [
  { name: 'seed003-frontend', values: SEED003, deployment: 'frontend' },
  {
    name: 'seed003-default',
    values: { ...SEED003, 'network.frontend_ip': '', 'network.frontend_gateway': '' },
    deployment: 'default',
  },
  {
    name: 'dhcp',
    values: {
      'appliance.root_pwd': 'Root-Pw-Seed003',
      'loadbalance.haproxy_pwd': 'Api-Pw-Seed003',
      'loadbalance.service_ip_range': '10.50.0.0/24',
      'appliance.permit_root_login': 'False',
      'network.nameservers': '',
    },
    deployment: 'default',
  },
  {
    name: 'additional-networks',
    values: {
      ...SEED003,
      'network.workload_ip': '192.168.1.2/24',
      'network.additional_workload_networks': '10.20.0.0/16, 10.30.0.0/16',
      'loadbalance.service_ip_range': '172.16.10.64/26, 172.16.10.128/26',
      'network.ntp_servers': '10.170.16.123, ntp.example.test',
    },
    deployment: 'frontend',
  },
  {
    // Route health injection with every option: two BGP peers on the frontend network, BFD, OSPF,
    // explicit rules (one into a protocol of its own) and auto.
    name: 'rhi',
    values: {
      ...SEED003,
      'rhi.enabled': 'True',
      'rhi.local_as': '65010',
      'rhi.peers': '172.16.10.1:65001, 172.16.10.3:4200000001',
      'rhi.bfd': 'True',
      'rhi.ospf_area': '0',
      'rhi.rules': '192.168.0.10 = all(b:be_app); %vol2 192.168.0.11, 192.168.0.12 = any(b:be_a, b:be_b);auto',
    },
    deployment: 'frontend',
  },
  // Metrics on (appliance.metrics_port): ovactl-metrics.cfg with the frontend, and its Lua service.
  {
    name: 'metrics',
    values: { ...SEED003, 'network.frontend_ip': '', 'network.frontend_gateway': '', 'appliance.metrics_port': '9100' },
    deployment: 'default',
  },
  // Log forwarding: udp to an address; tls to a name, verified with the given CA (appliance.ca_cert).
  {
    name: 'syslog-udp',
    values: { ...SEED003, 'appliance.syslog_server': 'udp://10.191.181.60' },
    deployment: 'default',
  },
  {
    name: 'syslog-tls',
    values: {
      ...SEED003,
      'appliance.syslog_server': 'tls://logs.example.test:6514',
      'appliance.ca_cert': TEST_CA.cert,
      'appliance.ca_cert_key': TEST_CA.key,
    },
    deployment: 'frontend',
  },
];

const GOLDEN = join(ROOT, 'test/golden');
// Why the appliance's haproxy and BIRD cannot run here (not root, no debootstrap), or undefined.
const noPrograms = await appliancePrograms();
const programs = !noPrograms;
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-plan-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

/** A server.crt with its key where haproxy looks for it (server.crt.key), made once. */
let cert: Promise<string> | undefined;
const serverCert = (): Promise<string> =>
  (cert ??= (async () => {
    const crt = join(scratch, 'server.crt');
    execFileSync(
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
        join(scratch, 'server.key'),
        '-out',
        crt,
        '-subj',
        '/CN=haproxy.local',
        '-days',
        '2',
      ],
      { stdio: 'ignore' },
    );
    symlinkSync('server.key', `${crt}.key`);
    return crt;
  })());

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const report = await validateDocument(await doc(JSON.stringify(c.values)), { deployment: c.deployment });
    t.same(report.errors, [], 'the values are valid');
    const p = plan({ properties: valuesOf(report), deployment: c.deployment, facts: FACTS, scope: 'full' });
    const dir = join(GOLDEN, c.name);
    const listing =
      p.files
        .map(
          (f) =>
            `${f.mode.toString(8).padStart(4, '0')} ${f.owner}:${f.group} ${f.path} restarts=${f.restarts.join(',')}${f.reloads.length ? ` reloads=${f.reloads.join(',')}` : ''}`,
        )
        .join('\n') + '\n';
    const actions = p.actions.map((a) => JSON.stringify(a)).join('\n') + '\n';
    // The steps a first boot with these values takes on a fresh appliance (the policy, as render prints it).
    const boot = bootPlan({ report, version: 'golden', facts: { ...FIRST_BOOT_FACTS, inputsHash: 'golden' } });
    const steps = boot.steps.map((s) => describeStep(s)).join('\n') + '\n';
    const expected = new Map<string, string>([
      ['FILES', listing],
      ['ACTIONS', actions],
      ['STEPS', steps],
      ...p.files.map((f) => [f.path.slice(1), f.content] as [string, string]),
    ]);
    if (process.env.UPDATE_GOLDEN) {
      rmSync(dir, { recursive: true, force: true });
      for (const [rel, content] of expected) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), content);
      }
    }
    const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
    t.same(onDisk.sort(), [...expected.keys()].sort(), 'the same set of files as the golden tree');
    for (const [rel, content] of expected)
      t.equal(content, readFileSync(join(dir, rel), 'utf8'), `${rel} matches test/golden/${c.name}/${rel}`);

    const cfg = p.files.find((f) => f.path === '/etc/haproxy/haproxy.cfg')!;
    t.match(cfg.content, /^\s+master-worker$/m);
    t.match(cfg.content, /stats socket \/run\/haproxy\/admin\.sock .*expose-fd listeners/);
    t.notMatch(cfg.content, /^\s*frontend\s/m, 'no frontends: the control plane adds them');
    t.notMatch(JSON.stringify(p), /Pw-Seed003/, 'no password in the plan');
    const bird = p.files.find((f) => f.path === '/etc/bird/bird.conf');
    t.equal(bird !== undefined, c.name === 'rhi', 'bird.conf only with route health injection on');
    if (bird && programs) {
      // The route files the daemon writes, empty, where a copy of bird.conf expects them.
      const dir = join(scratch, `${c.name}-routes`);
      mkdirSync(dir, { recursive: true });
      for (const m of bird.content.matchAll(/include "\/run\/ovactl\/rhi\/([a-z0-9_]+\.conf)";/g))
        writeFileSync(join(dir, m[1]!), '');
      const path = join(scratch, `${c.name}-bird.conf`);
      writeFileSync(path, bird.content.replaceAll('/run/ovactl/rhi/', `${dir}/`));
      const r = inAppliance('bird', ['-p', '-c', path]);
      t.equal(r.status, 0, "the appliance's bird -p accepts bird.conf", { stderr: r.stderr });
    } else if (bird) t.comment(`bird -p not run: ${noPrograms}`);
    const metrics = p.files.find((f) => f.path === '/etc/haproxy/ovactl-metrics.cfg')!;
    const on = c.name === 'metrics';
    t.equal(
      /^frontend ovactl_metrics$/m.test(metrics.content),
      on,
      `the metrics frontend only with appliance.metrics_port (${c.name})`,
    );
    t.equal(
      p.files.some((f) => f.path === '/etc/haproxy/ovactl-metrics.lua'),
      on,
      'the Lua service only with metrics on',
    );
    if (on) {
      t.match(
        metrics.content,
        /^\s+bind 10\.191\.181\.52:9100 ssl crt \/etc\/haproxy\/server\.crt$/m,
        'on the management address only',
      );
      t.match(metrics.content, /^\s+user wcp password \$6\$/m, 'Basic auth: the Data Plane API user with the $6$ hash');
      t.equal(metrics.mode, 0o600, 'the hash is readable by root only');
    }
    if (programs) {
      const path = join(scratch, `${c.name}.cfg`);
      writeFileSync(path, cfg.content);
      // Both files together, as the unit loads them (the certificate and Lua file in the scratch folder).
      const lua = join(scratch, `${c.name}.lua`);
      writeFileSync(lua, p.files.find((f) => f.path === '/etc/haproxy/ovactl-metrics.lua')?.content ?? '');
      const input = { properties: valuesOf(report), deployment: c.deployment, facts: FACTS, scope: 'full' as const };
      const mpath = join(scratch, `${c.name}-metrics.cfg`);
      writeFileSync(mpath, metricsConfig(input, { luaFile: lua, serverCert: await serverCert() }).cfg);
      const check = haproxyCheck([path, mpath]);
      t.ok(check.valid, 'haproxy 3.0 -c accepts haproxy.cfg and ovactl-metrics.cfg together', { stderr: check.stderr });
      t.same(check.warnings, [], 'and warns about nothing in them');
    } else t.comment(`haproxy -c not run: ${noPrograms}`);
  });
}

t.test(
  "every golden tree's haproxy.cfg, as committed: haproxy 3.0 -c, no error and no warning",
  { skip: skipUnless(noPrograms) },
  async (t) => {
    // The image's haproxy (trixie's 3.0 LTS), not this machine's: its deprecations are what admins read.
    t.match(applianceVersion('haproxy'), /^3\.0\./, "the appliance's haproxy is 3.0");
    t.match(applianceVersion('bird'), /^2\./, "the appliance's BIRD is BIRD 2");
    // The check sees warnings at all: a frontend without timeouts is one (and master-worker, as in
    // ovactl's global, does not silence them).
    const control = join(scratch, 'warns.cfg');
    writeFileSync(control, 'global\n    master-worker\ndefaults\n    mode tcp\nfrontend f\n    bind 127.0.0.1:1\n');
    t.match(haproxyCheck([control]).warnings, [/missing timeouts for frontend 'f'/], 'a warning is seen');
    const trees = readdirSync(GOLDEN, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    t.ok(trees.length >= CASES.length, 'every case has its tree');
    for (const name of trees) {
      const path = join(scratch, `golden-${name}.cfg`);
      copyFileSync(join(GOLDEN, name, 'etc/haproxy/haproxy.cfg'), path);
      const check = haproxyCheck([path]);
      t.ok(check.valid, `${name}: valid`, { stderr: check.stderr });
      t.same(check.warnings, [], `${name}: no warning`);
    }
  },
);

t.test('plan reads the values validation parsed: a valid report carries them, an invalid one does not', async (t) => {
  const rhi = await validateDocument(await doc(JSON.stringify(CASES.find((c) => c.name === 'rhi')!.values)), {
    deployment: 'frontend',
  });
  const v = valuesOf(rhi);
  t.same(
    v['loadbalance.service_ip_range'].map((c) => [c.text, c.prefix]),
    [['192.168.0.0/24', 24]],
  );
  t.equal(v['network.management_ip']?.address.text, '10.191.181.52', 'the NIC address parsed');
  t.equal(v['loadbalance.dataplane_port'], 5556, 'the table default, as a number');
  t.same(
    v.rhi && { localAs: v.rhi.localAs, area: v.rhi.ospfArea, routerId: v.rhi.routerId, peers: v.rhi.peers.length },
    { localAs: 65010, area: '0.0.0.0', routerId: '10.191.181.52', peers: 2 },
    'RHI values parsed; the router ID defaults to the management address',
  );
  t.same(
    v.rhi?.rules.rules.map((r) => r.targets.map((x) => x.network)),
    [['192.168.0.10/32'], ['192.168.0.11/32', '192.168.0.12/32']],
  );
  const off = await validateDocument(await doc(JSON.stringify(SEED003)), { deployment: 'frontend' });
  t.equal(valuesOf(off).rhi, undefined, 'no RHI values while rhi.enabled is False');

  const badRange = { ...SEED003, 'loadbalance.service_ip_range': '192.168.0.0/33' };
  const invalid = await validateDocument(await doc(JSON.stringify(badRange)), { deployment: 'frontend' });
  t.equal(invalid.valid, false);
  t.equal(invalid.values, undefined, 'no values for the full plan');
  t.equal(invalid.management?.['network.management_ip']?.text, '10.191.181.52/20', 'the management NIC still');
  const badNic = { ...SEED003, 'network.management_ip': '10.191.181.52/33' };
  const none = await validateDocument(await doc(JSON.stringify(badNic)), { deployment: 'frontend' });
  t.equal(none.management, undefined, 'an error on a management key: not even the management scope');
});

t.test('management-only scope: just what the admin needs to log in', async (t) => {
  const report = await validateDocument(await doc(JSON.stringify(SEED003)), { deployment: 'frontend' });
  const p = plan({ properties: valuesOf(report), deployment: 'frontend', facts: FACTS, scope: 'management-only' });
  const paths = p.files.map((f) => f.path);
  t.ok(paths.includes('/etc/systemd/network/20-ovactl-management.network'));
  t.notOk(
    paths.some((x) => /workload|frontend|haproxy|anyip/.test(x)),
    `no data-plane files: ${paths}`,
  );
  t.notOk(
    p.actions.some((a) => a.kind === 'enable-start' && /haproxy|dataplaneapi|anyip/.test(a.unit)),
    'no haproxy, API or AnyIP',
  );
});

t.test(
  'route health injection: on → BIRD and the daemon start; off → both are stopped (BIRD only when installed)',
  async (t) => {
    const on = await validateDocument(await doc(JSON.stringify(CASES.find((c) => c.name === 'rhi')!.values)), {
      deployment: 'frontend',
    });
    const p = plan({ properties: valuesOf(on), deployment: 'frontend', facts: FACTS, scope: 'full' });
    t.same(
      p.actions
        .filter((a) => a.kind === 'enable-start' && /bird|rhi/.test(a.unit))
        .map((a) => a.kind === 'enable-start' && a.unit),
      ['bird.service', 'ovactl-rhi.service'],
    );
    // route-tables.service has its own action (it runs only with a DHCP NIC): these are route health injection's.
    const rhiStops = (x: typeof p) =>
      x.actions.filter((a) => a.kind === 'disable-stop' && a.units.some((u) => /rhi|bird/.test(u)));
    t.same(rhiStops(p), []);
    const rules = p.files.find((f) => f.path === '/etc/ovactl/rhi.rules')!;
    t.match(
      rules.content,
      /\n192\.168\.0\.10 = all\(b:be_app\)\n%vol2 192\.168\.0\.11, 192\.168\.0\.12 = any\(b:be_a, b:be_b\)\nauto\n$/,
      'one rule a line, as written',
    );
    const off = await validateDocument(await doc(JSON.stringify(SEED003)), { deployment: 'frontend' });
    const q = plan({ properties: valuesOf(off), deployment: 'frontend', facts: FACTS, scope: 'full' });
    t.same(rhiStops(q), [{ kind: 'disable-stop', units: ['ovactl-rhi.service', 'bird.service'] }]);
    t.notOk(q.files.some((f) => /bird|rhi/.test(f.path)));
    const noBird = plan({
      properties: valuesOf(off),
      deployment: 'frontend',
      facts: { ...FACTS, birdInstalled: false },
      scope: 'full',
    });
    t.same(rhiStops(noBird), [{ kind: 'disable-stop', units: ['ovactl-rhi.service'] }]);
  },
);

t.test('the Data Plane API unit starts only when its binary is present', async (t) => {
  const report = await validateDocument(await doc(JSON.stringify(SEED003)), { deployment: 'frontend' });
  const without = plan({
    properties: valuesOf(report),
    deployment: 'frontend',
    facts: { ...FACTS, dataplaneapiInstalled: false },
    scope: 'full',
  });
  t.notOk(without.actions.some((a) => a.kind === 'enable-start' && a.unit === 'dataplaneapi.service'));
  const withIt = plan({ properties: valuesOf(report), deployment: 'frontend', facts: FACTS, scope: 'full' });
  t.ok(withIt.actions.some((a) => a.kind === 'enable-start' && a.unit === 'dataplaneapi.service'));
});
