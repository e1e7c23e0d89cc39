// AnyIP figures (issue 4), in a network namespace of our own; prints figures, asserts nothing.
//  (a) `ovactl anyip up` as a whole process: 10 … 10,000 ranges from empty, and a 10% change;
//  (b) at 1,000 ranges: the original appliance's algorithm (per range: list the local table, grep,
//      `ip route add`) vs ovactl vs the floor (one `ip -batch` of the same adds, no reading);
//  (c) `ovactl anyip watch`: save → kernel latency, in-place writes and rename saves (ip monitor);
//  (d) the watcher's resident memory.
// Goals: ≥ 20× the original and ≤ 150 ms at 1,000; ≤ 300 ms at 10,000; watch p99 ≤ 200 ms; ≤ 50 MB.
// Needs root (network namespaces) and a build (npm run build). Env: BENCH_RUNS (default 5),
// BENCH_ORIG_RUNS (3), BENCH_EDITS (200).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAtExit } from './cleanup.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ovactl = join(root, 'dist/ovactl.js');
const runs = Number(process.env.BENCH_RUNS ?? 5);
const origRuns = Number(process.env.BENCH_ORIG_RUNS ?? 3);
const edits = Number(process.env.BENCH_EDITS ?? 200);

// The appliance has neither tap's NODE_OPTIONS nor this machine's NODE_EXTRA_CA_CERTS (~80 ms a start).
const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.NODE_EXTRA_CA_CERTS;

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const sleep = (n) => new Promise((r) => setTimeout(r, n));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const f1 = (x) => x.toFixed(1);

/** Range i as a /30 in 10.0.0.0/8 (up to 4M ranges). */
const range = (i) => `10.${(i >> 14) & 255}.${(i >> 6) & 255}.${(i & 63) << 2}/30`;
const ranges = (from, to) => Array.from({ length: to - from }, (_, k) => range(from + k));

if (process.getuid?.() !== 0) {
  console.log('anyip: skipped (needs root for network namespaces)');
} else if (!existsSync(ovactl)) {
  console.log('anyip: skipped (no dist/ovactl.js: npm run build)');
} else {
  await main();
}

