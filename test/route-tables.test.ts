// route-tables: the config file's rules, the pure reconcile (wanted rules vs the kernel's), and the
// real thing in a network namespace: `up` after a lease change removes the old address's rules and
// adds the new one's, never touches a rule it did not tag, `down` removes only its own, `watch`
// follows an address change through `ip monitor`. The Data Plane API part (yaml listener and the
// certificate's SAN) runs against a temporary root with real openssl.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns } from './helpers/netns.js';
import { skipUnless, needsRoot } from './helpers/root.js';

const nsSkip = skipUnless(needsRoot('network namespaces'));
import { parseConfig } from '../src/routetables/config.js';
import {
  desiredRules,
  diffRules,
  parseRules,
  ruleText,
  MAX_ADDRESSES_PER_NIC,
  type NicAddress,
} from '../src/routetables/rules.js';
import { apiHost, followApi, withApiHost } from '../src/routetables/api.js';
import { ROUTE_TABLES_PROTO } from '../src/appliance/policy-routing.js';
import { template } from '../src/render/templates.js';

const lease = (nic: string, address: string, prefix = 24, dynamic = true): NicAddress => ({
  nic,
  address,
  prefix,
  dynamic,
});

t.test('config: entries, and each bad line named with its number and skipped', async (t) => {
  const c = parseConfig(
    [
      '# comment',
      '',
      'table workload 201',
      'table frontend 202  # trailing comment',
      'dataplaneapi management haproxy.example.test localhost',
      'table eth0 201',
      'table workload abc',
      'table workload 255',
      'table workload 203',
      'routes x',
      'dataplaneapi management bad!name',
      `table ${'x'.repeat(5000)} 1`,
    ].join('\n'),
  );
  t.same(c.tables, [
    { nic: 'workload', table: 201 },
    { nic: 'frontend', table: 202 },
  ]);
  t.same(c.api, { nic: 'management', dnsNames: ['haproxy.example.test', 'localhost'] });
  t.same(
    c.problems.map((p) => p.line),
    [6, 7, 8, 9, 10, 11, 12],
    'one problem per bad line, by number',
  );
  t.match(c.problems[0]!.message, /"eth0" is not a NIC/);
  t.match(c.problems[2]!.hint, /from 1 to 252/, 'main/local/default (253–255) are never ours');
  t.match(c.problems[3]!.message, /named before/, 'a second table line for one NIC');
  t.ok(
    c.problems.every((p) => p.message.length < 200),
    'a hostile line makes a short message',
  );
});

t.test('the template writes what the parser reads', async (t) => {
  const text = template('vmware/route-tables.cfg')({
    tables: [{ nic: 'workload', table: 201 }],
    api: { nic: 'management', dnsNames: ['a.example', 'localhost'] },
  });
  const c = parseConfig(text);
  t.same(c.problems, []);
  t.same(c.tables, [{ nic: 'workload', table: 201 }]);
  t.same(c.api?.dnsNames, ['a.example', 'localhost']);
});

t.test('wanted rules: from the lease, to its subnet; leased addresses first, bounded', async (t) => {
  const tables = [
    { nic: 'workload', table: 201 },
    { nic: 'frontend', table: 202 },
  ];
  const w = desiredRules(tables, [
    lease('workload', '198.51.100.155'),
    lease('frontend', '203.0.113.7', 32),
    lease('management', '192.0.2.9'),
  ]);
  t.same(
    w.map(ruleText),
    [
      'priority 1000 from 198.51.100.155/32 lookup 201',
      'priority 950 to 198.51.100.0/24 lookup 201',
      'priority 1000 from 203.0.113.7/32 lookup 202',
    ],
    'a /32 lease has no subnet rule; the management NIC (main table) none',
  );
  t.same(desiredRules(tables, []), [], 'no lease: no rules');
  const many = Array.from({ length: 50 }, (_, i) => lease('workload', `10.0.${i}.1`, 24, i === 49));
  const r = desiredRules(tables, many);
  t.equal(r.length, 2 * MAX_ADDRESSES_PER_NIC, `at most ${MAX_ADDRESSES_PER_NIC} addresses of a NIC`);
  t.ok(
    r.some((x) => x.from === '10.0.49.1/32'),
    'the leased one is among them',
  );
});

t.test('diff: a lease change removes the old rules and adds the new; foreign rules are never ours', async (t) => {
  const tables = [{ nic: 'workload', table: 201 }];
  const old = desiredRules(tables, [lease('workload', '198.51.100.155')]);
  const now = desiredRules(tables, [lease('workload', '198.51.100.170', 25)]);
  const d = diffRules(now, old, []);
  t.same(d.remove.map(ruleText), old.map(ruleText));
  t.same(d.add.map(ruleText), now.map(ruleText));
  t.same(diffRules(now, now, []).add, [], 'converged: nothing to do');
  const foreign = diffRules(now, [], [now[0]!]);
  t.same(foreign.foreign, [now[0]], 'a rule an admin (or networkd) made is left alone');
  t.same(foreign.add, [now[1]]);
  t.same(diffRules([], [], now).remove, [], 'others are never removed');
});

