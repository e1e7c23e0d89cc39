// Acting as the Supervisor does, end to end (issues 11 and 13): the nspawn appliance with the Data
// Plane API stand-in (test/standin/dataplaneapi.cjs, test code) installed by the rig as its
// /usr/local/bin/dataplaneapi. From the management network, trusting only the CA first boot
// publishes in guestinfo.dataplaneapi.cacert (kept by the rig's vmware-rpctool stand-in), the test creates seed 003's service through /v2 — a frontend with two
// binds and switching rules, two backends — and a client on the workload side reaches a backend
// server through the VIP. A re-apply with a changed nameserver keeps it serving; deleting the
// service through the API stops the VIP serving that port.
import t from 'tap';
import { rigSuite } from './helpers/rig/suite.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootAppliance, REPO, waitFor, type Appliance } from './helpers/rig/appliance.js';
import { ovfEnvXml } from './helpers/rig/ovf-env.js';
import { deployValues, MANAGEMENT_IP, WORKLOAD_IP } from './helpers/rig/values.js';
import { dataplaneApi, reach as reachVip } from './helpers/rig/supervisor.js';

const RANGE = '198.51.100.64/26';
const VIP = '198.51.100.71';
const CLIENT = '198.51.100.200';
const VALUES = deployValues({ 'loadbalance.service_ip_range': RANGE });
const USER = VALUES['loadbalance.haproxy_user']!;
const PASSWORD = VALUES['loadbalance.haproxy_pwd']!;
const PROBE = join(REPO, 'test/helpers/rig/tcp-probe.mjs');
const ID = 'domain-c50:b42f9558-a4eb-4e8f-8f0f-9a8f295f0a8e-kube-system-kube-apiserver-lb-svc';
const C = '/v2/services/haproxy/configuration';
const E = encodeURIComponent;

t.setTimeout(10 * 60_000);
const rig = await rigSuite();
const skip = rig.skip;

