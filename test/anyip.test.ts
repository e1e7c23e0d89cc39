// ovactl anyip up|down|status against a real kernel, inside a network namespace of our own.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { skipUnless, needsRoot } from './helpers/root.js';

const skip = skipUnless(needsRoot('a network namespace'));
const ns = `ovactl-anyip-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'ovactl-anyip-'));
const cfg = join(dir, 'anyip-routes.cfg');

t.teardown(() => {
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

const inNs = (cmd: string[], input?: string) =>
  spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', 'ip', 'netns', 'exec', ns, ...cmd], { encoding: 'utf8', input });
const ovactl = (...args: string[]) =>
  runCli(['anyip', ...args, '--config', cfg], { wrap: ['ip', 'netns', 'exec', ns] });
const kernel = () =>
  JSON.parse(inNs(['ip', '-json', 'route', 'show', 'table', 'local', 'proto', '252']).stdout || '[]')
    .map((r: { dst: string }) => r.dst)
    .sort();

t.test('up/down converge the local table to the file', { skip }, async (t) => {
  execFileSync('ip', ['netns', 'add', ns]);
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  // A local route someone else made: it must survive everything.
  inNs(['ip', 'route', 'add', 'local', '203.0.113.0/24', 'dev', 'lo', 'table', 'local']);

  writeFileSync(cfg, '# header\n198.51.100.64/26\n\n192.0.2.128/25 # trailing comment\n');
  let r = ovactl('up');
  t.equal(r.code, 0, r.err);
  t.same(kernel(), ['192.0.2.128/25', '198.51.100.64/26']);

  writeFileSync(cfg, '198.51.100.64/26\n10.10.18.18/28\nbanana\n2001:db8:1::/64\n');
  r = ovactl('up');
  t.equal(r.code, 1, 'bad lines make the exit status 1');
  t.match(
    r.err,
    /anyip-routes\.cfg:2: "10\.10\.18\.18\/28" has host bits set; the kernel refuses it; skipped\. Fix: use 10\.10\.18\.16\/28 \(hosts 10\.10\.18\.17–10\.10\.18\.30\)/,
  );
  t.match(r.err, /:3: "banana" is not a network/);
  t.same(kernel(), ['198.51.100.64/26'], 'removed range gone, valid lines applied');
  const v6 = JSON.parse(
    inNs(['ip', '-6', '-json', 'route', 'show', 'table', 'local', 'proto', '252']).stdout || '[]',
  ).map((x: { dst: string }) => x.dst);
  t.same(v6, ['2001:db8:1::/64'], 'IPv6 ranges too');

  const ping = inNs(['ping', '-c1', '-W1', '198.51.100.99']);
  t.equal(ping.status, 0, 'an address in the range answers');

  const st = ovactl('status', '--json');
  t.equal(st.code, 1, 'bad lines → status 1');
  const j = JSON.parse(st.out);
  t.same(j.missing, []);
  t.same(j.extra, []);
  t.equal(j.problems.length, 2);

  writeFileSync(cfg, '');
  r = ovactl('down');
  t.equal(r.code, 0, r.err);
  t.same(kernel(), [], 'down removes what the file no longer lists');
  const foreign = inNs(['ip', '-json', 'route', 'show', 'table', 'local', '203.0.113.0/24']).stdout;
  t.match(foreign, /203\.0\.113\.0/, 'the foreign local route survived');
});

t.test(
  'a listed range someone else already made a local route: left alone, said, no "File exists"',
  { skip },
  async (t) => {
    // The namespace and its foreign 203.0.113.0/24 (no proto 252) are from the test above.
    writeFileSync(cfg, '198.51.100.64/26\n203.0.113.0/24\n');
    for (const pass of ['first', 'second']) {
      const r = ovactl('up');
      t.equal(r.code, 0, `${pass} up: exit 0`, { stderr: r.err });
      t.notMatch(r.err, /File exists|refused/, `${pass} up: no kernel error`);
      t.match(
        r.err,
        /203\.0\.113\.0\/24 is already a local route not made by anyip-routes: left alone/,
        `${pass} up: says so, with how to hand it over`,
      );
    }
    t.same(kernel(), ['198.51.100.64/26'], 'only the other range is ours');
    const st = ovactl('status', '--json');
    const j = JSON.parse(st.out);
    t.same(j.foreign, ['203.0.113.0/24'], 'status --json: under "foreign"');
    t.same(j.missing, [], 'not "missing": it answers');
    t.equal(inNs(['ping', '-c1', '-W1', '203.0.113.9']).status, 0, 'and it does answer');
    inNs(['ip', 'route', 'del', 'local', '203.0.113.0/24', 'table', 'local']);
    const r = ovactl('up');
    t.equal(r.code, 0, 'handed over: up takes it');
    t.same(kernel(), ['198.51.100.64/26', '203.0.113.0/24'], 'now both are ours');
    writeFileSync(cfg, '');
    ovactl('down');
    inNs(['ip', 'route', 'add', 'local', '203.0.113.0/24', 'dev', 'lo', 'table', 'local']);
  },
);

t.test(
  'default, multicast, broadcast, reserved, loopback and link-local ranges are refused; the other lines apply',
  { skip },
  async (t) => {
    // Before, `local 0.0.0.0/0` went in and the gateway and every address routed to lo.
    const bad = [
      '0.0.0.0/0',
      '::/0',
      '224.0.0.0/4',
      '240.0.0.0/4',
      '255.255.255.255/32',
      '127.0.0.0/8',
      '169.254.0.0/16',
      'ff02::/16',
      'fe80::/64',
      '0.0.0.0/1',
    ];
    writeFileSync(cfg, [...bad, '198.51.100.64/26'].join('\n') + '\n');
    const r = ovactl('up');
    t.equal(r.code, 1, 'bad lines make the exit status 1');
    for (const [i, b] of bad.entries())
      t.match(
        r.err,
        new RegExp(`:${i + 1}: ${b.replace(/[./]/g, '\\$&')} (is|contains) `),
        `line ${i + 1} (${b}) is refused with its reason`,
      );
    t.same(kernel(), ['198.51.100.64/26'], 'only the good range is installed');
    writeFileSync(cfg, '');
    ovactl('down');
    t.same(kernel(), [], 'and down removes it');
  },
);

t.test('ranges file: a 1 MB line is named, cut, with its length', async (t) => {
  const { parseRangesFile } = await import('../src/anyip/ranges-file.js');
  const huge = '9'.repeat(1_000_000);
  const f = parseRangesFile(`198.51.100.0/24\n${huge}\n10.0.0.1/8\n`);
  t.equal(f.ranges.length, 1, 'the good line still counts');
  t.equal(f.problems[0]?.line, 2);
  t.ok(f.problems[0]!.message.length < 200, `a short message (${f.problems[0]!.message.length} characters)`);
  t.match(f.problems[0]!.message, /^"9{60}"… \(1000000 characters\) is not a network in CIDR form$/);
  t.match(f.problems[1]?.message, /^"10\.0\.0\.1\/8" has host bits set/, 'short values are quoted whole');
});

t.test('no local table at all (a namespace with lo down): no routes, not an error', { skip }, async (t) => {
  const bare = `ovactl-anyip-bare-${process.pid}`;
  execFileSync('ip', ['netns', 'add', bare]);
  t.teardown(() => spawnSync('ip', ['netns', 'del', bare]));
  writeFileSync(cfg, '198.51.100.64/26\n');
  const r = runCli(['anyip', 'status', '--json', '--config', cfg], { wrap: ['ip', 'netns', 'exec', bare] });
  t.notMatch(r.err, /internal error|FIB table/, 'no internal error', { stderr: r.err });
  t.equal(r.code, 1, 'exit 1: a range is missing');
  t.same(JSON.parse(r.out).missing, ['198.51.100.64/26'], 'the range is reported missing');
});

t.test('ranges file: the IPv4 fast path gives exactly what parseCidr gives', async (t) => {
  const { parseRangesFile } = await import('../src/anyip/ranges-file.js');
  const { hasHostBits, networkText, parseCidr } = await import('../src/net/ip.js');
  const { specialRange } = await import('../src/net/special.js');
  const samples = [
    '0.0.0.0/0',
    '1.2.3.4/0',
    '255.255.255.255/32',
    '255.255.255.254/31',
    '128.0.0.0/1',
    '10.0.0.0/8',
    '10.0.0.0/08',
    '10.0.0.0/024',
    '010.0.0.0/8',
    '10.0.0.256/32',
    '10.0.0.0/33',
    '10.0.0.0/64',
    '192.0.2.64/26',
    '192.0.2.65/26',
    '10.10.18.18/28',
    '1.2.3.4/32',
    '1.2.3/24',
    '1.2.3.4/',
  ];
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 3000; i++) {
    const p = rnd(33);
    let v = rnd(2 ** 16) * 2 ** 16 + rnd(2 ** 16);
    if (i % 2) v = p === 0 ? 0 : Number((BigInt(v) >> BigInt(32 - p)) << BigInt(32 - p)); // aligned half the time
    samples.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${p}`);
  }
  const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  const wrong: string[] = [];
  for (const s of samples) {
    const c = parseCidr(s);
    const r = parseRangesFile(s);
    const ok =
      typeof c === 'string' || hasHostBits(c) || specialRange(c)
        ? r.ranges.length === 0 &&
          r.problems.length === 1 &&
          (typeof c === 'string' || !!specialRange(c) || r.problems[0]!.hint.includes(networkText(c)))
        : r.problems.length === 0 && json(r.ranges) === json([c]);
    if (!ok) wrong.push(s);
  }
  t.same(wrong, [], `${samples.length} lines parse as parseCidr does`);
});

t.test('change lines name at most 20 ranges of each kind', async (t) => {
  const { describeChange } = await import('../src/anyip/converge.js');
  const add = Array.from({ length: 25 }, (_, i) => `10.0.${i}.0/24`);
  const line = describeChange({ add, remove: ['192.0.2.0/24'], kept: [], foreign: [] });
  t.match(
    line,
    /^25 added, 1 removed, 0 unchanged; added 10\.0\.0\.0\/24, .*10\.0\.19\.0\/24 and 5 more; removed 192\.0\.2\.0\/24$/,
  );
  t.notMatch(line, /10\.0\.20\.0/);
});
