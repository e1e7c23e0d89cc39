// Worst cases of hostile input (issue 12): `ovactl validate` on adversarial XML up to the 4 MiB cap
// and `ovactl rhi check` on 8,000 rules on one line, each next to a normal input. Wall time of the
// whole CLI (start-up included), worst of BENCH_HOSTILE_RUNS runs. Issue 24: validate on 20,000 and
// 1,000 unknown keys; anyip status/up on 100,000 bad lines (bytes printed) and anyip up on 100,000
// valid /32 lines (peak resident memory of ovactl and the ip it runs; needs root: a network
// namespace of its own). BENCH_OVACTL=path/to/dist/ovactl.js measures another build (before/after).
// BENCH_HOSTILE_ONLY=24 runs only issue 24's cases. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = process.env.BENCH_OVACTL ?? 'dist/ovactl.js';
const only24 = process.env.BENCH_HOSTILE_ONLY === '24';
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
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, bundle, ...args], {
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
for (const [name, text] of only24 ? [] : Object.entries(xml)) {
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
for (const [name, text] of only24 ? [] : Object.entries(rulesFiles)) {
  const f = join(dir, 'rules');
  writeFileSync(f, text);
  row(
    name,
    Buffer.byteLength(text),
    time(['rhi', 'check', '--config', f, '--haproxy-config', join(dir, 'none'), '--ranges', join(dir, 'none')]),
  );
}

console.log('validate on unknown keys (flat JSON):');
const example = JSON.parse(readFileSync(join(root, 'examples/appliance.json'), 'utf8'));
for (const n of [20_000, 980]) {
  const f = join(dir, 'keys.json');
  const text = JSON.stringify({
    ...example,
    ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`unknown.key_number_${i}`, 'v'])),
  });
  writeFileSync(f, text);
  row(`${n.toLocaleString('en-US')} unknown keys`, Buffer.byteLength(text), time(['validate', f]));
}

if (process.getuid?.() !== 0) console.log('anyip: skipped (needs root for a network namespace)');
else {
  const ns = `ovactl-bench-hostile-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  try {
    const inNs = (args, withTime) =>
      spawnSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          ...(withTime ? ['/usr/bin/time', '-f', 'TIME %M %e'] : []),
          process.execPath,
          bundle,
          ...args,
        ],
        { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 30 },
      );
    const bad = join(dir, 'bad.cfg');
    writeFileSync(bad, Array.from({ length: 100_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1/24`).join('\n'));
    console.log('anyip on 100,000 bad lines (host bits), bytes printed (stdout + stderr):');
    for (const args of [['status'], ['status', '--json'], ['up']]) {
      const r = inNs(['anyip', ...args, '--config', bad], false);
      const bytes = Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr);
      console.log(
        `  anyip ${args.join(' ').padEnd(14)} exit ${r.status}  ${(bytes / 1024).toFixed(1).padStart(8)} KiB`,
      );
    }
    const good = join(dir, 'good.cfg');
    const host = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
    writeFileSync(good, Array.from({ length: 100_000 }, (_, i) => host(i)).join('\n'));
    console.log('anyip up on 100,000 valid /32 lines: peak resident memory (ovactl or the ip it runs, the larger):');
    for (const args of [['up', '--config', good], ['down']]) {
      const r = inNs(['anyip', ...args], true);
      const [kb, s] = /TIME (\d+) ([\d.]+)/.exec(r.stderr)?.slice(1).map(Number) ?? [Number.NaN, Number.NaN];
      console.log(
        `  anyip ${args[0].padEnd(4)} exit ${r.status}  peak ${(kb / 1024).toFixed(0).padStart(4)} MB  wall ${s} s`,
      );
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
rmSync(dir, { recursive: true, force: true });
