// Cold start of `ovactl validate` on the bundled examples against bare `node -e 0`.
// Goal (issue 2): median ratio ≤ 1.5×. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 40);
// NODE_EXTRA_CA_CERTS (set on the development machines) makes every Node start read the whole CA
// bundle, ~80 ms that the appliance does not pay; measure both sides without it.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;

function time(args) {
  const samples = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    if (i >= 3) samples.push(ms); // first runs warm the page cache
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], p90: samples[Math.floor(samples.length * 0.9)] };
}

const base = time(['-e', '0']);
console.log(`cold start, ${runs} runs each (median / p90 ms), Node ${process.version}`);
console.log(`  node -e 0                                   ${base.median.toFixed(1)} / ${base.p90.toFixed(1)}`);
for (const ex of ['examples/appliance.json', 'examples/govc-options.json', 'examples/ovf-env.xml']) {
  const r = time(['dist/ovactl.js', 'validate', ex]);
  console.log(`  ovactl validate ${ex.padEnd(27)} ${r.median.toFixed(1)} / ${r.p90.toFixed(1)}   ratio ${(r.median / base.median).toFixed(2)}× (goal ≤ 1.50×)`);
}
