// The RHI daemon against bad and changing input, with a real haproxy, BIRD and router in network
// namespaces: a rules file that does not parse (clear errors, nothing announced from it; later, the
// previous rules stay), haproxy reloads that rename a backend (missing → down, said so) or add and
// remove frontends (auto), haproxy gone (unreachable → down), BIRD restarted.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './helpers/netns.js';
import { routesText } from '../src/rhi/bird.js';
import { birdConfigure } from '../src/rhi/sockets.js';
import { birdArgv, buildRig, haproxyConfig, save, skip, VIP, waitEstablished } from './helpers/rhi-rig.js';

const VIP2 = '203.0.113.11';

t.test('bad rules, reloads, haproxy and BIRD going away', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-rhi-daemon-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rig = await buildRig(t, dir, 1);
  const a = rig.appliances[0]!;
  await a.startHaproxy(haproxyConfig(a.dir, [{ name: 'vip', bind: `${VIP}:80`, backend: 'app' }]));
  t.ok(await waitEstablished(rig), 'the BGP session is established');

  // A route left in the route file by a daemon that was killed (and no ExecStopPost ran).
  writeFileSync(join(a.routesDir, 'rhi.conf'), routesText([`${VIP}/32`]));
  t.same(await birdConfigure(a.bird.socket), { ok: true });
  t.ok((await rig.waitNexthops([a.address], 5000)).ok, 'a stale route is announced before the daemon starts');

  // 1. A rules file with errors: every error with line:column, nothing announced.
  writeFileSync(a.rules, `${VIP} = all(b:app)\n${VIP2} = sometimes(b:app)\n203.0.113.12/33 = all(b:app)\n`);
  const d = a.startDaemon();
  t.ok(
    await d.waitFor(/the configuration has errors; nothing is announced/, 3000),
    'the daemon says the file is refused',
    { err: d.err },
  );
  t.match(d.err, new RegExp(`${a.rules}:2:${VIP2.length + 4}: unknown condition "sometimes"\\n  fix: use all`));
  t.match(d.err, new RegExp(`${a.rules}:3:14: "/33" is not a prefix length`));
  await sleep(800); // eight polls
  t.same(rig.nexthops(), [], 'nothing announced from the bad file (not even its good line); the stale route is gone');
  t.same(await a.birdRoutes(), []);
  t.ok(d.alive(), 'the daemon keeps running');
  const bad = a.status();
  t.equal(bad.code, 1, 'status exits 1 while the file has errors');
  t.match(bad.json, {
    running: true,
    rules: [],
    config: { usingPrevious: false, errors: [/:2:\d+: unknown condition/, /:3:14:/] },
  });
  t.match(
    a.ovactl('status', '--state', a.state).out,
    /ERROR .*rhi\.rules:2:\d+: unknown condition "sometimes"[\s\S]*nothing is announced until the file is fixed/,
  );

  // 2. Fixed (an editor's rename-save): applied without a restart.
  save(a.rules, `${VIP} = all(b:app)\n`);
  const fixed = await rig.waitNexthops([a.address], 5000);
  t.ok(fixed.ok, `the fixed file applies (${fixed.ms} ms)`, { out: d.out, err: d.err });

  // 3. Broken again: the previous rules stay in force.
  save(a.rules, `${VIP} = all(b:app\n`);
  t.ok(await d.waitFor(/the previous rules stay in force/, 3000), 'the daemon keeps the previous rules');
  await sleep(500);
  t.same(rig.nexthops(), [a.address], 'still announced');
  t.match(a.status().json, {
    config: { usingPrevious: true, errors: [/:1:\d+: expected "\)" to close all\(/] },
    rules: [{ announced: true }],
  });

  // 4. haproxy reloads into a configuration where the backend is renamed: b:app is missing → down.
  save(a.rules, `${VIP} = all(f:vip, b:app)\n`);
  await d.waitFor(/reloaded 1 rule/, 3000);
  await a.startHaproxy(haproxyConfig(a.dir, [{ name: 'vip', bind: `${VIP}:80`, backend: 'app2' }]));
  const missing = await rig.waitNexthops([], 5000);
  t.ok(missing.ok, `backend renamed at a reload → withdrawn (${missing.ms} ms)`);
  t.ok(
    await d.waitFor(/rhi: withdraw 203\.0\.113\.10\/32 \(rhi\): b:app is not in haproxy's running configuration/, 1000),
    'and says why',
    { out: d.out },
  );
  t.notMatch(
    d.out,
    /withdraw 203\.0\.113\.10\/32 \(rhi\): b:app DOWN/,
    "editing the rule's condition did not withdraw it",
  );
  t.match(a.status().json, {
    rules: [
      {
        announced: false,
        inputs: [
          { ref: 'f:vip', up: true },
          { ref: 'b:app', status: 'missing', up: false },
        ],
        reason: /b:app is not in haproxy's running configuration/,
      },
    ],
  });

  // 5. auto follows haproxy.cfg: the renamed backend is fine, a new frontend adds a VIP, a removed one withdraws it.
  save(a.rules, 'auto\n');
  const auto = await rig.waitNexthops([a.address], 8000);
  t.ok(auto.ok, 'auto: the VIP is announced again (its rule now names b:app2)', { out: d.out });
  await a.startHaproxy(
    haproxyConfig(a.dir, [
      { name: 'vip', bind: `${VIP}:80`, backend: 'app2' },
      { name: 'new', bind: `${VIP2}:443`, backend: 'app3' },
    ]),
  );
  const added = await rig.waitNexthops([a.address], 8000, VIP2);
  t.ok(added.ok, `a frontend created at run time → its VIP is announced (${added.ms} ms)`, { out: d.out });
  await a.startHaproxy(haproxyConfig(a.dir, [{ name: 'new', bind: `${VIP2}:443`, backend: 'app3' }]));
  t.ok((await rig.waitNexthops([], 5000)).ok, 'its frontend removed → the first VIP is withdrawn');
  t.same(rig.nexthops(VIP2), [a.address], 'the other stays');

  // 6. haproxy gone: the runtime API is unreachable, everything counts as down.
  await a.haproxy!.stop();
  t.ok((await rig.waitNexthops([], 5000, VIP2)).ok, 'haproxy stopped → withdrawn');
  t.ok(await d.waitFor(/runtime API: .*every frontend and backend counts as down/, 2000));
  t.match(a.status().json, { haproxy: { reachable: false }, rules: [{ inputs: [{ status: 'unreachable' }] }] });
  await a.startHaproxy(haproxyConfig(a.dir, [{ name: 'new', bind: `${VIP2}:443`, backend: 'app3' }]));
  t.ok((await rig.waitNexthops([a.address], 8000, VIP2)).ok, 'haproxy back → announced again after the hold-down');

  // 7. BIRD restarted: it reads the route files the daemon left, and announces again.
  await a.bird.proc.stop();
  a.bird.proc = a.ns.spawn(birdArgv(a.dir, a.bird.socket));
  const again = await rig.waitNexthops([a.address], 20_000, VIP2);
  t.ok(again.ok, `BIRD restarted → the route is back at the router (${again.ms} ms)`, { got: again.got });

  t.equal(await d.stop(), 0);
  t.notMatch(d.err, /poll failed|cannot write/, 'no internal failure', { err: d.err });
  if (process.env.RHI_DEBUG) t.comment(`stdout:\n${d.out}\nstderr:\n${d.err}`);
});
