// The admin's path without the development toolchain: `npm pack` of the built bundle is a tarball
// whose ovactl runs from an empty folder (no node_modules, no repo), on the appliance's Node 18.20
// when test/run.sh provides it (OVACTL_NODE18), else on this Node; installed from the tarball
// offline, it needs no other package.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/values.js';

const NODE = process.env.OVACTL_NODE18 ?? process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'ovactl-pack-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const dropped = (k: string) => ['NODE_OPTIONS', 'OVACTL_DEBUG'].includes(k) || /tap/i.test(k);
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped(k)));
const run = (cmd: string, args: string[], cwd: string) =>
  spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', cmd, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: cleanEnv,
  });

// --ignore-scripts: the bundle the other tests run is packed as built (test/run.sh builds first).
const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
const tarball = packed.status === 0 ? join(dir, JSON.parse(packed.stdout)[0].filename) : '';

t.test('npm pack: the bundle, its package.json and the examples; nothing of the toolchain', async (t) => {
  t.equal(packed.status, 0, packed.stderr);
  const files: string[] = JSON.parse(packed.stdout)[0]
    .files.map((f: { path: string }) => f.path)
    .sort();
  const wanted = ['dist/ovactl.js', 'dist/package.json', 'package.json', 'examples/appliance.json'];
  for (const f of wanted) t.ok(files.includes(f), `packs ${f}`);
  t.same(
    files.filter((f) => /^(src|test|node_modules|build)\//.test(f)),
    [],
    'no sources, tests or build scripts',
  );
  const pkg = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], dir).stdout);
  t.same(pkg.dependencies ?? {}, {}, 'no runtime dependencies: the bundle carries them');
  t.equal(pkg.bin.ovactl, 'dist/ovactl.js');
});

const onNode = process.env.OVACTL_NODE18 ? 'Node 18.20' : 'this Node';
t.test(`the packed ovactl runs from an empty folder on ${onNode}`, async (t) => {
  const empty = join(dir, 'empty');
  t.equal(run('mkdir', [empty], dir).status, 0);
  t.equal(run('tar', ['-xzf', tarball, '-C', empty], dir).status, 0, 'extracted');
  t.notOk(existsSync(join(empty, 'node_modules')), 'no node_modules beside it');
  const ok = run(NODE, ['package/dist/ovactl.js', 'validate', 'package/examples/appliance.json'], empty);
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /✓ valid/);
  const bad = run(NODE, ['package/dist/ovactl.js', 'validate', '-json', 'package/examples/appliance.json'], empty);
  t.equal(bad.status, 2, 'a mistake is exit 2 there too');
  // The lazily compiled chunks (render: handlebars, XML input: xml2js) are inside the one file.
  const xml = run(NODE, ['package/dist/ovactl.js', 'validate', 'package/examples/ovf-env.xml'], empty);
  t.equal(xml.status, 0, xml.stderr);
  const out = join(empty, 'tree');
  const env = 'package/examples/appliance.json';
  const render = run(NODE, ['package/dist/ovactl.js', 'render', '--env', env, '--root', out], empty);
  t.equal(render.status, 0, render.stderr);
  t.ok(existsSync(join(out, 'etc/haproxy/haproxy.cfg')), 'render wrote haproxy.cfg');
});

t.test('npm install -g of the tarball, offline: nothing else to fetch, ovactl on the PATH', async (t) => {
  const prefix = join(dir, 'prefix');
  const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
  const inst = run('npm', ['install', '-g', '--offline', '--prefix', prefix, ...quiet, tarball], dir);
  t.equal(inst.status, 0, inst.stderr);
  t.same(readdirSync(join(prefix, 'lib/node_modules')), ['ovactl'], 'only ovactl installed');
  const r = run(NODE, [join(prefix, 'bin/ovactl'), '--version'], dir);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
