// Worst cases of hostile input (issue 12): `ovactl validate` on adversarial XML up to the 4 MiB cap
// and `ovactl rhi check` on 8,000 rules on one line, each next to a normal input. Wall time of the
// whole CLI (start-up included), worst of BENCH_HOSTILE_RUNS runs. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.BENCH_HOSTILE_RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'ovactl-bench-hostile-'));
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
const CAP = 4 * 1024 * 1024 - 1024;
const NS = 'http://schemas.dmtf.org/ovf/environment/1';
const env0 = (body) => `<?xml version="1.0"?>\n<Environment xmlns="${NS}" xmlns:oe="${NS}">\n${body}\n</Environment>\n`;
const fill = (unit, room = CAP - 200) => unit.repeat(Math.floor(room / unit.length));

const xml = {
  'normal: examples/ovf-env.xml': readFileSync(join(root, 'examples/ovf-env.xml'), 'utf8'),
  'nested namespaced elements, 4 MiB': env0(
    Array.from({ length: 150_000 }, (_, i) => `<e xmlns:n${i}="u">`)
      .join('')
      .slice(0, CAP - 200),
  ),
  '2,000 elements × 8 namespaces (at the bounds)': env0(
    Array.from(
      { length: 1_990 },
      (_, i) => `<e${i % 10} ${Array.from({ length: 8 }, (_, k) => `xmlns:p${k}="urn:${i}:${k}"`).join(' ')}/>`,
    ).join(''),
  ),
  'depth 15, 1,900 elements of 16 attributes': env0(
    `${'<d>'.repeat(14)}${`<x ${Array.from({ length: 16 }, (_, k) => `a${k}="${'v'.repeat(20)}"`).join(' ')}/>`.repeat(1_900)}${'</d>'.repeat(14)}`,
  ),
  'one 1 MiB - 1 KiB comment (under the size bound)': env0(`<!-- ${'c'.repeat(1024 * 1024 - 1200)} -->`),
  'text node of 1 MiB - 1 KiB': env0(
    `<PlatformSection><Kind>${'t'.repeat(1024 * 1024 - 1200)}</Kind></PlatformSection>`,
  ),
  '4 MiB unknown key': env0(
    `<PropertySection><Property oe:key="${'k'.repeat(CAP - 400)}" oe:value="v"/></PropertySection>`,
  ),
  'keys of 500 KiB (under the bound)': env0(
    `<PropertySection>${Array.from({ length: 2 }, (_, i) => `<Property oe:key="${String(i).repeat(500 * 1024)}" oe:value="v"/>`).join('')}</PropertySection>`,
  ),
  '64 KiB values, 1 MiB': env0(
    `<PropertySection>${Array.from({ length: 15 }, (_, i) => `<Property oe:key="x${i}" oe:value="${'&#10;v'.repeat(11_000)}"/>`).join('')}</PropertySection>`,
  ),
  'syntax error at column 3, 4 MiB after': `<E<${'x'.repeat(CAP)}`,
  'error after 1,900 valid elements': env0(fill('<Property oe:key="a" oe:value="b"/>', 1_900 * 36) + '<bad<'),
  '4 MiB of 64 KiB values (over the size bound)': env0(
    `<PropertySection>${Array.from({ length: 60 }, (_, i) => `<Property oe:key="x${i}" oe:value="${'&#10;v'.repeat(11_000)}"/>`).join('')}</PropertySection>`,
  ),
};

// Wall time is what a user waits; CPU time (user + system, from /usr/bin/time) is what the input
// costs, and what to read on a loaded machine.
function time(args) {
  let worst = 0;
  let cpu = 0;
  let status;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, 'dist/ovactl.js', ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    worst = Math.max(worst, Number(process.hrtime.bigint() - t0) / 1e6);
    const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    cpu = Math.max(cpu, (u + s) * 1000);
    status = r.status;
  }
  return { worst, cpu, status };
}

const row = (name, bytes, { worst, cpu, status }) =>
  console.log(
    `  ${name.padEnd(50)} ${(bytes / 1024).toFixed(0).padStart(6)} KiB  exit ${status}  wall ${worst.toFixed(0).padStart(5)} ms  cpu ${cpu.toFixed(0).padStart(5)} ms`,
  );
console.log(`hostile input (issue 12), worst of ${runs} runs, wall time of the CLI, Node ${process.version}`);
console.log('validate on XML:');
for (const [name, text] of Object.entries(xml)) {
  const f = join(dir, 'in.xml');
  writeFileSync(f, text);
  row(name, Buffer.byteLength(text), time(['validate', f]));
}
console.log('rhi check:');
const rules = Array.from({ length: 8000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1 = all(b:be${i})`);
const rulesFiles = {
  'normal: 3 rules, separate lines': rules.slice(0, 3).join('\n') + '\n',
  '8,000 rules, separate lines': rules.join('\n') + '\n',
  '8,000 rules on one line, ";"': rules.join('; ') + '\n',
  '500 KiB line of ";"-separated garbage': `${'x = y(;'.repeat(73_000)}\n`,
};
for (const [name, text] of Object.entries(rulesFiles)) {
  const f = join(dir, 'rules');
  writeFileSync(f, text);
  row(
    name,
    Buffer.byteLength(text),
    time(['rhi', 'check', '--config', f, '--haproxy-config', join(dir, 'none'), '--ranges', join(dir, 'none')]),
  );
}
rmSync(dir, { recursive: true, force: true });
