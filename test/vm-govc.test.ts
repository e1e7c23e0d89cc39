// The OVA the VM stage builds (build/image.sh into output/image, as npm run ova does; up to date after
// test/vm.test.ts, else built here), read by govc import.spec and deployed by govc import.ova into
// vcsim for both deployment options (issue 23; test/helpers/govc.ts: the checks, and what vcsim
// cannot know). Run in test/run.sh's second stage, after test/vm.test.ts; test/govc.test.ts runs the
// same checks on every first stage with a blank disk.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { govmomi, ovaContract, Vcsim } from './helpers/govc.js';
import { ensureBundle } from './helpers/rig/appliance.js';
import { skipUnless } from './helpers/root.js';
import { ensureImage, IMAGE_DIR, IMAGE_NAME, run } from './helpers/vm/qemu.js';

t.setTimeout(60 * 60_000);

ensureBundle();
const image = await ensureImage();
const g = await govmomi();
t.comment(`image: ${image.ms} ms (${image.ok ? 'ok' : 'FAILED'}); govc and vcsim: ${g.ms} ms`);
const skip = skipUnless(image.skip ?? g.skip);
const work = mkdtempSync(join(tmpdir(), 'ovactl-vm-govc-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('the built OVA through govc and vcsim', { skip }, async (t) => {
  if (!image.ok) throw new Error(`build/image.sh failed:\n${image.output.split('\n').slice(-40).join('\n')}`);
  if (!g.ok) throw new Error(`test/helpers/govmomi.sh failed:\n${g.output.split('\n').slice(-30).join('\n')}`);
  const info = await run('qemu-img', ['info', '--output=json', image.raw]);
  const diskBytes = (JSON.parse(info.stdout) as { 'virtual-size': number })['virtual-size'];
  const sim = await Vcsim.start(g.dir!);
  t.teardown(() => sim.stop());
  ovaContract(t, { ova: join(IMAGE_DIR, `${IMAGE_NAME}.ova`), sim, work, diskBytes });
});
