// Render + apply into a scratch root, as whole `ovactl` processes (Node start included).
// Goal (issue 3): ≤ 150 ms excluding certificate generation. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 15);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-bench-'));
// A root that carries what the image carries (the Data Plane API's test stand-in), or first boot
// ends in error (dataplaneapi.missing) and the figures are of another path.
const STANDIN = join(root, 'test/standin/dataplaneapi.cjs');
const withImage = (dir) => {
  mkdirSync(join(dir, 'usr/local/bin'), { recursive: true });
  copyFileSync(STANDIN, join(dir, 'usr/local/bin/dataplaneapi'));
  chmodSync(join(dir, 'usr/local/bin/dataplaneapi'), 0o755);
  return dir;
};
const example = JSON.parse(
  spawnSync(
    process.execPath,
    ['-e', "process.stdout.write(require('fs').readFileSync('examples/appliance.json','utf8'))"],
    { cwd: root, encoding: 'utf8' },
  ).stdout,
);
const values = (port) => {
  const p = join(scratch, `values-${port}.json`);
  writeFileSync(p, JSON.stringify({ ...example, 'loadbalance.dataplane_port': String(port) }));
  return p;
};

// The appliance's image carries a V8 code cache of the commands chunk (build/provision.sh makes it
// with OVACTL_WRITE_CODE_CACHE=1): measured with it, as there, and without it, interleaved.
const cacheDir = join(root, 'dist/code-cache');
const parked = join(root, 'dist/code-cache.bench-off');
rmSync(cacheDir, { recursive: true, force: true });
rmSync(parked, { recursive: true, force: true });
spawnSync(
  process.execPath,
  ['dist/ovactl.js', 'firstboot', '--env', values(5556), '--root', withImage(join(scratch, 'warm'))],
  {
    cwd: root,
    env: { ...env, OVACTL_WRITE_CODE_CACHE: '1' },
    stdio: 'ignore',
  },
);
if (!existsSync(cacheDir)) throw new Error('no code cache was written');
const cache = (on) => {
  if (on && existsSync(parked)) renameSync(parked, cacheDir);
  if (!on && existsSync(cacheDir)) renameSync(cacheDir, parked);
};

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['dist/ovactl.js', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const figures = {
  on: { render: [], fresh: [], reapply: [], unchanged: [] },
  off: { render: [], fresh: [], reapply: [], unchanged: [] },
};
for (let i = 0; i < runs; i++) {
  for (const mode of i % 2 ? ['on', 'off'] : ['off', 'on']) {
    cache(mode === 'on');
    const f = figures[mode];
    f.render.push(time(['render', '--env', values(5556), '--root', withImage(join(scratch, `r${mode}${i}`))]));
    const fb = withImage(join(scratch, `f${mode}${i}`));
    f.fresh.push(time(['firstboot', '--env', values(5556), '--root', fb]));
    f.reapply.push(time(['firstboot', '--env', values(6000 + i), '--root', fb]));
    f.unchanged.push(time(['firstboot', '--env', values(6000 + i), '--root', fb]));
  }
}
cache(false);
rmSync(parked, { recursive: true, force: true });
rmSync(scratch, { recursive: true, force: true });
const row = (label, key, goal = '') =>
  console.log(
    `  ${label.padEnd(58)} ${median(figures.on[key]).toFixed(1).padStart(6)}  ${median(figures.off[key]).toFixed(1).padStart(6)}   ${goal}`,
  );
console.log(`render + apply into a scratch root, ${runs} runs (median ms, whole process), Node ${process.version}`);
console.log(
  `  ${''.padEnd(58)} ${'cache'.padStart(6)}  ${'none'.padStart(6)}   (V8 code cache of the commands chunk, as in the image / without)`,
);
row('ovactl render (fresh root, no certificates)', 'render', 'goal ≤ 150');
row('ovactl firstboot --root, changed values (no cert issued)', 'reapply', 'goal ≤ 150');
row('ovactl firstboot --root, same values ("no changes")', 'unchanged');
row('ovactl firstboot --root, fresh root (CA + server cert)', 'fresh', '(certificate generation included)');
