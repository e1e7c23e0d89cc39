// Re-apply on a serving appliance (issue 11): failed client connections and the longest gap in
// service while first boot re-applies changed values, next to the same figures for a bare haproxy
// reload (the handover itself). test/serving.test.ts measures them in the nspawn rig, with real
// haproxy and a client connecting to a VIP every 20 ms. Goal: 0 failures; gap ≤ the reload's own.
// Needs root (namespaces, nspawn); prints figures, asserts nothing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.getuid?.() !== 0) {
  console.log('re-apply on a serving appliance: skipped (needs root for namespaces and systemd-nspawn)');
} else {
  const r = spawnSync('npx', ['tap', '--reporter=tap', 'test/serving.test.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 900_000,
  });
  const figures = [...r.stdout.matchAll(/^\s*reapply-([a-z-]+)-(failed|max-gap-ms|connections): (\d+)$/gm)];
  if (!figures.length) console.log(`re-apply: no figures (exit ${r.status})`);
  else {
    const phases = new Map();
    for (const [, phase, what, n] of figures) phases.set(phase, { ...phases.get(phase), [what]: Number(n) });
    console.log('re-apply on a serving appliance (client: a new connection every 20 ms to a VIP, through haproxy)');
    console.log('  phase              connections  failed  longest gap');
    for (const [phase, f] of phases) {
      console.log(
        `  ${phase.padEnd(18)} ${String(f.connections).padStart(11)} ${String(f.failed).padStart(7)} ${String(f['max-gap-ms']).padStart(9)} ms`,
      );
    }
    console.log("  goal: 0 failed; longest gap ≤ the reload-alone figure (plus the probe's 20 ms pace)");
  }
}
