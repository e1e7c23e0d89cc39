// The govc ↔ descriptor contract on every run (issue 23): an OVA assembled by build/ova.sh — the
// assembly every build path shares, with the descriptor generated from the property table — around a
// blank 1 GiB disk, read by govc import.spec and deployed by govc import.ova into vcsim, for both
// deployment options (test/helpers/govc.ts: the checks, and what vcsim cannot know). The OVA the VM
// stage builds, with the real disk, goes through the same checks in test/vm-govc.test.ts.
// govc and vcsim are built from Debian's source package once (test/helpers/govmomi.sh; test/run.sh
// builds them before the tests, a cold build run from here takes minutes).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { govmomi, ovaContract, Vcsim } from './helpers/govc.js';
import { run } from './helpers/rig/appliance.js';
import { haveTool, skipUnless } from './helpers/root.js';
import { ROOT } from './helpers/values.js';

t.setTimeout(30 * 60_000);
const DISK_BYTES = 2 ** 30;

const g = await govmomi();
t.comment(`govc and vcsim: ${g.ms} ms${g.dir ? ` (${g.dir})` : ''}`);
const skip = skipUnless(g.skip ?? (!haveTool('qemu-img', '--version') && 'qemu-img is missing (qemu-utils)'));
const work = mkdtempSync(join(tmpdir(), 'ovactl-govc-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
t.test('the OVA through govc and vcsim', { skip }, async (t) => {
  if (!g.ok) throw new Error(`test/helpers/govmomi.sh failed:\n${g.output.split('\n').slice(-30).join('\n')}`);
  const disk = join(work, 'blank.raw');
  const ova = join(work, 'haproxy-appliance.ova');
  const made = await run('bash', [
    '-c',
    `qemu-img create -q -f raw "$1" ${DISK_BYTES} && bash "$2" "$1" "$3"`,
    '-',
    disk,
    join(ROOT, 'build/ova.sh'),
    ova,
  ]);
  if (made.code !== 0) throw new Error(`build/ova.sh failed: ${made.stderr}`);
  const sim = await Vcsim.start(g.dir!);
  t.teardown(() => sim.stop());
  ovaContract(t, { ova, sim, work, diskBytes: DISK_BYTES });
});
