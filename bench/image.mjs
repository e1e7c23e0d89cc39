// The appliance image (issue 5): build time, image sizes and boot-to-ready in a real VM.
//
//   build, fresh cache   build/image.sh with an empty cache (debootstrap, every .deb downloaded)
//   build, warm cache    again with that cache (the debootstrap base and the .debs are kept)
//   sizes                the OVA, the streamOptimized VMDK, the raw disk's allocated blocks
//   boot-to-ready        test/vm.test.ts's first boot (qemu -accel tcg, OVMF, 2 vCPUs): from qemu's
//                        start to the first VIP ping answered at the client, to the management
//                        address answering, to the status on the serial console, to "running"
//
// Runs on demand (minutes: a build is 2–5 min, a TCG boot 2–3 min): node bench/image.mjs, as root,
// after npm run build. Prints figures, asserts nothing. Knobs: BENCH_IMAGE_COLD=0 (skip the fresh
// cache build: the warm build then uses .cache/image), BENCH_IMAGE_WARM=0, BENCH_IMAGE_BOOT=0,
// BENCH_IMAGE_BOOTS=N (boots to measure, default 1).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const on = (name, dflt = '1') => (process.env[name] ?? dflt) !== '0';

/** Run a command, stream nothing, collect output; resolves { code, out, ms }. */
function sh(cmd, args, env = {}) {
  const start = Date.now();
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out, ms: Date.now() - start }));
  });
}

const mib = (b) => `${(b / 1048576).toFixed(0)} MiB`;
const s = (ms) => `${(ms / 1000).toFixed(0)} s`;

if (process.getuid?.() !== 0) {
  console.log('image bench: skipped (needs root: debootstrap, systemd-nspawn, network namespaces)');
  process.exit(0);
}
if (!existsSync(join(root, 'dist/ovactl.js'))) {
  console.log('image bench: run npm run build first');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'ovactl-bench-image-'));
const out = join(tmp, 'out');
const cache = on('BENCH_IMAGE_COLD') ? join(tmp, 'cache') : join(root, '.cache/image');
let cleaned = false;
const cleanup = () => {
  if (!cleaned) rmSync(tmp, { recursive: true, force: true });
  cleaned = true;
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

try {
  const builds = [];
  if (on('BENCH_IMAGE_COLD')) builds.push(['fresh cache', true]);
  if (on('BENCH_IMAGE_WARM')) builds.push(['warm cache', false]);
  if (!builds.length) builds.push(['warm cache', false]);
  let info;
  for (const [what] of builds) {
    const r = await sh('bash', ['build/image.sh', out], { OVACTL_IMAGE_CACHE: cache, OVACTL_IMAGE_FORCE: '1' });
    if (r.code !== 0) {
      console.log(
        `build (${what}): FAILED (exit ${r.code}) after ${s(r.ms)}\n${r.out.split('\n').slice(-20).join('\n')}`,
      );
      process.exit(1);
    }
    info = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8'));
    const phases = r.out
      .split('\n')
      .filter((l) => /^(image|provision): .*\(\d+ s\)$/.test(l))
      .map((l) => l.replace(/^(image|provision): /, '').replace(/ \((\d+) s\)$/, ' @$1 s'));
    console.log(`build (${what}): ${s(r.ms)} wall, ${info.seconds} s in build/image.sh`);
    console.log(`  ${phases.join('\n  ')}`);
  }
  console.log(
    `sizes: OVA ${mib(info.ovaBytes)} (${info.ovaBytes} B), VMDK ${mib(info.vmdkBytes)} (${info.vmdkBytes} B), raw disk ${info.diskGiB} GiB with ${mib(info.rawAllocatedBytes)} allocated, root files ${mib(info.rootFilesBytes)}`,
  );

  if (on('BENCH_IMAGE_BOOT')) {
    const runs = Number(process.env.BENCH_IMAGE_BOOTS ?? 1);
    const samples = {};
    for (let i = 0; i < runs; i++) {
      const r = await sh('npx', ['tap', '--reporter=tap', '--grep=boot 1', 'test/vm.test.ts'], {
        OVACTL_VM_IMAGE_DIR: out,
      });
      const seen = new Set();
      for (const m of r.out.matchAll(/vm-boot1-([a-z-]+)-ms: (\d+)/g)) {
        if (seen.has(m[1])) continue;
        seen.add(m[1]);
        (samples[m[1]] ??= []).push(Number(m[2]));
      }
      if (!seen.size)
        console.log(`boot ${i + 1}: no figures (exit ${r.code})\n${r.out.split('\n').slice(-25).join('\n')}`);
      else if (r.code !== 0) {
        const failed = r.out
          .split('\n')
          .filter((l) => /^\s*not ok /.test(l) || /^\s+(found|wanted|diff|[-+]\S)/.test(l))
          .slice(0, 30);
        console.log(`boot ${i + 1}: the VM test failed (exit ${r.code}); figures kept\n${failed.join('\n')}`);
      }
    }
    const label = {
      'vip-ping': 'qemu start → first VIP ping answered at the client',
      'management-ping': 'qemu start → management address answers',
      'console-status': 'qemu start → status (READY) and login prompt on the serial console',
      'system-running': 'qemu start → systemd "running" (SSH host keys made, every unit up)',
      'kernel-to-firstboot': 'in the guest: kernel start → ovactl-firstboot.service starts',
      'firstboot-run': 'in the guest: ovactl-firstboot.service runs (Node under TCG)',
    };
    console.log(`boot-to-ready, qemu -accel tcg with OVMF, 2 vCPUs, ${runs} boot(s) of a fresh deploy:`);
    for (const [k, v] of Object.entries(samples)) {
      v.sort((a, b) => a - b);
      const med = v[Math.floor(v.length / 2)];
      console.log(
        `  ${(label[k] ?? k).padEnd(72)} ${s(med)}${v.length > 1 ? ` (min ${s(v[0])}, max ${s(v[v.length - 1])})` : ''}`,
      );
    }
  }
} finally {
  cleanup();
}
