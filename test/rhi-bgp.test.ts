// Route health injection end to end (issue 6): two appliances and a router in network namespaces,
// all on Debian's bird2. Both appliances announce the same VIP (one by an explicit rule, one by
// auto) and the router installs one route with two next hops (merge paths). A backend disabled
// through haproxy's runtime API takes its appliance out of the router's route; back, it returns
// after the hold-down. A stopped daemon withdraws; a killed one is withdrawn by `rhi withdraw`
// (the unit's ExecStopPost).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './helpers/netns.js';
import { buildRig, haproxyConfig, skip, VIP, waitEstablished } from './helpers/rhi-rig.js';

t.test('two appliances, one VIP, ECMP at the router; health moves the route', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-rhi-bgp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rig = await buildRig(t, dir, 2, { bfd: true });
  const [a1, a2] = rig.appliances as [(typeof rig.appliances)[0], (typeof rig.appliances)[0]];
  for (const a of [a1, a2])
    await a.startHaproxy(haproxyConfig(a.dir, [{ name: 'vip', bind: `${VIP}:80`, backend: 'app' }]));
  writeFileSync(a1.rules, `# the seed's syntax\n${VIP} = all(f:vip, b:app)\n`);
  writeFileSync(a2.rules, 'auto\n');
  t.ok(await waitEstablished(rig), 'both BGP sessions are established', { router: rig.routerBird.proc.err });

  const d1 = a1.startDaemon();
  const d2 = a2.startDaemon();
  const both = [a1.address, a2.address];
  const ecmp = await rig.waitNexthops(both, 10_000);
  t.ok(ecmp.ok, `the router has one route to ${VIP} with both appliances as next hops (${ecmp.ms} ms)`, {
    got: ecmp.got,
    d1: d1.out + d1.err,
    d2: d2.out + d2.err,
  });
  t.ok(await d2.waitFor(/rhi: loaded 1 rule \(1 from auto\)/, 1000), 'appliance 2 derived its rule from haproxy.cfg');

  const s1 = a1.status();
  t.equal(s1.code, 0, 'rhi status exits 0 while the daemon runs');
  t.match(s1.json, {
    running: true,
    haproxy: { reachable: true },
    bird: { inSync: true, protocols: ['rhi'] },
    rules: [
      {
        rule: `${VIP}/32 = all(f:vip, b:app)`,
        origin: `${a1.rules}:2`,
        announced: true,
        healthy: true,
        inputs: [
          { ref: 'f:vip', status: 'OPEN', up: true },
          { ref: 'b:app', status: 'UP', up: true },
        ],
      },
    ],
    birdRoutes: { rhi: [`${VIP}/32`] },
  });
  t.match(a2.status().json, { rules: [{ origin: `auto: frontend vip binds ${VIP}:80`, announced: true }] });
  const human = a1.ovactl('status', '--state', a1.state);
  t.match(human.out, new RegExp(`announced  ${VIP.replace(/\./g, '\\.')}/32 → rhi  since`), 'human status', {
    out: human.out,
  });

  // Disable the backend on appliance 1: its next hop leaves the router's route.
  await a1.api('disable server app/s1');
  const down = await rig.waitNexthops([a2.address], 5000);
  t.ok(down.ok, `backend down on appliance 1 → the router keeps only appliance 2 (${down.ms} ms)`, { got: down.got });
  t.ok(down.ms < 1500, `withdrawn in under 1.5 s (${down.ms} ms)`);
  t.ok(
    await d1.waitFor(/rhi: withdraw 203\.0\.113\.10\/32 \(rhi\): b:app DOWN/, 2000),
    'the daemon says what it withdrew and why',
    { out: d1.out },
  );
  t.same(await a1.birdRoutes(), [], "appliance 1's BIRD holds no route");
  const held = a1.status().json;
  t.match(held, {
    rules: [
      {
        announced: false,
        healthy: false,
        reason: 'b:app DOWN',
        inputs: [
          { ref: 'f:vip', up: true },
          { ref: 'b:app', status: 'DOWN', up: false },
        ],
      },
    ],
  });

  // Back: announced again, but only after the hold-down (2 s without an unhealthy poll).
  const t0 = Date.now();
  await a1.api('set server app/s1 state ready');
  const back = await rig.waitNexthops(both, 8000);
  const backMs = Date.now() - t0;
  t.ok(back.ok, `re-announced (${backMs} ms after the backend came back)`, { got: back.got });
  // The hold-down counts from the last unhealthy poll, at most one poll (100 ms) before the enable.
  t.ok(backMs >= 1900, `not before the 2 s hold-down (${backMs} ms)`);
  t.ok(backMs < 4000, 'and soon after it');
  t.match(a1.status().json, { rules: [{ announced: true }] });

  // A frontend disabled at run time counts too (appliance 2, auto).
  await a2.api('disable frontend vip');
  t.ok((await rig.waitNexthops([a1.address], 5000)).ok, 'frontend PAUSED on appliance 2 → only appliance 1');
  await a2.api('enable frontend vip');
  t.ok((await rig.waitNexthops(both, 8000)).ok, 'and back');

  // Stop the daemon (SIGTERM, as systemctl stop): it withdraws before it exits.
  t.equal(await d1.stop(), 0, 'the daemon exits 0 on SIGTERM');
  t.ok((await rig.waitNexthops([a2.address], 3000)).ok, 'stopped daemon → its route is withdrawn');
  await sleep(100); // its last lines may still be in the pipe
  t.match(d1.out, /rhi: stopped; every route withdrawn/, 'it says so');
  t.match(a1.status(), { code: 1, json: { running: false } }, 'status: not running, exit 1');
  t.match(a1.ovactl('status', '--state', a1.state).out, /ovactl-rhi: NOT running \(stopped at/);

  // Started again: announced after rise (a new process has no hold-down to serve).
  const d1b = a1.startDaemon();
  t.ok((await rig.waitNexthops(both, 5000)).ok, 'started again → announced again');
  // Killed (SIGKILL: no chance to withdraw): the route stays until the unit's ExecStopPost runs.
  process.kill(d1b.pid, 'SIGKILL');
  await d1b.exited;
  await sleep(500);
  t.same(rig.nexthops(), both, 'a killed daemon leaves its route (systemd runs "ovactl rhi withdraw" after it)');
  const dead = a1.ovactl('status', '--state', a1.state);
  t.equal(dead.code, 1);
  t.match(
    dead.out,
    new RegExp(
      `ovactl-rhi: NOT running \\(pid ${d1b.pid} is gone\\)[\\s\\S]*${VIP.replace(/\./g, '\\.')}/32: BIRD still holds it \\(run "ovactl rhi withdraw"\\)`,
    ),
    'status tells',
    { out: dead.out },
  );
  const w = a1.ovactl('withdraw', ...a1.paths());
  t.equal(w.code, 0, w.err);
  t.match(w.out, /rhi withdraw: 1 route file emptied/);
  const gone = await rig.waitNexthops([a2.address], 3000);
  t.ok(gone.ok, `ovactl rhi withdraw → withdrawn (${gone.ms} ms)`);

  // The last appliance stops: the router has no route at all.
  t.equal(await d2.stop(), 0);
  t.ok((await rig.waitNexthops([], 3000)).ok, 'no appliance announces: the router has no route to the VIP');
  t.notMatch(d2.err, /poll failed|cannot write/, "appliance 2's daemon reported no errors", { err: d2.err });
});