t.test('the Supervisor creates a service through the Data Plane API; the VIP serves it', { skip }, async (t) => {
  rig.ready();
  const a: Appliance = await bootAppliance({
    managementHost: '192.0.2.1/24',
    workloadHost: '198.51.100.1/24',
    client: `${CLIENT}/24`,
    clientRoutes: [{ to: RANGE, via: WORKLOAD_IP }],
    ovfEnv: ovfEnvXml(VALUES),
    dataplaneapi: 'standin',
  });
  t.teardown(() => a.stop());
  const scratch = mkdtempSync(join(tmpdir(), 'ovactl-supervisor-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

  // What the Supervisor is given: the CA, the management address and port, the credentials.
  const ca = join(scratch, 'ca.crt');
  // Only what first boot published in guestinfo (the vmware-rpctool stand-in keeps it), never the file.
  const published = await waitFor(() => a.guestinfo('guestinfo.dataplaneapi.cacert') || undefined, 90_000, {
    what: 'guestinfo.dataplaneapi.cacert',
    describe: () => a.diagnostics(),
  });
  const pem = Buffer.from(published, 'base64').toString('utf8');
  t.match(
    pem,
    /^-----BEGIN CERTIFICATE-----\n[\s\S]*\n-----END CERTIFICATE-----\n?$/,
    'guestinfo carries a PEM (base64)',
  );
  writeFileSync(ca, pem);
  const api = dataplaneApi(a, { ca, user: USER, password: PASSWORD });
  const info = await waitFor(
    async () => {
      const r = await api('GET', '/v2/info');
      return r.status === 200 ? r : undefined;
    },
    90_000,
    {
      what: `the Data Plane API at https://${MANAGEMENT_IP}:5556/v2/info`,
      describe: async () =>
        `${(await a.exec(['journalctl', '-u', 'dataplaneapi', '-n', '20', '--no-pager'])).stdout}\n${await a.diagnostics()}`,
    },
  );
  t.match(
    info.json,
    { api: { version: /2\.9\.27/ } },
    'the API answers on the management address with the published CA',
  );
  t.equal(
    (
      await a.host([
        'curl',
        '-sS',
        '--max-time',
        '5',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--cacert',
        ca,
        '-u',
        `${USER}:wrong`,
        `https://${MANAGEMENT_IP}:5556/v2/info`,
      ])
    ).stdout,
    '401',
    'a wrong password is refused',
  );

  // The backend servers: the control-plane VMs' API servers, on the workload network.
  const server = a.clientSpawn([process.execPath, PROBE, 'server', CLIENT, '443', '6443']);
  await new Promise((r) => server.stdout!.once('data', r));

  const version = (await api('GET', `${C}/version`)).json as number;
  const tx = await api('POST', `/v2/services/haproxy/transactions?version=${version}`);
  t.equal(tx.status, 201, 'a transaction');
  const q = `transaction_id=${tx.json.id}`;
  const created: number[] = [];
  const post = async (path: string, body: unknown) => created.push((await api('POST', `${C}/${path}`, body)).status);
  await post(`frontends?${q}`, { name: ID, mode: 'tcp', log_tag: ID, tcplog: true });
  for (const [name, port] of [
    ['nginx', 443],
    ['kube-apiserver', 6443],
  ] as const) {
    await post(`binds?frontend=${E(ID)}&${q}`, { name: `${ID}-${VIP}:${name}`, address: VIP, port });
    await post(`backends?${q}`, {
      name: `${ID}-${name}`,
      mode: 'tcp',
      balance: { algorithm: 'roundrobin' },
      adv_check: 'tcp-check',
      log_tag: `${ID}-${name}`,
    });
    await post(`servers?backend=${E(`${ID}-${name}`)}&${q}`, {
      name: `${ID}-${CLIENT}:${port}`,
      address: CLIENT,
      port,
      check: 'enabled',
      weight: 100,
      verify: 'none',
    });
  }
  for (const [i, [name, port]] of (
    [
      ['kube-apiserver', 6443],
      ['nginx', 443],
    ] as const
  ).entries()) {
    await post(`backend_switching_rules?frontend=${E(ID)}&${q}`, {
      index: i,
      name: `${ID}-${name}`,
      cond: 'if',
      cond_test: `{ dst_port ${port} }`,
    });
  }
  t.same(
    created,
    created.map(() => 202),
    'frontend, binds, backends, servers and rules created',
  );
  const commit = await api('PUT', `/v2/services/haproxy/transactions/${tx.json.id}`);
  t.ok([200, 202].includes(commit.status), `committed (${commit.status})`);

  const reach = (port: number) => reachVip(a, VIP, port);
  const served = await waitFor(async () => ((await reach(6443)) === 'ok' ? true : undefined), 60_000, {
    intervalMs: 500,
    what: `${VIP}:6443 to serve`,
  }).catch(() => false);
  t.ok(served, `a client on the workload side reaches a backend server through ${VIP}:6443`);
  t.equal(await reach(443), 'ok', `and through ${VIP}:443`);

  // A re-apply in between (the admin changed a nameserver): the service keeps being served.
  await a.exec(['sh', '-c', 'cat > /etc/ovactl/ovf-env.xml'], {
    input: ovfEnvXml({ ...VALUES, 'network.nameservers': '192.0.2.54' }),
  });
  t.equal(
    (await a.exec(['systemctl', 'restart', 'ovactl-firstboot.service'], { timeoutMs: 120_000 })).code,
    0,
    're-applied',
  );
  t.match(
    (await a.exec(['cat', '/etc/haproxy/haproxy.cfg'])).stdout,
    new RegExp(`^frontend ${ID.replace(/[.:]/g, '\\$&')}`, 'm'),
    "the service's frontend is still in haproxy.cfg",
  );
  t.equal(await reach(6443), 'ok', 'and still served');
  const v2 = (await api('GET', `${C}/version`)).json as number;
  t.ok(v2 >= version + 1, `the API's version still counts (${v2})`);

  // The Supervisor deletes the service: the VIP stops serving that port.
  const del = await api('POST', `/v2/services/haproxy/transactions?version=${v2}`);
  const dq = `transaction_id=${del.json.id}`;
  const deleted = [(await api('DELETE', `${C}/frontends/${E(ID)}?${dq}`)).status];
  for (const name of ['kube-apiserver', 'nginx'])
    deleted.push((await api('DELETE', `${C}/backends/${E(`${ID}-${name}`)}?${dq}`)).status);
  t.same(deleted, [202, 202, 202], 'frontend and backends deleted');
  t.ok([200, 202].includes((await api('PUT', `/v2/services/haproxy/transactions/${del.json.id}`)).status), 'committed');
  // The API reloads at most once per reload_delay (30 s): within that, the port closes.
  const gone = await waitFor(async () => ((await reach(6443)) !== 'ok' ? true : undefined), 60_000, {
    intervalMs: 1_000,
    what: `${VIP}:6443 to stop serving`,
  }).catch(() => false);
  t.ok(gone, `${VIP}:6443 no longer serves`);
  a.stopBackground(server);
});
