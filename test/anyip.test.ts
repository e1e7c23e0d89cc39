// ovactl anyip up|down|status against a real kernel, inside a network namespace of our own.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

const root = process.getuid?.() === 0;
const ns = `ovactl-anyip-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'ovactl-anyip-'));
const cfg = join(dir, 'anyip-routes.cfg');

t.teardown(() => {
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

const inNs = (cmd: string[], input?: string) => spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', 'ip', 'netns', 'exec', ns, ...cmd], { encoding: 'utf8', input });
const ovactl = (...args: string[]) => inNs([process.execPath, join(ROOT, 'dist/ovactl.js'), 'anyip', ...args, '--config', cfg]);
const kernel = () => JSON.parse(inNs(['ip', '-json', 'route', 'show', 'table', 'local', 'proto', '252']).stdout || '[]').map((r: { dst: string }) => r.dst).sort();

t.test('up/down converge the local table to the file', { skip: root ? false : 'needs root for a network namespace' }, async (t) => {
  execFileSync('ip', ['netns', 'add', ns]);
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  // A local route someone else made: it must survive everything.
  inNs(['ip', 'route', 'add', 'local', '203.0.113.0/24', 'dev', 'lo', 'table', 'local']);

  writeFileSync(cfg, '# header\n198.51.100.64/26\n\n192.0.2.128/25 # trailing comment\n');
  let r = ovactl('up');
  t.equal(r.status, 0, r.stderr);
  t.same(kernel(), ['192.0.2.128/25', '198.51.100.64/26']);

  writeFileSync(cfg, '198.51.100.64/26\n10.10.18.18/28\nbanana\n2001:db8:1::/64\n');
  r = ovactl('up');
  t.equal(r.status, 1, 'bad lines make the exit status 1');
  t.match(r.stderr, /anyip-routes\.cfg:2: "10\.10\.18\.18\/28" has host bits set; the kernel refuses it; skipped\. Fix: use 10\.10\.18\.16\/28 \(hosts 10\.10\.18\.17–10\.10\.18\.30\)/);
  t.match(r.stderr, /:3: "banana" is not a network/);
  t.same(kernel(), ['198.51.100.64/26'], 'removed range gone, valid lines applied');
  const v6 = JSON.parse(inNs(['ip', '-6', '-json', 'route', 'show', 'table', 'local', 'proto', '252']).stdout || '[]').map((x: { dst: string }) => x.dst);
  t.same(v6, ['2001:db8:1::/64'], 'IPv6 ranges too');

  const ping = inNs(['ping', '-c1', '-W1', '198.51.100.99']);
  t.equal(ping.status, 0, 'an address in the range answers');

  const st = ovactl('status', '--json');
  t.equal(st.status, 1, 'bad lines → status 1');
  const j = JSON.parse(st.stdout);
  t.same(j.missing, []);
  t.same(j.extra, []);
  t.equal(j.problems.length, 2);

  writeFileSync(cfg, '');
  r = ovactl('down');
  t.equal(r.status, 0, r.stderr);
  t.same(kernel(), [], 'down removes what the file no longer lists');
  const foreign = inNs(['ip', '-json', 'route', 'show', 'table', 'local', '203.0.113.0/24']).stdout;
  t.match(foreign, /203\.0\.113\.0/, 'the foreign local route survived');
});