t.test('kernel rules JSON: ours by protocol; rules with other selectors are not "the same"', async (t) => {
  const json = JSON.stringify([
    { priority: 0, src: 'all', table: '255' },
    { priority: 1000, src: '198.51.100.155', table: '201', protocol: String(ROUTE_TABLES_PROTO) },
    { priority: 950, src: 'all', dst: '198.51.100.0', dstlen: 24, table: '201', protocol: String(ROUTE_TABLES_PROTO) },
    { priority: 1000, src: '198.51.100.10', table: '201', protocol: '4' },
    { priority: 1000, src: '198.51.100.11', table: '201', protocol: '4', fwmark: '0x1' },
  ]);
  const r = parseRules(json);
  t.same(r.owned.map(ruleText), [
    'priority 1000 from 198.51.100.155/32 lookup 201',
    'priority 950 to 198.51.100.0/24 lookup 201',
  ]);
  t.same(r.others.map(ruleText), ['priority 0 lookup 255', 'priority 1000 from 198.51.100.10/32 lookup 201']);
});

const YAML =
  'config_version: 2\nname: h\ndataplaneapi:\n  host: 0.0.0.0\n  port: 5556\n  tls:\n    tls_host: 0.0.0.0\n    tls_port: 5556\n';

t.test('the API yaml: host and tls_host move, nothing else', async (t) => {
  const y = withApiHost(YAML, '192.0.2.77')!;
  t.equal(y, YAML.replace(/0\.0\.0\.0/g, '192.0.2.77'));
  t.equal(apiHost(y), '192.0.2.77');
  t.equal(withApiHost('name: h\n', '192.0.2.77'), undefined, 'not our file: not touched');
});

t.test('the API follows a lease: yaml, certificate SAN, one restart per change (real openssl)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ovactl-rt-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc/haproxy'), { recursive: true });
  writeFileSync(join(root, 'etc/haproxy/dataplaneapi.yaml'), YAML);
  let restarts = 0;
  const follow = (address: string) =>
    followApi({ root, address, dnsNames: ['haproxy.example.test', 'localhost'], restart: async () => void restarts++ });
  const sans = () => new X509Certificate(readFileSync(join(root, 'etc/haproxy/server.crt'))).subjectAltName;
  const caBefore = () => readFileSync(join(root, 'etc/haproxy/ca.crt'), 'utf8');

  const a = await follow('192.0.2.150');
  t.same(a.problems, []);
  t.ok(a.yamlChanged && a.certChanged, 'first lease: listener moved, certificate issued');
  t.match(sans(), /IP Address:192\.0\.2\.150/);
  t.match(sans(), /IP Address:127\.0\.0\.1/);
  t.match(sans(), /DNS:haproxy\.example\.test/);
  t.equal(apiHost(readFileSync(join(root, 'etc/haproxy/dataplaneapi.yaml'), 'utf8')), '192.0.2.150');
  const ca = caBefore();

  const same = await follow('192.0.2.150');
  t.notOk(same.yamlChanged || same.certChanged, 'the same lease again: nothing changes');
  t.equal(restarts, 1, 'and no restart');

  const b = await follow('192.0.2.151');
  t.ok(b.yamlChanged && b.certChanged, 'a new lease: both follow');
  t.match(sans(), /IP Address:192\.0\.2\.151/);
  t.notMatch(sans(), /192\.0\.2\.150/, 'the old address is no longer named');
  t.equal(caBefore(), ca, 'signed by the same CA');
  t.equal(restarts, 2);

  rmSync(join(root, 'etc/haproxy/dataplaneapi.yaml'));
  const c = await follow('192.0.2.152');
  t.match(c.problems.join('\n'), /dataplaneapi\.yaml is missing/, 'a missing yaml is a problem, not a crash');
});

