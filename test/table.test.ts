// The property table is the single source: its invariants, and the docs/properties.md section generated
// from it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { PROPERTIES, canonicalKey } from '../src/properties/table.js';
import { normalise, propertiesSchema } from '../src/properties/schema.js';
import { propertiesMarkdown } from '../src/docs/reference.js';
import { RULES } from '../src/validate/rules.js';
import { check, ROOT } from './helpers/values.js';

// Every key of the original appliance (../shared/reference/original-appliance.md), same names.
const ORIGINAL = [
  'appliance.root_pwd',
  'appliance.permit_root_login',
  'appliance.ca_cert',
  'appliance.ca_cert_key',
  'network.hostname',
  'network.nameservers',
  'network.management_ip',
  'network.management_gateway',
  'network.workload_ip',
  'network.workload_gateway',
  'network.additional_workload_networks',
  'network.frontend_ip',
  'network.frontend_gateway',
  'loadbalance.service_ip_range',
  'loadbalance.dataplane_port',
  'loadbalance.haproxy_user',
  'loadbalance.haproxy_pwd',
];

t.test('keeps every original key and adds network.ntp_servers', async (t) => {
  const keys = PROPERTIES.map((p) => p.key);
  for (const k of ORIGINAL) t.ok(keys.includes(k as never), k);
  t.ok(keys.includes('network.ntp_servers'));
  t.equal(new Set(keys).size, keys.length, 'keys are unique');
});

t.test('each entry is consistent', async (t) => {
  const labels = new Set<string>();
  for (const p of PROPERTIES) {
    t.equal(p.key, `${p.ovfClass}.${p.ovfKey}`, `${p.key}: key is class.ovfKey`);
    t.equal(canonicalKey(p.key.toUpperCase()), p.key, `${p.key}: found case-insensitively`);
    t.ok(p.label && p.description && p.category, `${p.key}: label, description, category`);
    t.notOk(labels.has(p.label), `${p.key}: label unique`);
    labels.add(p.label);
    t.equal(
      p.secret,
      p.kind === 'password' || p.kind === 'privateKey',
      `${p.key}: secret exactly for passwords and keys`,
    );
    if ('default' in p && p.default !== undefined) {
      const r = propertiesSchema().shape[p.key].safeParse(undefined);
      t.ok(
        r.success && r.data !== undefined,
        `${p.key}: its default ${JSON.stringify(p.default)} passes its own schema`,
      );
    }
    t.ok(p.key in propertiesSchema().shape, `${p.key}: in the generated zod object schema`);
  }
});

t.test('the object schema and the field-by-field normalisation agree', async (t) => {
  const raw = new Map(
    Object.entries({
      'appliance.permit_root_login': 'FALSE',
      'network.nameservers': ' 192.0.2.53 ,192.0.2.54,',
      'loadbalance.dataplane_port': ' 8443 ',
      'appliance.root_pwd': ' keep-spaces ',
      'network.hostname': 'null',
      'network.management_ip': '',
    }),
  ) as Map<never, string>;
  const whole = propertiesSchema().safeParse(Object.fromEntries(raw));
  t.ok(whole.success);
  const defined = Object.fromEntries(Object.entries(whole.data ?? {}).filter(([, v]) => v !== undefined));
  t.same(normalise(raw).properties, defined);
  t.equal(normalise(raw).properties['loadbalance.dataplane_port'], 8443);
  t.equal(normalise(raw).properties['appliance.root_pwd'], ' keep-spaces ');
});

t.test('frontend-only properties are the frontend NIC', async (t) => {
  t.same(
    PROPERTIES.filter((p) => p.deployment === 'frontend')
      .map((p) => p.key)
      .sort(),
    ['network.frontend_gateway', 'network.frontend_ip'],
  );
});

t.test('rule ids are unique and documented', async (t) => {
  const ids = RULES.map((r) => r.id);
  t.equal(new Set(ids).size, ids.length);
  for (const r of RULES) t.match(r.id, /^[a-z-]+\.[a-z-]+$/, `${r.id}: area.name`);
});

t.test('docs/properties.md holds the generated reference (ovactl docs --write docs/properties.md)', async (t) => {
  const page = readFileSync(`${ROOT}docs/properties.md`, 'utf8');
  t.ok(page.includes(propertiesMarkdown()), 'docs/properties.md section is up to date; run npm run docs');
  for (const p of PROPERTIES) t.match(page, `\`${p.key}\``);
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  t.notOk(readme.includes('<!-- generated:properties'), 'the README holds no stale copy of the generated section');
});

/**
 * The examples a label or description gives ("e.g. X", "Eg X"; "X or Y" is two): up to the closing
 * parenthesis when the example opens one, else to the end of the sentence or a parenthesis after it.
 */
function examplesIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(\()?\b(?:e\.g\.|Eg) /g)) {
    const rest = text.slice(m.index + m[0].length);
    const end = m[1] ? rest.indexOf(')') : rest.search(/\.(\s|$)| \(/);
    out.push(...rest.slice(0, end < 0 ? undefined : end).split(' or '));
  }
  return out.map((e) => e.trim());
}

t.test('every example in the labels and descriptions (and each example value) passes its own validation', async (t) => {
  // RHI values are only read with RHI on: its other required values from the table's own examples.
  const rhi = Object.fromEntries(
    PROPERTIES.filter((p) => p.ovfClass === 'rhi' && 'example' in p).map((p) => [p.key, p.example as string]),
  );
  // A pair's values are checked together (ha.address needs ha.peers), and two appliances need a given CA.
  const ha = {
    ...Object.fromEntries(
      PROPERTIES.filter((p) => p.ovfClass === 'ha' && 'example' in p).map((p) => [p.key, p.example as string]),
    ),
    'appliance.ca_cert': readFileSync(`${ROOT}test/fixtures/syslog-ca.crt`, 'utf8'),
    'appliance.ca_cert_key': readFileSync(`${ROOT}test/fixtures/syslog-ca.key`, 'utf8'),
  };
  const seen: string[] = [];
  for (const p of PROPERTIES) {
    const examples = [...examplesIn(p.label), ...examplesIn(p.description), ...('example' in p ? [p.example] : [])];
    for (const example of examples) {
      seen.push(p.key);
      const base = p.ovfClass === 'rhi' ? { ...rhi, 'rhi.enabled': 'True' } : p.ovfClass === 'ha' ? ha : {};
      const r = await check({ ...base, [p.key]: example });
      const wrong = r.errors.filter((f) => f.keys.includes(p.key));
      t.same(
        wrong.map((f) => f.message),
        [],
        `${p.key}: its example ${JSON.stringify(example)} is valid (with the other example values)`,
      );
    }
  }
  // The parser finds the examples it must (so a rewording cannot make this test vacuous).
  const inText = ['loadbalance.service_ip_range', 'network.management_ip', 'rhi.peers', 'rhi.ospf_area', 'rhi.rules'];
  for (const k of inText) t.ok(seen.includes(k), `${k}: the examples in its text are checked`);
  t.same(examplesIn('A (e.g. 1 or 2) b, e.g. x = f(y); z. Eg 3 (or not)'), ['1', '2', 'x = f(y); z', '3']);
});
