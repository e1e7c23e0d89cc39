// One model of the rendered network (src/plan/network.ts): doctor reads the files on disk with the
// readers there; here every .network file and dataplaneapi.yaml plan writes, for every deployment
// and addressing, read back gives exactly the model plan rendered it from.
import t from 'tap';
import { networkOf, plan } from '../src/plan/plan.js';
import { readApiEndpoint, readNetworkFile } from '../src/plan/network.js';
import type { PlanInput } from '../src/plan/types.js';
import { check, valuesOf } from './helpers/values.js';
import { PLAN_FACTS } from './helpers/facts.js';

const FACTS = PLAN_FACTS;

const FRONTEND = {
  'network.frontend_ip': '203.0.113.2/24',
  'network.frontend_gateway': '203.0.113.1',
  'loadbalance.service_ip_range': '203.0.113.64/27',
};
const CASES: { name: string; values: Record<string, string | null>; deployment: 'default' | 'frontend' }[] = [
  { name: 'default, static', values: {}, deployment: 'default' },
  {
    name: 'default, DHCP workload',
    values: { 'network.workload_ip': null, 'network.workload_gateway': null },
    deployment: 'default',
  },
  {
    name: 'default, DHCP management',
    values: { 'network.management_ip': null, 'network.management_gateway': null },
    deployment: 'default',
  },
  { name: 'frontend, static', values: FRONTEND, deployment: 'frontend' },
];

const text = (m: ReturnType<typeof readNetworkFile>) => ({
  ...m,
  addresses: m.addresses.map((a) => `${a.address.text}/${a.prefix}`),
  gateways: m.gateways.map((g) => g.text),
  dns: m.dns.map((d) => d.text),
});

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const report = await check(c.values, { deployment: c.deployment });
    const input: PlanInput = { properties: valuesOf(report), deployment: c.deployment, facts: FACTS, scope: 'full' };
    const files = plan(input).files;
    const model = networkOf(input);
    const written = files.filter((f) => f.path.endsWith('.network'));
    t.same(
      written.map((f) => f.path.split('/').pop()),
      model.map((m) => m.name),
      'one file a NIC of the model',
    );
    for (const m of model) {
      const f = written.find((w) => w.path.endsWith(`/${m.name}`))!;
      t.same(text(readNetworkFile(m.name, f.content)), text(m), `${m.name} reads back as planned`);
    }
    const yaml = files.find((f) => f.path === '/etc/haproxy/dataplaneapi.yaml')!;
    const endpoint = readApiEndpoint(yaml.content);
    const management = input.properties['network.management_ip'];
    t.same(endpoint, {
      host: management ? management.address.text : '0.0.0.0',
      port: input.properties['loadbalance.dataplane_port'],
    });
  });
}
