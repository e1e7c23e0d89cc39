// packer.json: both builders run the same recipe and the same OVA assembly, and Debian's packer
// (1.6.6) validates it offline.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ROOT } from './helpers/values.js';
import { haveTool, skipUnless } from './helpers/root.js';

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
  for (const name of ['qemu', 'vsphere-iso'])
    t.ok(
      posts.some((p) => p.only.includes(name) && p.inline.some((l) => l.includes('build/ova.sh'))),
      `${name} ends in build/ova.sh`,
    );
  for (const f of ['build/provision.sh', 'build/ova.sh', 'build/image.sh', 'build/packer/preseed.cfg'])
    t.ok(existsSync(`${ROOT}${f}`), `${f} exists`);
});

t.test('the Data Plane API: fetched and verified on the build host, uploaded, installed by the recipe', async (t) => {
  const provs = template.provisioners as {
    type: string;
    only?: string[];
    source?: string;
    destination?: string;
    inline?: string[];
    environment_vars?: string[];
  }[];
  const fetch = provs.findIndex(
    (p) =>
      p.type === 'shell-local' &&
      p.inline?.some((l) => l.includes('build/dataplaneapi.sh fetch build/upload/dataplaneapi')),
  );
  const upload = provs.findIndex((p) => p.type === 'file' && p.source === 'build/upload/dataplaneapi/');
  const recipe = provs.findIndex((p) => p.type === 'shell' && p.inline?.some((l) => l.includes('build/provision.sh')));
  t.ok(fetch >= 0 && upload > fetch && recipe > upload, 'fetch, then upload, then the recipe', {
    fetch,
    upload,
    recipe,
  });
  t.match(
    provs[fetch]?.environment_vars,
    ['DATAPLANEAPI={{user `dataplaneapi`}}'],
    'DATAPLANEAPI=PATH|none chooses the source',
  );
  t.match(
    provs[recipe]?.inline?.join('\n'),
    /export DATAPLANEAPI=\/tmp\/ovactl-src\/dataplaneapi\/dataplaneapi/,
    'the recipe installs the uploaded binary',
  );
  t.ok(
    existsSync(`${ROOT}build/upload/dataplaneapi`),
    'the upload folder exists (packer checks sources before building)',
  );
  // The qemu builder boots a disk build/image.sh provisioned offline: DATAPLANEAPI goes to image.sh.
  t.match(readFileSync(`${ROOT}build/provision.sh`, 'utf8'), /build\/dataplaneapi\.sh" install "\$ROOT"/);
});

t.test(
  'packer validate',
  { skip: skipUnless(!haveTool('packer', 'version') && 'packer is not installed (test/run.sh installs it)') },
  async (t) => {
    // The vCenter and build SSH passwords come from the environment at build time; placeholders here.
    const r = spawnSync(
      'packer',
      ['validate', '-var', 'vcenter_password=placeholder', '-var', 'ssh_password=placeholder', 'packer.json'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } },
    );
    t.equal(r.status, 0, r.stdout + r.stderr);
  },
);
