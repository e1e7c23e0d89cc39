// The RHI rules parser (seed 004's syntax): what it understands, and every kind of error with its
// line and column; then `ovactl rhi check` as a user runs it.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRules, ruleText, type ErrorKind } from '../src/rhi/rules.js';
import { runCli } from './helpers/cli.js';

t.test("the seed's examples, both protocol spellings, defaults, comments", async (t) => {
  const r = parseRules(
    [
      '# Inject the 10.200.200.200/32 address into the route daemon if',
      '# all the backends "be_static" and "be_app" are up.',
      '10.200.200.200/32 = all(b:be_static,b:be_app)',
      '192.168.1.10/32 = any(b:be_app,b:be_app2)   # trailing comment',
      'vol1%192.168.1.11/32 = all(b:be_static,b:be_app)',
      '%vol2 192.168.1.12 = any(b:k8s_servers)',
      '  192.0.2.1, 192.0.2.2 , %vol3 2001:db8::10 = all( f:web , b:app )',
      '2001:db8::/64 = never()',
      '192.0.2.3 = NEVER(b:x)',
      '',
    ].join('\n'),
  );
  t.same(r.errors, []);
  t.equal(r.auto, undefined);
  t.same(r.rules.map(ruleText), [
    '10.200.200.200/32 = all(b:be_static, b:be_app)',
    '192.168.1.10/32 = any(b:be_app, b:be_app2)',
    '%vol1 192.168.1.11/32 = all(b:be_static, b:be_app)',
    '%vol2 192.168.1.12/32 = any(b:k8s_servers)',
    '192.0.2.1/32, 192.0.2.2/32, %vol3 2001:db8::10/128 = all(f:web, b:app)',
    '2001:db8::/64 = never()',
    '192.0.2.3/32 = never(b:x)',
  ]);
  t.same(
    r.rules.map((x) => x.line),
    [3, 4, 5, 6, 7, 8, 9],
    'line numbers',
  );
  const multi = r.rules[4]!;
  t.same(
    multi.targets.map((x) => [x.network, x.protocol, x.explicitProtocol, x.column]),
    [
      ['192.0.2.1/32', 'rhi', false, 3],
      ['192.0.2.2/32', 'rhi', false, 14],
      ['2001:db8::10/128', 'vol3', true, 26],
    ],
    'a /32 or /128 when no mask; rhi for IPv4 and rhi6 for IPv6 unless named; columns',
  );
  t.equal(r.rules[5]!.targets[0]!.protocol, 'rhi6');
  t.same(multi.refs, [
    { kind: 'f', name: 'web' },
    { kind: 'b', name: 'app' },
  ]);
  t.equal(r.rules[1]!.source, '192.168.1.10/32 = any(b:be_app,b:be_app2)', 'source without the comment');
});

t.test('";" separates rules (the one-line OVF property); auto', async (t) => {
  const r = parseRules('192.0.2.70 = all(b:be_app); auto ;%vol2 192.0.2.71 = any(b:be_a, b:be_b);');
  t.same(r.errors, []);
  t.same(r.auto, { line: 1, column: 29 });
  t.same(
    r.rules.map((x) => [x.column, x.source]),
    [
      [1, '192.0.2.70 = all(b:be_app)'],
      [35, '%vol2 192.0.2.71 = any(b:be_a, b:be_b)'],
    ],
  );
  t.same(parseRules('AUTO').auto, { line: 1, column: 1 }, 'any case');
  t.same(parseRules('  # nothing\n\n').rules, []);
  t.same(parseRules('a.b;;').errors.length, 1, 'empty segments are fine, the bad one is reported');
});

