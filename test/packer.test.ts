// packer.json: both builders run the same recipe and the same OVA assembly, and Debian's packer
// (1.6.6) validates it offline.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ROOT } from './helpers.js';

const template = JSON.parse(readFileSync(`${ROOT}packer.json`, 'utf8'));

t.test('a qemu builder that works offline and a vsphere-iso builder', async (t) => {
  const builders = template.builders as { name: string; type: string; accelerator?: string; communicator?: string }[];
  t.same(builders.map((b) => b.type).sort(), ['qemu', 'vsphere-iso']);
  const qemu = builders.find((b) => b.type === 'qemu')!;
  t.equal(qemu.accelerator, 'tcg', 'software emulation: KVM is not required');
  t.equal(qemu.communicator, 'none');
});

t.test('one provisioning recipe and one OVA assembly for both', async (t) => {
  const text = JSON.stringify(template);
  t.match(text, /build\/provision\.sh/);
  const posts = template['post-processors'] as { only: string[]; inline: string[] }[];
  for (const name of ['qemu', 'vsphere-iso']) t.ok(posts.some((p) => p.only.includes(name) && p.inline.some((l) => l.includes('build/ova.sh'))), `${name} ends in build/ova.sh`);
  for (const f of ['build/provision.sh', 'build/ova.sh', 'build/image.sh', 'build/packer/preseed.cfg']) t.ok(existsSync(`${ROOT}${f}`), `${f} exists`);
});

t.test('packer validate', { skip: spawnSync('packer', ['version']).status === 0 ? false : 'packer is not installed (test/run.sh installs it)' }, async (t) => {
  // The vCenter and build SSH passwords come from the environment at build time; placeholders here.
  const r = spawnSync('packer', ['validate', '-var', 'vcenter_password=placeholder', '-var', 'ssh_password=placeholder', 'packer.json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
  t.equal(r.status, 0, r.stdout + r.stderr);
});
