// Render + apply into a scratch root, as whole `ovactl` processes (Node start included).
// Goal (issue 3): ≤ 150 ms excluding certificate generation. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 15);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-bench-'));
const example = JSON.parse(spawnSync(process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('examples/appliance.json','utf8'))"], { cwd: root, encoding: 'utf8' }).stdout);
const values = (port) => {
  const p = join(scratch, `values-${port}.json`);
  writeFileSync(p, JSON.stringify({ ...example, 'loadbalance.dataplane_port': String(port) }));
  return p;
};

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['dist/ovactl.js', ...args], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const render = [], fresh = [], reapply = [], unchanged = [];
for (let i = 0; i < runs; i++) {
  render.push(time(['render', '--env', values(5556), '--root', join(scratch, `r${i}`)]));
  const fb = join(scratch, `f${i}`);
  fresh.push(time(['firstboot', '--env', values(5556), '--root', fb]));
  reapply.push(time(['firstboot', '--env', values(6000 + i), '--root', fb]));
  unchanged.push(time(['firstboot', '--env', values(6000 + i), '--root', fb]));
}
rmSync(scratch, { recursive: true, force: true });
console.log(`render + apply into a scratch root, ${runs} runs (median ms, whole process), Node ${process.version}`);
console.log(`  ovactl render (fresh root, no certificates)                ${median(render).toFixed(1)}   goal ≤ 150`);
console.log(`  ovactl firstboot --root, changed values (no cert issued)   ${median(reapply).toFixed(1)}   goal ≤ 150`);
console.log(`  ovactl firstboot --root, same values ("no changes")        ${median(unchanged).toFixed(1)}`);
console.log(`  ovactl firstboot --root, fresh root (CA + server cert)     ${median(fresh).toFixed(1)}   (certificate generation included)`);