const ERRORS: { text: string; kind: ErrorKind; line: number; column: number; message: RegExp; hint?: RegExp }[] = [
  {
    text: '10.0.0.1/33 = all(b:a)',
    kind: 'prefix',
    line: 1,
    column: 10,
    message: /"\/33" is not a prefix length of an IPv4 network \(0–32\)/,
    hint: /10\.0\.0\.1\/32/,
  },
  { text: '2001:db8::1/129 = all(b:a)', kind: 'prefix', line: 1, column: 13, message: /IPv6 network \(0–128\)/ },
  { text: '10.0.0.1/x = all(b:a)', kind: 'prefix', line: 1, column: 10, message: /"\/x"/ },
  {
    text: '\n192.168.300.1 = all(b:a)',
    kind: 'network',
    line: 2,
    column: 1,
    message: /"192\.168\.300\.1" is not an IP address/,
  },
  { text: '10.1.2 = all(b:a)', kind: 'network', line: 1, column: 1, message: /not an IP address/, hint: /four parts/ },
  { text: ' = all(b:a)', kind: 'network', line: 1, column: 2, message: /expected a network, found "="/ },
  { text: '10.0.0.1, = all(b:a)', kind: 'network', line: 1, column: 11, message: /expected a network/ },
  {
    text: '192.168.1.10/24 = all(b:a)',
    kind: 'host-bits',
    line: 1,
    column: 1,
    message: /has host bits set/,
    hint: /192\.168\.1\.0\/24 .*192\.168\.1\.10\/32/,
  },
  {
    text: '%vol1192.168.1.19 = all(b:a)',
    kind: 'protocol',
    line: 1,
    column: 9,
    message: /space between the protocol name "vol1192"/,
    hint: /%vol1 192\.0\.2\.10\/32.*vol1%192\.0\.2\.10\/32/,
  },
  {
    text: '% 10.0.0.1 = all(b:a)',
    kind: 'protocol',
    line: 1,
    column: 2,
    message: /expected a BIRD protocol name after "%"/,
  },
  {
    text: '%static 10.0.0.1 = all(b:a)',
    kind: 'protocol',
    line: 1,
    column: 2,
    message: /"static" cannot name a route protocol/,
  },
  { text: `%${'x'.repeat(40)} 10.0.0.1 = all(b:a)`, kind: 'protocol', line: 1, column: 2, message: /longer than 32/ },
  {
    text: '10.0.0.1 all(b:a)',
    kind: 'syntax',
    line: 1,
    column: 10,
    message: /expected "=" or "," after the network, found "all"/,
  },
  { text: '10.0.0.1', kind: 'syntax', line: 1, column: 9, message: /expected "=" and a condition/ },
  { text: '10.0.0.1 = ', kind: 'aggregate', line: 1, column: 12, message: /expected all, any or never/ },
  {
    text: '10.0.0.1 = some(b:a)',
    kind: 'aggregate',
    line: 1,
    column: 12,
    message: /unknown condition "some"/,
    hint: /all .*any .*never/,
  },
  { text: '10.0.0.1 = all b:a', kind: 'syntax', line: 1, column: 16, message: /expected "\(" after all, found "b:a"/ },
  {
    text: '10.0.0.1 = all(be_app)',
    kind: 'reference',
    line: 1,
    column: 16,
    message: /expected b:NAME or f:NAME, found "be_app"/,
    hint: /b:be_app for the backend be_app/,
  },
  { text: '10.0.0.1 = all(x:be_app)', kind: 'reference', line: 1, column: 16, message: /unknown proxy type "x:"/ },
  {
    text: '10.0.0.1 = all(b:)',
    kind: 'reference',
    line: 1,
    column: 18,
    message: /expected the name of a backend after "b:"/,
  },
  {
    text: '10.0.0.1 = all(f:web,',
    kind: 'reference',
    line: 1,
    column: 22,
    message: /expected b:NAME or f:NAME, found the end of the rule/,
  },
  { text: '10.0.0.1 = all()', kind: 'empty', line: 1, column: 16, message: /all\(\) names no frontend or backend/ },
  {
    text: '10.0.0.1 = any(b:a b:b)',
    kind: 'syntax',
    line: 1,
    column: 20,
    message: /expected "," or "\)" after b:a, found "b:b"/,
  },
  { text: '10.0.0.1 = any(b:a', kind: 'syntax', line: 1, column: 19, message: /expected "\)" to close any\(/ },
  {
    text: '10.0.0.1 = any(b:a) extra',
    kind: 'syntax',
    line: 1,
    column: 21,
    message: /unexpected "extra" after the rule/,
  },
  {
    text: '10.0.0.1 = any(b:a)\n10.0.0.1/32 = all(b:c)',
    kind: 'duplicate',
    line: 2,
    column: 1,
    message: /10\.0\.0\.1\/32 is already announced by the rule on line 1/,
  },
  { text: '10.0.0.1, 10.0.0.1 = any(b:a)', kind: 'duplicate', line: 1, column: 11, message: /on line 1 \(this one\)/ },
  {
    text: '%rhi 2001:db8::1 = all(b:x)',
    kind: 'family',
    line: 1,
    column: 1,
    message: /protocol rhi carries IPv4 routes; 2001:db8::1\/128 is IPv6/,
  },
  {
    text: '%v 10.0.0.1 = all(b:x)\n%v 2001:db8::1 = all(b:x)',
    kind: 'family',
    line: 2,
    column: 1,
    message: /protocol v already carries IPv4 routes \(line 1\)/,
  },
  { text: 'auto\nauto', kind: 'auto', line: 2, column: 1, message: /auto is given twice \(first on line 1\)/ },
  { text: 'auto please', kind: 'auto', line: 1, column: 6, message: /unexpected "please" after auto/ },
];

t.test('every kind of error, with its line and column', async (t) => {
  for (const e of ERRORS) {
    const r = parseRules(e.text);
    t.equal(r.errors.length, 1, `${JSON.stringify(e.text)}: one error`, { errors: r.errors });
    const got = r.errors[0];
    if (!got) continue;
    t.same(
      [got.kind, got.line, got.column],
      [e.kind, e.line, e.column],
      `${JSON.stringify(e.text)}: ${e.kind} at ${e.line}:${e.column}`,
      { got },
    );
    t.match(got.message, e.message);
    if (e.hint) t.match(got.hint ?? '', e.hint);
  }
  const kinds = new Set(ERRORS.map((e) => e.kind));
  t.same(
    [...kinds].sort(),
    [
      'aggregate',
      'auto',
      'duplicate',
      'empty',
      'family',
      'host-bits',
      'network',
      'prefix',
      'protocol',
      'reference',
      'syntax',
    ],
    'every ErrorKind is covered',
  );
});

t.test('every error of a file in one pass, in order; good rules still parse', async (t) => {
  const r = parseRules(
    '10.0.0.1 = all(b:a)\n10.0.0.2 = al(b:a)\n10.0.0.3 = all(b:a)\n10.0.0.4/33 = all(b:a); 10.0.0.5 = all()',
  );
  t.same(
    r.errors.map((e) => `${e.line}:${e.column}`),
    ['2:12', '4:10', '4:40'],
  );
  t.same(
    r.rules.map((x) => x.line),
    [1, 3],
  );
  t.equal(parseRules('10.0.0.1 = all(b:é)').errors[0]?.column, 18, 'columns count characters');
});

t.test('ovactl rhi check', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-rhi-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ovactl = (...args: string[]) => runCli(['rhi', ...args]);
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const haproxyCfg = file(
    'haproxy.cfg',
    'defaults\n  default_backend app\nfrontend web\n  bind 192.0.2.70:80\nfrontend mgmt\n  bind 198.51.100.10:8404\nbackend app\n  server s1 10.0.0.1:80\n',
  );
  const ranges = file('ranges.cfg', '192.0.2.64/26\n');
  const bird = file('bird.conf', 'protocol static rhi {\n  ipv4;\n  include "/run/ovactl/rhi/rhi.conf";\n}\n');

  const good = ovactl(
    'check',
    '--config',
    file('good.rules', '# web\n192.0.2.71 = any(b:a, b:b)\n%vol2 192.0.2.72 = never()\nauto\n'),
    '--haproxy-config',
    haproxyCfg,
    '--ranges',
    ranges,
  );
  t.equal(good.code, 0, good.err);
  t.match(good.out, /good\.rules: 2 rules and auto/);
  t.match(
    good.out,
    /line 2: 192\.0\.2\.71\/32 = any\(b:a, b:b\)\n\s+announces 192\.0\.2\.71\/32 → rhi while any of b:a or b:b is up/,
  );
  t.match(good.out, /line 3: %vol2 192\.0\.2\.72\/32 = never\(\)\n\s+never announces 192\.0\.2\.72\/32 → vol2/);
  t.match(
    good.out,
    /192\.0\.2\.70\/32 = all\(f:web, b:app\)\n\s+\(frontend web binds 192\.0\.2\.70:80\)/,
    'auto, from the live configuration',
  );
  t.match(
    good.out,
    /note: frontend mgmt \(line 6\) binds 198\.51\.100\.10:8404: 198\.51\.100\.10 is outside the VIP ranges; not announced/,
  );

  const bad = ovactl(
    'check',
    '--config',
    file('bad.rules', '192.0.2.71 = any(b:a)\n192.0.2.72 = sometimes(b:a)\n192.0.2.73/33 = all(b:a)\n'),
  );
  t.equal(bad.code, 1);
  t.equal(bad.out, '', 'nothing understood is printed when the file has errors');
  t.match(bad.err, new RegExp(`${dir}/bad\\.rules:2:14: unknown condition "sometimes"\\n  fix: `));
  t.match(bad.err, /bad\.rules:3:12: "\/33" is not a prefix length/);
  t.match(bad.err, /2 errors; the daemon announces nothing from this file/);

  const proto = ovactl(
    'check',
    '--config',
    file('proto.rules', '%vol2 192.0.2.72 = all(b:a)\n'),
    '--bird-config',
    bird,
  );
  t.equal(proto.code, 1, 'with --bird-config, a protocol bird.conf lacks is an error');
  t.match(
    proto.err,
    /proto\.rules:1:1: .*bird\.conf has no static protocol vol2 fed from \/run\/ovactl\/rhi\n {2}fix: use one of rhi/,
  );

  const missing = ovactl('check', '--config', join(dir, 'nope.rules'));
  t.equal(missing.code, 2);
  t.match(missing.err, /nope\.rules: cannot read: no such file/);
  const usage = ovactl('frob');
  t.equal(usage.code, 2);
  t.match(usage.err, /give one of run, status, check, withdraw, prepare/);
});
