// The OVF descriptor and the deploy specs are generated from the property table; the committed
// descriptor must not drift from it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseStringPromise } from 'xml2js';
import { descriptor, NETWORKS } from '../src/ovf/descriptor.js';
import { govcSpec, powercliSpec } from '../src/ovf/spec.js';
import { psString, xmlEscape } from '../src/render/helpers.js';
import { PROPERTIES, type PropertySpec } from '../src/properties/table.js';
import { validateDocument } from '../src/validate/validate.js';
import { BASE, doc, ROOT } from './helpers/values.js';

const VERSION = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version as string;
const OVF = 'http://schemas.dmtf.org/ovf/envelope/1';
const VMW = 'http://www.vmware.com/schema/ovf';

type Node = {
  $?: Record<string, { value: string; local: string; uri: string }>;
  $ns?: { local: string; uri: string };
  _?: string;
  [k: string]: unknown;
};
const kids = (n: Node, local: string): Node[] =>
  Object.entries(n).flatMap(([k, v]) =>
    k.startsWith('$') || k === '_' || !Array.isArray(v)
      ? []
      : (v as Node[]).filter((c) => typeof c === 'object' && c.$ns?.local === local),
  );
const attr = (n: Node, uri: string, local: string) =>
  Object.values(n.$ ?? {}).find((a) => a.local === local && a.uri === uri)?.value;
const text = (n: Node, local: string) => {
  const c = kids(n, local)[0];
  return typeof c === 'string' ? c : (c?._ ?? '');
};

t.test('the committed descriptor is what the table generates (npm run ovf)', async (t) => {
  t.equal(readFileSync(`${ROOT}ovf/haproxy-appliance.ovf`, 'utf8'), descriptor({ version: VERSION }));
});

t.test('every property, with its type, qualifiers, default, label, password and deployment', async (t) => {
  const env = Object.values(
    await parseStringPromise(descriptor({ version: VERSION }), { xmlns: true, explicitCharkey: true }),
  )[0] as Node;
  t.equal(env.$ns?.uri, OVF);
  const vs = kids(env, 'VirtualSystem')[0]!;
  const sections = kids(vs, 'ProductSection').filter((s) => attr(s, OVF, 'class'));
  const props = sections.flatMap((s) =>
    kids(s, 'Property').map((p) => ({ cls: attr(s, OVF, 'class')!, category: text(s, 'Category'), p })),
  );
  t.equal(props.length, PROPERTIES.length);
  for (const spec of PROPERTIES as readonly PropertySpec[]) {
    const found = props.find((x) => `${x.cls}.${attr(x.p, OVF, 'key')}` === spec.key);
    if (!found) {
      t.fail(`${spec.key} missing`);
      continue;
    }
    const { p, category } = found;
    t.equal(category, spec.category, `${spec.key} category`);
    t.equal(attr(p, OVF, 'type'), spec.ovfType, `${spec.key} type`);
    t.equal(attr(p, OVF, 'value'), spec.default ?? '', `${spec.key} default`);
    t.equal(attr(p, OVF, 'password'), spec.kind === 'password' ? 'true' : undefined, `${spec.key} password`);
    t.equal(attr(p, OVF, 'userConfigurable'), 'true');
    t.equal(
      attr(p, OVF, 'configuration'),
      spec.deployment === 'frontend' ? 'frontend' : undefined,
      `${spec.key} deployment option`,
    );
    t.equal(text(p, 'Label'), spec.label, `${spec.key} label (XML-escaped and back)`);
    t.equal(text(p, 'Description'), spec.description, `${spec.key} description`);
    const q = spec.qualifiers;
    const expected = !q
      ? undefined
      : spec.ovfType === 'int'
        ? `MinValue(${q.minValue}) MaxValue(${q.maxValue})`
        : [q.minLen !== undefined ? `MinLen(${q.minLen})` : '', `MaxLen(${q.maxLen})`].filter(Boolean).join(',');
    t.equal(attr(p, OVF, 'qualifiers'), expected, `${spec.key} qualifiers`);
  }
});

t.test('deployment options, NICs on PCI slots 160/192/224, transports, VMX setting', async (t) => {
  const env = Object.values(
    await parseStringPromise(descriptor({ version: VERSION }), { xmlns: true, explicitCharkey: true }),
  )[0] as Node;
  const configs = kids(kids(env, 'DeploymentOptionSection')[0]!, 'Configuration');
  t.same(
    configs.map((c) => [attr(c, OVF, 'id'), attr(c, OVF, 'default') ?? 'false']),
    [
      ['default', 'true'],
      ['frontend', 'false'],
    ],
  );
  const hw = kids(kids(env, 'VirtualSystem')[0]!, 'VirtualHardwareSection')[0]!;
  t.same(attr(hw, OVF, 'transport')?.split(','), ['com.vmware.guestInfo', 'iso']);
  const nics = kids(hw, 'Item').filter((i) => text(i, 'ResourceType') === '10');
  t.same(
    nics.map((n) => [
      text(n, 'Connection'),
      kids(n, 'Config').find((c) => attr(c, VMW, 'key') === 'slotInfo.pciSlotNumber') &&
        attr(kids(n, 'Config').find((c) => attr(c, VMW, 'key') === 'slotInfo.pciSlotNumber')!, VMW, 'value'),
      attr(n, OVF, 'configuration') ?? 'all',
    ]),
    [
      ['Management', '160', 'all'],
      ['Workload', '192', 'all'],
      ['Frontend', '224', 'frontend'],
    ],
  );
  const extra = kids(hw, 'ExtraConfig').map((e) => [attr(e, VMW, 'key'), attr(e, VMW, 'value')]);
  t.same(extra, [['guest_rpc.auth.cloud-init.set', 'FALSE']]);
  t.same(
    kids(hw, 'Config').map((c) => [attr(c, VMW, 'key'), attr(c, VMW, 'value')]),
    [['firmware', 'efi']],
    'EFI firmware: the image boots from its EFI system partition',
  );
  t.same(
    kids(kids(env, 'NetworkSection')[0]!, 'Network').map((n) => attr(n, OVF, 'name')),
    NETWORKS.map((n) => n.name),
  );
});