t.test(
  'in a namespace: up follows a lease change, keeps foreign rules; down removes only ours',
  { skip: nsSkip },
  async (t) => {
    const ns = Netns.create(t, 'rt');
    ns.ip('link', 'add', 'workload', 'type', 'veth', 'peer', 'name', 'wpeer');
    ns.ip('link', 'set', 'workload', 'up');
    ns.ip('addr', 'add', '198.51.100.155/24', 'dev', 'workload', 'valid_lft', '3600', 'preferred_lft', '3600');
    // networkd's rule for a static address, and an admin's: not ours, never removed.
    ns.ip('rule', 'add', 'from', '198.51.100.10/32', 'table', '201', 'priority', '1000', 'protocol', 'static');
    ns.ip('rule', 'add', 'to', '10.20.0.0/16', 'table', '201', 'priority', '950');
    const dir = mkdtempSync(join(tmpdir(), 'ovactl-rt-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = join(dir, 'route-tables.cfg');
    writeFileSync(cfg, 'table workload 201\ntable bogus 7\n');
    const rules = () => ns.ip('-4', 'rule', 'show');

    const up = ns.ovactl('route-tables', 'up', '--config', cfg);
    t.equal(up.code, 1, 'exit 1: the file has a bad line');
    t.match(up.err, /route-tables\.cfg:2: "bogus" is not a NIC.*Fix:/, 'named with its line and the fix');
    t.match(up.out, /2 rule\(s\) added/);
    t.match(
      rules(),
      /1000:\s+from 198\.51\.100\.155 lookup 201 proto routetables|1000:\s+from 198\.51\.100\.155 lookup 201 proto 251/,
    );
    t.match(rules(), /950:\s+from all to 198\.51\.100\.0\/24 lookup 201/);
    const route = ns.ip('route', 'get', '198.51.100.1');
    t.match(
      route,
      /^198\.51\.100\.1 dev workload src 198\.51\.100\.155 /,
      `the gateway over workload, from the lease: ${route.trim()}`,
    );

    // The lease moves: another address (and prefix), the old one goes.
    ns.ip('addr', 'add', '198.51.100.170/25', 'dev', 'workload', 'valid_lft', '3600', 'preferred_lft', '3600');
    ns.ip('addr', 'del', '198.51.100.155/24', 'dev', 'workload');
    writeFileSync(cfg, 'table workload 201\n');
    const again = ns.ovactl('route-tables', 'up', '--config', cfg);
    t.equal(again.code, 0, again.err);
    t.match(again.out, /2 rule\(s\) added, 2 removed/);
    t.notMatch(rules(), /198\.51\.100\.155/, "the old lease's rules are gone");
    t.match(rules(), /from 198\.51\.100\.170 lookup 201/);
    t.match(rules(), /to 198\.51\.100\.128\/25 lookup 201/);
    t.match(rules(), /from 198\.51\.100\.10 lookup 201/, 'the static rule stays');
    t.match(rules(), /to 10\.20\.0\.0\/16 lookup 201/, "the admin's rule stays");

    const down = ns.ovactl('route-tables', 'down', '--config', cfg);
    t.equal(down.code, 0);
    t.match(down.out, /removed 2 rules/);
    t.notMatch(rules(), /198\.51\.100\.170/);
    t.match(rules(), /from 198\.51\.100\.10 lookup 201/, 'down leaves the static rule');
  },
);

t.test('in a namespace: watch follows address changes through ip monitor', { skip: nsSkip }, async (t) => {
  const ns = Netns.create(t, 'rtw');
  ns.ip('link', 'add', 'frontend', 'type', 'veth', 'peer', 'name', 'fpeer');
  ns.ip('link', 'set', 'frontend', 'up');
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-rt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'route-tables.cfg');
  writeFileSync(cfg, 'table frontend 202\n');
  const w = ns.spawnOvactl('route-tables', 'watch', '--config', cfg);
  t.ok(await w.waitFor(/following the addresses/, 10_000), 'started');
  const until = async (re: RegExp, present: boolean) => {
    for (let i = 0; i < 100; i++) {
      if (re.test(ns.ip('-4', 'rule', 'show')) === present) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };
  ns.ip('addr', 'add', '203.0.113.20/24', 'dev', 'frontend');
  t.ok(await until(/from 203\.0\.113\.20 lookup 202/, true), 'a new address gets its rules within 5 s');
  ns.ip('addr', 'del', '203.0.113.20/24', 'dev', 'frontend');
  ns.ip('addr', 'add', '203.0.113.21/24', 'dev', 'frontend');
  t.ok(await until(/203\.0\.113\.20/, false), "the old address's rules go");
  t.ok(await until(/from 203\.0\.113\.21 lookup 202/, true), "the new one's come");
  writeFileSync(cfg, 'garbage line\n');
  ns.ip('addr', 'add', '203.0.113.22/24', 'dev', 'frontend');
  t.ok(await until(/203\.0\.113\.21/, false), 'a file without valid lines: no DHCP NIC, our rules go');
  t.ok(w.alive(), 'bad input never ends the watcher');
  t.equal(await w.stop(), 0, 'SIGTERM: exit 0');
  t.match(w.err, /"garbage" is not an entry/);
});
