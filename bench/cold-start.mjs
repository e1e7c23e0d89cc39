// Cold start of `ovactl validate` on the bundled examples against bare `node -e 0`.
// Goal (issue 2): median ratio ≤ 1.5×. Prints figures; asserts nothing.
// Runs are interleaved (one of each command per round) so drift on a busy machine hits all alike.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.env.BENCH_RUNS ?? 60);
// NODE_EXTRA_CA_CERTS (set on the development machines) makes every Node start read the whole CA
// bundle, ~80 ms that the appliance does not pay; measure both sides without it.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;

const commands = [
  { name: 'node -e 0', args: ['-e', '0'] },
  ...['examples/appliance.json', 'examples/govc-options.json', 'examples/ovf-env.xml'].map((ex) => ({
    name: `ovactl validate ${ex}`,
    args: ['dist/ovactl.js', 'validate', ex],
  })),
];
const samples = commands.map(() => []);
for (let round = 0; round < rounds + 3; round++) {
  commands.forEach((c, i) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, c.args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}`);
    if (round >= 3) samples[i].push(ms); // the first rounds warm the page cache
  });
}
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)] };
};
const base = stat(samples[0]);
console.log(`cold start, ${rounds} interleaved rounds (median / p90 ms), Node ${process.version}`);
commands.forEach((c, i) => {
  const s = stat(samples[i]);
  const ratio = i === 0 ? '' : `   ratio ${(s.median / base.median).toFixed(2)}× (goal ≤ 1.50×)`;
  console.log(`  ${c.name.padEnd(44)} ${s.median.toFixed(1).padStart(6)} / ${s.p90.toFixed(1).padStart(6)}${ratio}`);
});
