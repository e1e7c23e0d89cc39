// ovactl anyip watch against a real kernel, a network namespace per test: whatever an admin does to
// the ranges file (in-place write, rename-replace, sed -i, delete and re-create, bad lines, a burst
// of 1,000 writes), the local table's proto-252 routes converge to it, foreign local routes survive,
// and the watcher stays up. Convergence is polled with a deadline, never a fixed sleep.
import t, { type Test } from 'tap';
import {
  appendFileSync,
  chmodSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/values.js';
import { Netns, sleep, type Proc } from './helpers/netns.js';
import { skipUnless, needsRoot } from './helpers/root.js';

const skip = skipUnless(needsRoot('network namespaces'));

// Local routes someone else made (no proto 252): they must survive every step.
const FOREIGN = [
  ['203.0.113.0/24', '203.0.113.0/24'],
  ['198.51.100.200/32', '198.51.100.200 static', 'proto', 'static'],
] as const;

type T = Test;

function setup(t: T, tag: string) {
  const ns = Netns.create(t, tag);
  for (const [dst, , ...extra] of FOREIGN) ns.ip('route', 'add', 'local', dst, 'dev', 'lo', 'table', 'local', ...extra);
  const dir = mkdtempSync(join(tmpdir(), `ovactl-${tag}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { ns, dir, cfg: join(dir, 'anyip-routes.cfg') };
}

async function startWatch(t: T, ns: Netns, cfg: string): Promise<Proc> {
  const w = ns.spawnOvactl('anyip', 'watch', '--config', cfg);
  t.ok(await w.waitFor(/anyip watch: following /), 'the watcher is up', { out: w.out, err: w.err });
  return w;
}

/** The kernel converges to `want`, the watcher is alive and the foreign routes are still there. */
async function converged(t: T, ns: Netns, w: Proc | undefined, want: string[], what: string): Promise<void> {
  const r = await ns.converge(want);
  t.same(r.routes, [...want].sort(), `${what}: the kernel follows the file (${r.ms} ms)`, {
    stdout: w?.out,
    stderr: w?.err,
  });
  if (w) t.ok(w.alive(), `${what}: the watcher is still running`);
  const local = ns.local();
  t.ok(
    FOREIGN.every(([, seen]) => local.includes(seen)),
    `${what}: foreign local routes survive`,
    { local },
  );
}

const lines = (...ranges: string[]) => ranges.map((r) => `${r}\n`).join('');

t.test('add, remove, rename-replace, editor backup-and-write, sed -i', { skip }, async (t) => {
  const { ns, dir, cfg } = setup(t, 'aw-edit');
  writeFileSync(cfg, '# VIP ranges\n192.0.2.0/28\n198.51.100.64/26\n');
  const w = await startWatch(t, ns, cfg);
  await converged(t, ns, w, ['192.0.2.0/28', '198.51.100.64/26'], 'first pass');

  appendFileSync(cfg, '10.1.0.0/16\n');
  await converged(t, ns, w, ['192.0.2.0/28', '198.51.100.64/26', '10.1.0.0/16'], 'line added');

  writeFileSync(cfg, '# VIP ranges\n192.0.2.0/28\n10.1.0.0/16\n');
  await converged(t, ns, w, ['192.0.2.0/28', '10.1.0.0/16'], 'line removed (in-place write)');

  const tmp = join(dir, '.anyip-routes.cfg.tmp');
  writeFileSync(tmp, lines('192.0.2.0/28', '10.2.0.0/24'));
  renameSync(tmp, cfg);
  await converged(t, ns, w, ['192.0.2.0/28', '10.2.0.0/24'], 'rename-replace');

  // vim's default save: the original moved to a backup, a new file written under the name.
  renameSync(cfg, `${cfg}~`);
  writeFileSync(cfg, lines('192.0.2.0/28', '10.2.0.0/24', '10.4.4.0/22'));
  unlinkSync(`${cfg}~`);
  await converged(t, ns, w, ['192.0.2.0/28', '10.2.0.0/24', '10.4.4.0/22'], 'backup-and-write save');

  const sed = spawnSync('sed', ['-i', 's#^10\\.2\\.0\\.0/24$#10.3.0.0/24#', cfg], { encoding: 'utf8' });
  t.equal(sed.status, 0, sed.stderr);
  await converged(t, ns, w, ['192.0.2.0/28', '10.3.0.0/24', '10.4.4.0/22'], 'sed -i');

  // A route of ours deleted behind the watcher's back is not its event; the next change repairs it.
  ns.ip('route', 'del', 'local', '10.3.0.0/24', 'dev', 'lo', 'table', 'local', 'proto', '252');
  appendFileSync(cfg, '# touched\n');
  await converged(t, ns, w, ['192.0.2.0/28', '10.3.0.0/24', '10.4.4.0/22'], 'drift repaired at the next pass');

  t.notMatch(w.err, /refused|pass failed|lost the watch/, 'no kernel errors, no lost watch', { stderr: w.err });
  t.equal(await w.stop(), 0, 'SIGTERM: the watcher exits 0');
  t.same(
    ns.owned(),
    ['10.3.0.0/24', '10.4.4.0/22', '192.0.2.0/28'],
    'stopping the watcher leaves the routes (down removes them)',
  );
});

t.test('delete, then re-create (written in place, then by rename)', { skip }, async (t) => {
  const { ns, dir, cfg } = setup(t, 'aw-del');
  writeFileSync(cfg, lines('192.0.2.16/28', '10.9.0.0/16'));
  const w = await startWatch(t, ns, cfg);
  await converged(t, ns, w, ['192.0.2.16/28', '10.9.0.0/16'], 'first pass');

  unlinkSync(cfg);
  await converged(t, ns, w, [], 'file deleted → no ranges');
  t.ok(await w.waitFor(/is missing/), 'the watcher says the file is missing', { out: w.out });

  writeFileSync(cfg, lines('198.51.100.0/27'));
  await converged(t, ns, w, ['198.51.100.0/27'], 're-created in place');
  t.ok(await w.waitFor(/is back/), 'the watcher says the file is back', { out: w.out });

  rmSync(cfg);
  await converged(t, ns, w, [], 'deleted again');
  writeFileSync(join(dir, 'new'), lines('198.51.100.32/27', '10.9.0.0/16'));
  renameSync(join(dir, 'new'), cfg);
  await converged(t, ns, w, ['198.51.100.32/27', '10.9.0.0/16'], 're-created by rename');
  t.equal(await w.stop(), 0, 'SIGTERM: exit 0');
});

t.test('bad lines: reported with number and fix, skipped, the rest applied, watcher alive', { skip }, async (t) => {
  const { ns, cfg } = setup(t, 'aw-bad');
  writeFileSync(cfg, lines('192.0.2.0/28'));
  const w = await startWatch(t, ns, cfg);
  await converged(t, ns, w, ['192.0.2.0/28'], 'first pass');

  writeFileSync(
    cfg,
    [
      '# line 1 is this comment',
      '192.0.2.0/28',
      '10.10.18.18/28',
      'banana',
      '2001:db8::1/24',
      '10.0.0.0/64',
      '198.51.100.64/26',
      '192.0.2.77',
      '',
    ].join('\n'),
  );
  await converged(t, ns, w, ['192.0.2.0/28', '198.51.100.64/26'], 'bad lines skipped, valid ones applied');
  t.ok(await w.waitFor(/:8: /), 'all problems reported', { stderr: w.err });
  const at = (n: number) => w.err.split('\n').find((l) => l.startsWith(`${cfg}:${n}: `)) ?? '';
  t.match(
    at(3),
    /"10\.10\.18\.18\/28" has host bits set.*skipped\. Fix: use 10\.10\.18\.16\/28/,
    'line 3: host bits, the aligned network as the fix',
  );
  t.match(at(4), /"banana" is not a network in CIDR form; skipped\. Fix: /, 'line 4: garbage');
  t.match(at(5), /"2001:db8::1\/24" has host bits set.*Fix: use 2001:d00::\/24/, 'line 5: IPv6 with host bits');
  t.match(
    at(6),
    /"10\.0\.0\.0\/64": an IPv4 range has a prefix of at most \/32.*Fix: use \/0–\/32, e.g\. 10\.0\.0\.0\/24/,
    'line 6: IPv4 address with an IPv6 prefix length',
  );
  t.match(at(8), /"192\.0\.2\.77" has no prefix length; skipped\. Fix: write 192\.0\.2\.77\/32/, 'line 8: no prefix');
  t.notOk(at(2) || at(7), 'valid lines are not reported');
  t.same(
    ns.local('-6').filter((r) => r.startsWith('2001:')),
    [],
    'nothing of the IPv6 line reached the kernel',
  );

  // The same problems are not repeated at every pass; the watcher keeps following.
  const reported = w.err.length;
  writeFileSync(cfg, lines('192.0.2.0/28', '10.10.18.16/28', '10.0.0.0/24', '198.51.100.64/26'));
  await converged(t, ns, w, ['192.0.2.0/28', '10.10.18.16/28', '10.0.0.0/24', '198.51.100.64/26'], 'after the fix');
  t.equal(w.err.length, reported, 'a good file reports nothing on stderr');
  t.notMatch(w.err, /refused|pass failed/, 'no kernel errors: bad lines never reach ip -batch');
});

t.test('a listed range held by a foreign local route: said once, never "File exists"', { skip }, async (t) => {
  const { ns, cfg } = setup(t, 'aw-foreign');
  writeFileSync(cfg, lines('192.0.2.0/28', FOREIGN[0][0]));
  const w = await startWatch(t, ns, cfg);
  await converged(t, ns, w, ['192.0.2.0/28'], 'first pass: the foreign-held range is not added again');
  t.match(w.err, /203\.0\.113\.0\/24 is already a local route not made by anyip-routes: left alone/, 'said on stderr');
  writeFileSync(cfg, lines('192.0.2.0/28', '198.51.100.64/26', FOREIGN[0][0]));
  await converged(t, ns, w, ['192.0.2.0/28', '198.51.100.64/26'], 'another change');
  appendFileSync(cfg, '# touched\n');
  await converged(t, ns, w, ['192.0.2.0/28', '198.51.100.64/26'], 'a touch');
  await sleep(200);
  t.equal(w.err.match(/already a local route/g)?.length, 1, 'said once, not at every pass');
  t.notMatch(w.err, /File exists|refused/, 'no kernel errors');
});

t.test('1,000 rapid writes converge to the last one', { skip }, async (t) => {
  const { ns, dir, cfg } = setup(t, 'aw-burst');
  writeFileSync(cfg, lines('192.0.2.0/24'));
  const w = await startWatch(t, ns, cfg);
  await converged(t, ns, w, ['192.0.2.0/24'], 'first pass');

  // Every write differs; some by rename; a pause past the debounce every 100 writes, so passes run
  // while the burst goes on.
  const content = (i: number) => [
    `10.${i >> 8}.${i & 255}.0/24`,
    ...(i % 2 ? ['198.51.100.0/25'] : []),
    ...(i % 3 ? [`10.200.${i % 7}.0/24`] : []),
  ];
  let last: string[] = [];
  const t0 = Date.now();
  for (let i = 0; i < 1000; i++) {
    last = content(i);
    if (i % 5 === 4) {
      writeFileSync(join(dir, 'tmp'), lines(...last));
      renameSync(join(dir, 'tmp'), cfg);
    } else writeFileSync(cfg, lines(...last));
    if (i % 100 === 99 && i < 999) await sleep(70);
  }
  t.comment(`1,000 writes in ${Date.now() - t0} ms`);
  t.equal(readFileSync(cfg, 'utf8'), lines(...last), 'the file holds the last write');
  await converged(t, ns, w, last, 'after 1,000 writes');
  const passes = (w.out.match(/anyip watch: \d+ added/g) ?? []).length;
  t.ok(passes >= 2 && passes < 200, `debounced: ${passes} passes changed the kernel for 1,000 writes`);
  t.notMatch(w.err, /refused|pass failed/, 'no kernel errors', { stderr: w.err });
  t.equal(await w.stop(), 0, 'SIGTERM: exit 0');
});

t.test('down after the file lost a range still removes it', { skip }, async (t) => {
  const { ns, cfg } = setup(t, 'aw-down');
  writeFileSync(cfg, lines('192.0.2.32/27', '10.5.0.0/16', '198.51.100.128/25'));
  const w = await startWatch(t, ns, cfg);
  await converged(t, ns, w, ['192.0.2.32/27', '10.5.0.0/16', '198.51.100.128/25'], 'watching');
  t.equal(await w.stop(), 0, 'service stopped (SIGTERM)');

  writeFileSync(cfg, lines('192.0.2.32/27')); // edited while the service was down
  const r = ns.ovactl('anyip', 'down', '--config', cfg);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /removed 3 routes/, r.out);
  await converged(t, ns, undefined, [], 'down');
  t.equal(ns.ovactl('anyip', 'down', '--config', cfg).code, 0, 'down again: nothing to do, exit 0');

  rmSync(cfg);
  ns.ip('route', 'add', 'local', '10.6.0.0/16', 'dev', 'lo', 'table', 'local', 'proto', '252');
  t.equal(ns.ovactl('anyip', 'down', '--config', cfg).code, 0, 'down works without the file');
  await converged(t, ns, undefined, [], 'down without a file');
});

t.test('/var/lib/vmware/anyiproutectl.sh from install.sh calls ovactl anyip', { skip }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'ovactl-aw-install-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const inst = spawnSync('bash', [join(ROOT, 'build/install.sh'), scratch], { encoding: 'utf8' });
  t.equal(inst.status, 0, inst.stderr);
  const script = join(scratch, 'var/lib/vmware/anyiproutectl.sh');
  const text = readFileSync(script, 'utf8');
  t.match(text, /up\|down\|watch\) exec \/usr\/bin\/ovactl anyip "\$@"/, 'dispatches to /usr/bin/ovactl anyip');

  // With a stub in place of /usr/bin/ovactl: what it is called with, and what it refuses.
  const log = join(scratch, 'calls');
  const stub = join(scratch, 'stub-ovactl');
  writeFileSync(stub, `#!/bin/sh\necho "$*" >> ${log}\n`);
  chmodSync(stub, 0o755);
  const stubbed = join(scratch, 'anyiproutectl-stub.sh');
  writeFileSync(stubbed, text.replaceAll('/usr/bin/ovactl', stub));
  chmodSync(stubbed, 0o755);
  for (const a of ['up', 'down', 'watch'])
    t.equal(spawnSync(stubbed, [a, '--config', '/x'], { encoding: 'utf8' }).status, 0, `${a} runs ovactl`);
  t.equal(
    readFileSync(log, 'utf8'),
    'anyip up --config /x\nanyip down --config /x\nanyip watch --config /x\n',
    'each as ovactl anyip ACTION ARGS',
  );
  for (const a of [[], ['status'], ['restart'], ['--help']]) {
    const r = spawnSync(stubbed, a, { encoding: 'utf8' });
    t.equal(r.status, 2, `${JSON.stringify(a)} → exit 2`);
    t.match(r.stderr, /usage: .* up\|down\|watch/);
  }
  t.equal(readFileSync(log, 'utf8').split('\n').length, 4, 'refused actions never reach ovactl');

  // The real thing end to end: the installed script → the installed /usr/bin/ovactl → the bundle,
  // with only the root prefix rewritten, in a namespace.
  const ns = Netns.create(t, 'aw-wrap');
  const cfg = join(scratch, 'anyip-routes.cfg');
  writeFileSync(cfg, lines('192.0.2.48/28'));
  const ovactl = join(scratch, 'usr/bin/ovactl');
  writeFileSync(
    ovactl,
    readFileSync(ovactl, 'utf8')
      .replaceAll('/usr/lib/ovactl/', `${scratch}/usr/lib/ovactl/`)
      .replace('/usr/bin/node', process.execPath),
  );
  const real = join(scratch, 'anyiproutectl-real.sh');
  writeFileSync(real, text.replaceAll('/usr/bin/ovactl', ovactl));
  chmodSync(real, 0o755);
  const env = ['/usr/bin/env', '-u', 'NODE_OPTIONS', '-u', 'NODE_EXTRA_CA_CERTS'];
  let r = ns.exec([...env, real, 'up', '--config', cfg]);
  t.equal(r.status, 0, `anyiproutectl.sh up: ${r.stdout}${r.stderr}`);
  t.same(ns.owned(), ['192.0.2.48/28'], 'the route is there');
  r = ns.exec([...env, real, 'down', '--config', cfg]);
  t.equal(r.status, 0, `anyiproutectl.sh down: ${r.stdout}${r.stderr}`);
  t.same(ns.owned(), [], 'and gone');
});
