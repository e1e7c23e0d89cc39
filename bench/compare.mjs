// Before and after, on a noisy machine: this checkout's dist/ovactl.js against another checkout's
// (`node bench/compare.mjs ../other-checkout [PAIRS]`, both built, both with their V8 code cache),
// process by process and interleaved, so drift of the machine hits both alike. Per pair: render into
// a fresh root, first boot on it, first boot with changed values, first boot with the same values.
// Prints medians and the ratio this / other; asserts nothing.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const other = process.argv[2] && resolve(process.argv[2]);
const pairs = Number(process.argv[3] ?? 20);
if (!other || !existsSync(join(other, 'dist/ovactl.js'))) {
  console.log('usage: node bench/compare.mjs OTHER_CHECKOUT [PAIRS] (both checkouts built: npm run build)');
  process.exit(2);
}
const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.NODE_EXTRA_CA_CERTS;
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-compare-'));
const example = JSON.parse(readFileSync(join(here, 'examples/appliance.json'), 'utf8'));
const values = (port) => {
  const p = join(scratch, `values-${port}.json`);
  writeFileSync(p, JSON.stringify({ ...example, 'loadbalance.dataplane_port': String(port) }));
  return p;
};
// A root that carries what the image carries (the Data Plane API's test stand-in), as bench/apply.mjs.
const withImage = (dir) => {
  mkdirSync(join(dir, 'usr/local/bin'), { recursive: true });
  copyFileSync(join(here, 'test/standin/dataplaneapi.cjs'), join(dir, 'usr/local/bin/dataplaneapi'));
  chmodSync(join(dir, 'usr/local/bin/dataplaneapi'), 0o755);
  return dir;
};
const run = (checkout, args, extra = {}) => {
  const t0 = process.hrtime.bigint();
  spawnSync(process.execPath, [join(checkout, 'dist/ovactl.js'), ...args], {
    env: { ...env, ...extra },
    stdio: 'ignore',
  });
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
// Each checkout's code cache, as the image has it.
for (const c of [here, other]) {
  rmSync(join(c, 'dist/code-cache'), { recursive: true, force: true });
  run(c, ['firstboot', '--env', values(5556), '--root', withImage(join(scratch, `warm-${c === here}`))], {
    OVACTL_WRITE_CODE_CACHE: '1',
  });
}

const KINDS = ['render', 'fresh', 'reapply', 'unchanged'];
const figures = { this: {}, other: {} };
for (const side of Object.values(figures)) for (const k of KINDS) side[k] = [];
for (let i = 0; i < pairs; i++) {
  for (const side of i % 2 ? ['this', 'other'] : ['other', 'this']) {
    const checkout = side === 'this' ? here : other;
    const f = figures[side];
    f.render.push(
      run(checkout, ['render', '--env', values(5556), '--root', withImage(join(scratch, `r-${side}${i}`))]),
    );
    const root = withImage(join(scratch, `f-${side}${i}`));
    f.fresh.push(run(checkout, ['firstboot', '--env', values(5556), '--root', root]));
    f.reapply.push(run(checkout, ['firstboot', '--env', values(6000 + i), '--root', root]));
    f.unchanged.push(run(checkout, ['firstboot', '--env', values(6000 + i), '--root', root]));
  }
}
rmSync(scratch, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`this checkout against ${other}, ${pairs} interleaved pairs (median ms, whole process, code cache on)`);
for (const [k, label] of [
  ['render', 'ovactl render (fresh root)'],
  ['fresh', 'firstboot --root, fresh root (CA + server cert)'],
  ['reapply', 'firstboot --root, changed values'],
  ['unchanged', 'firstboot --root, same values ("no changes")'],
]) {
  const [a, b] = [median(figures.this[k]), median(figures.other[k])];
  console.log(
    `  ${label.padEnd(50)} ${a.toFixed(1).padStart(7)} ${b.toFixed(1).padStart(7)}  ratio ${(a / b).toFixed(2)}`,
  );
}