async function main() {
  const ns = `ovactl-bench-anyip-${process.pid}`;
  const scratch = mkdtempSync(join(tmpdir(), 'ovactl-bench-anyip-'));
  const cfg = join(scratch, 'anyip-routes.cfg');
  const { children, done } = cleanupAtExit({ namespaces: [ns], scratch });

  const ip = (...args) => {
    const r = spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`ip -n ${ns} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const owned = () => JSON.parse(ip('-json', 'route', 'show', 'table', 'local', 'proto', '252') || '[]').length;
  /** A process in the namespace: nsenter --net only execs (no fork), so timing and PID are the program's. */
  const inNs = (cmd) => ['nsenter', `--net=/run/netns/${ns}`, ...cmd];
  const timed = (cmd, input) => {
    const [bin, ...args] = inNs(cmd);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(bin, args, {
      env,
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
    const t = ms(t0);
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return t;
  };
  const up = () => timed([process.execPath, ovactl, 'anyip', 'up', '--config', cfg]);
  const flushOwned = () => ip('route', 'flush', 'table', 'local', 'proto', '252');

  try {
    spawnSync('ip', ['netns', 'add', ns]);
    ip('link', 'set', 'lo', 'up');
    const nsenterMs = median(Array.from({ length: 5 }, () => timed(['true'])));
    const nodeMs = median(Array.from({ length: 5 }, () => timed([process.execPath, '-e', '0'])));
    console.log(
      `\nAnyIP (ovactl anyip), Node ${process.version}, ${runs} runs each (median ms, whole process incl. Node start ${f1(nodeMs)} ms; nsenter ${f1(nsenterMs)} ms)`,
    );

    // (a) converge time
    const converge = {};
    console.log(
      '  (a) ovactl anyip up                from empty    10% change (10% removed, 10% new)    floor: one ip -batch of the adds',
    );
    for (const n of [10, 100, 1000, 10000]) {
      const fromEmpty = [],
        change = [],
        floorN = [];
      const base = ranges(0, n),
        changed = ranges(Math.ceil(n / 10), n + Math.ceil(n / 10));
      const r = n >= 10000 ? Math.max(3, Math.ceil(runs / 2)) : runs;
      for (let i = 0; i < r; i++) {
        flushOwned();
        writeFileSync(cfg, base.join('\n') + '\n');
        fromEmpty.push(up());
        if (owned() !== n) console.log(`      warning: ${owned()} routes after up, want ${n}`);
        writeFileSync(cfg, changed.join('\n') + '\n');
        change.push(up());
        if (owned() !== changed.length)
          console.log(`      warning: ${owned()} routes after the change, want ${changed.length}`);
        flushOwned();
        floorN.push(
          timed(
            ['ip', '-batch', '-'],
            base.map((x) => `route add local ${x} dev lo table local proto 252`).join('\n') + '\n',
          ),
        );
      }
      converge[n] = { empty: median(fromEmpty), change: median(change), floor: median(floorN) };
      console.log(
        `      ${String(n).padStart(6)} ranges               ${f1(converge[n].empty).padStart(7)}       ${f1(converge[n].change).padStart(7)}                               ${f1(converge[n].floor).padStart(7)}`,
      );
    }
    flushOwned();

    // (b) at 1,000: the original's per-range loop, ovactl, the floor
    const thousand = ranges(0, 1000);
    writeFileSync(cfg, thousand.join('\n') + '\n');
    const original = join(scratch, 'original.sh');
    writeFileSync(
      original,
      `#!/bin/bash
# The original anyiproutectl.sh "up": per range, list the local table, grep it, add what is missing.
while IFS= read -r line; do
  [[ "\${line}" =~ ^[[:space:]]*# ]] && continue
  [ -z "\${line}" ] && continue
  if ! ip route list table local | grep -q "local \${line} dev lo"; then
    ip route add local "\${line}" dev lo
  fi
done < "$1"
`,
    );
    const orig = [];
    for (let i = 0; i < origRuns; i++) {
      ip('route', 'flush', 'table', 'local', 'proto', 'boot');
      orig.push(timed(['bash', original, cfg]));
      const n = JSON.parse(ip('-json', 'route', 'show', 'table', 'local', 'proto', 'boot') || '[]').length;
      if (n !== 1000) console.log(`      warning: the original made ${n} routes, want 1000`);
    }
    ip('route', 'flush', 'table', 'local', 'proto', 'boot');
    const batch = thousand.map((r) => `route add local ${r} dev lo table local proto 252`).join('\n') + '\n';
    const floor = [];
    for (let i = 0; i < runs; i++) {
      flushOwned();
      floor.push(timed(['ip', '-batch', '-'], batch));
    }
    flushOwned();
    const origMs = median(orig),
      floorMs = median(floor),
      ovaMs = converge[1000].empty;
    console.log(
      `  (b) 1,000 ranges from empty: original per-range loop ${f1(origMs)} (${origRuns} runs); ovactl ${f1(ovaMs)}; floor (one ip -batch, no read) ${f1(floorMs)}`,
    );
    console.log(
      `      original / ovactl = ${f1(origMs / ovaMs)}×; ovactl − floor = ${f1(ovaMs - floorMs)} ms (≈ Node start + reading + planning)`,
    );

    // (c) watch latency, (d) memory
    const base = ranges(0, 100);
    writeFileSync(cfg, base.join('\n') + '\n');
    const [wbin, ...wargs] = inNs([process.execPath, ovactl, 'anyip', 'watch', '--config', cfg]);
    const watcher = spawn(wbin, wargs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(watcher);
    let wout = '';
    watcher.stdout.setEncoding('utf8').on('data', (s) => (wout += s));
    watcher.stderr.setEncoding('utf8').on('data', (s) => (wout += s));
    for (let t0 = Date.now(); !wout.includes('following') && Date.now() - t0 < 10_000; ) await sleep(10);
    if (!wout.includes('following')) throw new Error(`the watcher did not start: ${wout}`);
    const comm = readFileSync(`/proc/${watcher.pid}/comm`, 'utf8').trim();

    const monitor = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(monitor);
    const seen = new Map(); // dst → hrtime when its add appeared
    let buf = '';
    monitor.stdout.setEncoding('utf8').on('data', (s) => {
      const now = process.hrtime.bigint();
      buf += s;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) {
        const m = /^local (\S+) dev lo table local proto 252/.exec(l);
        if (m) seen.set(m[1], now);
      }
    });
    await sleep(200); // the monitor is subscribed

    const latency = async (mode, offset) => {
      const out = [];
      for (let k = 0; k < edits; k++) {
        const dst = range(1_000_000 + offset + k);
        const text = [...base, dst].join('\n') + '\n';
        const t0 = process.hrtime.bigint();
        if (mode === 'rename') {
          writeFileSync(`${cfg}.tmp`, text);
          renameSync(`${cfg}.tmp`, cfg);
        } else writeFileSync(cfg, text);
        const deadline = Date.now() + 5000;
        while (!seen.has(dst) && Date.now() < deadline) await sleep(1);
        out.push(seen.has(dst) ? Number(seen.get(dst) - t0) / 1e6 : Number.POSITIVE_INFINITY);
        await sleep(5 + (k % 7) * 3); // edits a little apart, as a person or a controller makes them
      }
      return out;
    };
    const inPlace = await latency('in-place', 0);
    const renamed = await latency('rename', edits);
    const lost = [...inPlace, ...renamed].filter((x) => x === Number.POSITIVE_INFINITY).length;
    console.log(`  (c) watch, save → route in the kernel (ip monitor), ${edits} edits each, 100 ranges in the file:`);
    console.log(
      `      in-place write   p50 ${f1(pct(inPlace, 50))}  p99 ${f1(pct(inPlace, 99))}  max ${f1(Math.max(...inPlace))}`,
    );
    console.log(
      `      rename save      p50 ${f1(pct(renamed, 50))}  p99 ${f1(pct(renamed, 99))}  max ${f1(Math.max(...renamed))}${lost ? `   (${lost} edits never reached the kernel!)` : ''}`,
    );
    console.log('      (the watcher debounces 50 ms: the floor of this latency is the debounce + one pass)');

    const status = () => readFileSync(`/proc/${watcher.pid}/status`, 'utf8');
    const kb = (s, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? Number.NaN);
    const afterEdits = status();
    // One more pass with 10,000 ranges (100 of them already there), then measure again.
    const t10k = process.hrtime.bigint();
    writeFileSync(cfg, ranges(0, 10000).join('\n') + '\n');
    for (let t0 = Date.now(); !seen.has(range(9999)) && Date.now() - t0 < 10_000; ) await sleep(1);
    const big = seen.has(range(9999)) ? Number(seen.get(range(9999)) - t10k) / 1e6 : Number.POSITIVE_INFINITY;
    console.log(`      10,000-range file saved → its last route in the kernel: ${f1(big)} ms`);
    await sleep(300);
    const afterBig = status();
    await sleep(12_000); // V8 gives memory back after a while without allocation
    const settled = status();
    const mb = (st, key = 'VmRSS') => f1(kb(st, key) / 1024);
    console.log(
      `  (d) watcher RSS (pid ${watcher.pid}, ${comm}): 100 ranges, after ${2 * edits} edits ${mb(afterEdits)} MB; 10,000 ranges: right after the pass ${mb(afterBig)} MB, 12 s later ${mb(settled)} MB (peak ${mb(settled, 'VmHWM')} MB)`,
    );

    watcher.kill('SIGTERM');
    const code = await new Promise((r) =>
      watcher.exitCode !== null ? r(watcher.exitCode) : watcher.once('exit', (c, s) => r(c ?? s)),
    );
    monitor.kill('SIGTERM');

    const rssMb = kb(afterEdits, 'VmRSS') / 1024;
    const rssBig = kb(settled, 'VmRSS') / 1024;
    const p99 = Math.max(pct(inPlace, 99), pct(renamed, 99));
    const goal = (ok) => (ok ? 'ok' : 'MISSED');
    console.log('  summary                                              measured      goal');
    console.log(
      `    ovactl anyip up, 1,000 ranges from empty        ${f1(ovaMs).padStart(8)} ms   ≤ 150 ms   ${goal(ovaMs <= 150)}`,
    );
    console.log(
      `    ovactl anyip up, 10,000 ranges from empty       ${f1(converge[10000].empty).padStart(8)} ms   ≤ 300 ms   ${goal(converge[10000].empty <= 300)}`,
    );
    console.log(
      `    original / ovactl at 1,000                      ${f1(origMs / ovaMs).padStart(8)} ×    ≥ 20 ×     ${goal(origMs / ovaMs >= 20)}`,
    );
    console.log(
      `    watch latency p99 (worse of in-place, rename)   ${f1(p99).padStart(8)} ms   ≤ 200 ms   ${goal(p99 <= 200)}`,
    );
    console.log(
      `    ${`watcher RSS, 100 ranges, after ${2 * edits} edits`.padEnd(48)}${f1(rssMb).padStart(8)} MB   ≤ 50 MB    ${goal(rssMb <= 50)}`,
    );
    console.log(
      `    watcher RSS, 10,000 ranges (settled)            ${f1(rssBig).padStart(8)} MB   ≤ 50 MB    ${goal(rssBig <= 50)}   (peak ${f1(kb(settled, 'VmHWM') / 1024)} MB during the 10,000-range pass)`,
    );
    console.log(`    (watcher exit status on SIGTERM: ${code})`);
  } finally {
    done();
  }
}
