// The RHI daemon's configuration loader (src/rhi/load.ts) on texts in memory: errors keep nothing,
// targets without a protocol are noted, a rule's state carries over an edit, a dropped rule is withdrawn.
import t from 'tap';
import { loadRules, type LoadInput, type Loaded } from '../src/rhi/load.js';

const PATHS = {
  rulesFile: '/etc/ovactl/rhi.rules',
  birdConfig: '/etc/bird/bird.conf',
  routesDir: '/run/ovactl/rhi',
  haproxyConfig: '/etc/haproxy/haproxy.cfg',
  rangesFile: '/etc/vmware/anyip-routes.cfg',
};
const BIRD = 'protocol static rhi {\n  ipv4;\n  include "/run/ovactl/rhi/rhi.conf";\n}\n';
const files =
  (m: Record<string, string>): LoadInput['read'] =>
  (path) =>
    path in m ? { text: m[path]! } : { error: 'no such file' };
const load = (m: Record<string, string>, previous?: Loaded) =>
  loadRules({ paths: PATHS, read: files(m), previous, now: 1000 });

t.test('errors: the rules file and bird.conf, each named; nothing loaded', async (t) => {
  const r = load({ [PATHS.rulesFile]: '192.0.2.10 = all(b:app' });
  t.ok('errors' in r);
  if (!('errors' in r)) return;
  t.match(r.errors.join('\n'), /\/etc\/ovactl\/rhi\.rules:1/);
  t.match(r.errors.join('\n'), /\/etc\/bird\/bird\.conf: cannot read: no such file/);
  const noStatic = load({ [PATHS.rulesFile]: '192.0.2.10 = all(b:app)', [PATHS.birdConfig]: 'router id 1.2.3.4;' });
  t.ok('errors' in noStatic && noStatic.errors.some((e) => /no static protocol includes/.test(e)));
  t.same('errors' in noStatic && noStatic.protocols, [], 'bird.conf was read: its (no) protocols');
});

t.test('loaded: protocols matched, state kept across an edit, a dropped route withdrawn', async (t) => {
  const first = load({
    [PATHS.rulesFile]: '192.0.2.10 = all(b:app)\n%nope 192.0.2.11 = all(b:app)',
    [PATHS.birdConfig]: BIRD,
  });
  t.ok('loaded' in first);
  if (!('loaded' in first)) return;
  t.same(
    first.protocols.map((p) => p.name),
    ['rhi'],
  );
  t.same(
    first.loaded.rules.map((r) => r.key),
    ['rhi 192.0.2.10/32', 'nope 192.0.2.11/32'],
  );
  t.match(first.loaded.notes.join('\n'), /192\.0\.2\.11\/32: \/etc\/bird\/bird\.conf has no static protocol nope/);
  const rule = first.loaded.rules[0]!;
  rule.state = { ...rule.state, announced: true };
  rule.healthy = true;
  const edited = load(
    { [PATHS.rulesFile]: '192.0.2.10 = any(b:app, b:other)', [PATHS.birdConfig]: BIRD },
    first.loaded,
  );
  t.ok('loaded' in edited);
  if (!('loaded' in edited)) return;
  t.equal(edited.loaded.rules[0]!.state, rule.state, 'same routes: the state carries over');
  t.equal(edited.loaded.rules[0]!.healthy, true);
  t.same(edited.withdrawn, [], 'nothing lost its rule');
  const dropped = load({ [PATHS.rulesFile]: '192.0.2.20 = all(b:app)', [PATHS.birdConfig]: BIRD }, edited.loaded);
  t.same('loaded' in dropped && dropped.withdrawn, ['192.0.2.10/32 (rhi)']);
});