t.test('the OVA build passes the disk', async (t) => {
  const d = descriptor({ version: VERSION, disk: { file: 'x & y.vmdk', capacityGiB: 12, fileSize: 123456 } });
  t.match(d, /<File ovf:href="x &amp; y\.vmdk" ovf:id="file1" ovf:size="123456"\/>/);
  t.match(d, /ovf:capacity="12"/);
});

t.test('escaping helpers', async (t) => {
  t.equal(xmlEscape(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  t.equal(psString("O'Brien $x `y`"), "'O''Brien $x `y`'");
});

t.test('govc spec: import.spec shape, defaults, and it validates once the blanks are filled', async (t) => {
  for (const deployment of ['default', 'frontend'] as const) {
    const spec = govcSpec(deployment);
    t.equal(spec.Deployment, deployment);
    const keys = spec.PropertyMapping.map((m) => m.Key);
    t.same(
      keys,
      PROPERTIES.filter((p) => p.deployment === 'all' || deployment === 'frontend').map((p) => p.key),
    );
    t.equal(spec.PropertyMapping.find((m) => m.Key === 'appliance.permit_root_login')?.Value, 'True');
    t.same(
      spec.NetworkMapping.map((n) => n.Name),
      deployment === 'frontend' ? ['Management', 'Workload', 'Frontend'] : ['Management', 'Workload'],
    );
    const blank = await validateDocument(await doc(JSON.stringify(spec)));
    t.same(
      blank.errors.map((e) => e.rule).sort(),
      ['value.required', 'value.required', 'value.required'],
      'only the required blanks are errors',
    );
    const filled = {
      ...spec,
      PropertyMapping: spec.PropertyMapping.map((m) => ({ Key: m.Key, Value: BASE[m.Key] ?? m.Value })),
    };
    if (deployment === 'frontend') {
      for (const m of filled.PropertyMapping) if (m.Key === 'network.frontend_ip') m.Value = '203.0.113.10/24';
    }
    const r = await validateDocument(await doc(JSON.stringify(filled)));
    t.same(r.errors, [], `${deployment}: filled spec is valid`);
    t.equal(r.deployment, deployment);
  }
});

t.test('PowerCLI snippet: every property of the option, typed literals', async (t) => {
  const ps = powercliSpec('frontend');
  for (const p of PROPERTIES) t.match(ps, `$c.${p.ovfClass}.${p.ovfKey}.Value = `, p.key);
  t.match(ps, /\$c\.appliance\.permit_root_login\.Value = \$true/);
  t.match(ps, /\$c\.loadbalance\.dataplane_port\.Value = 5556$/m);
  t.match(ps, /\$c\.DeploymentOption\.Value = 'frontend'/);
  t.match(ps, /Import-VApp -Source \$ova -OvfConfiguration \$c/);
  t.notMatch(powercliSpec('default'), /frontend_ip/, 'default: no frontend values');
});

t.test('vSphere 7.0 GA can deploy it: a guest id it knows, a virtual hardware version it runs', async (t) => {
  const known = readFileSync(`${ROOT}test/fixtures/vsphere-7.0-guest-ids.txt`, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const env = Object.values(
    await parseStringPromise(descriptor({ version: VERSION }), { xmlns: true, explicitCharkey: true }),
  )[0] as Node;
  const vs = kids(env, 'VirtualSystem')[0]!;
  const os = kids(vs, 'OperatingSystemSection')[0]!;
  const guest = attr(os, VMW, 'osType') ?? '';
  t.ok(known.includes(guest), `vmw:osType ${guest} is known to vSphere 7.0 GA`);
  t.notOk(known.includes('debian12_64Guest'), 'the list is what 7.0 knows (debian12_64Guest came with 8.0.0.1)');
  t.notOk(known.includes('debian13_64Guest'), "(nor debian13_64Guest, the image's own Debian: 9.0.0.0)");
  const hw =
    kids(vs, 'VirtualHardwareSection')
      .flatMap((h) => kids(h, 'System'))
      .map((s) => text(s, 'VirtualSystemType'))[0] ?? '';
  const n = Number(hw.match(/^vmx-(\d+)$/)?.[1]);
  t.ok(n >= 7 && n <= 17, `virtual hardware ${hw}: vSphere 7.0 GA runs vmx-17 and older`);
  // packer's vSphere build makes the same VM.
  const packer = JSON.parse(readFileSync(`${ROOT}packer.json`, 'utf8')) as {
    builders: { name: string; guest_os_type?: string }[];
  };
  t.equal(
    packer.builders.find((b) => b.name === 'vsphere-iso')?.guest_os_type,
    guest,
    "packer's vsphere-iso build uses the same guest id",
  );
});
