// READY means serving, all the time (issue 22), end to end in the nspawn appliance with the Data Plane
// API stand-in (test code): the Supervisor creates a service inside the VIP ranges, then one on a VIP
// outside every range (field issue vmware-haproxy #36). The inside VIP keeps serving after the API's
// reload and after a restart of haproxy (ip_nonlocal_bind); ovactl-watch.service names the outside VIP
// in the status within seconds and returns to ready once the range is added. A change that cannot go
// live (a bind on a port in use) is reported; haproxy killed is reported, and recovers.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rigSuite } from './helpers/rig/suite.js';
import { bootAppliance, REPO, waitFor, type Appliance } from './helpers/rig/appliance.js';
import { ovfEnvXml } from './helpers/rig/ovf-env.js';
import { deployValues, MANAGEMENT_IP, WORKLOAD_IP } from './helpers/rig/values.js';
import { dataplaneApi, reach as reachVip } from './helpers/rig/supervisor.js';

const RANGE = '198.51.100.64/26';
const INSIDE = '198.51.100.71';
const OUTSIDE = '198.51.100.140';
const CLIENT = '198.51.100.200';
const VALUES = deployValues({ 'loadbalance.service_ip_range': RANGE });
const USER = VALUES['loadbalance.haproxy_user']!;
const PASSWORD = VALUES['loadbalance.haproxy_pwd']!;
const PROBE = join(REPO, 'test/helpers/rig/tcp-probe.mjs');
const C = '/v2/services/haproxy/configuration';
const E = encodeURIComponent;

t.setTimeout(12 * 60_000);
const rig = await rigSuite();

interface StatusDoc {
  state: string;
  findings?: { rule: string; message: string; hint?: string }[];
}

t.test(
  'one VIP outside the ranges never takes the appliance down; the status says what it serves',
  {
    skip: rig.skip,
  },
  async (t) => {
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
    const status = (): StatusDoc | undefined => {
      try {
        return JSON.parse(readFileSync(join(a.root, 'var/lib/ovactl/status.json'), 'utf8'));
      } catch {
        return undefined;
      }
    };
    const rules = () => (status()?.findings ?? []).map((f) => f.rule);
    const until = (what: string, ok: (s: StatusDoc) => boolean, ms = 30_000) =>
      waitFor(
        () => {
          const s = status();
          return s && ok(s) ? s : undefined;
        },
        ms,
        { what, intervalMs: 200, describe: async () => `${JSON.stringify(status())}\n${await a.diagnostics()}` },
      );

    await until('READY', (s) => s.state === 'ready', 180_000);
    const watcher = await waitFor(
      async () =>
        (await a.exec(['systemctl', 'is-active', 'ovactl-watch.service'])).stdout.trim() === 'active'
          ? true
          : undefined,
      30_000,
      {
        what: 'ovactl-watch.service active',
        describe: async () =>
          (await a.exec(['systemctl', 'status', '--no-pager', '-n', '20', 'ovactl-watch.service'])).stdout,
      },
    ).catch((e: Error) => e.message);
    t.equal(watcher, true, 'the watcher runs');
    t.equal(
      (await a.exec(['sysctl', '-n', 'net.ipv4.ip_nonlocal_bind'])).stdout.trim(),
      '1',
      'haproxy may bind addresses without a local route',
    );

    const scratch = mkdtempSync(join(tmpdir(), 'ovactl-live-'));
    t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
    const ca = join(scratch, 'ca.crt');
    writeFileSync(ca, readFileSync(join(a.root, 'etc/haproxy/ca.crt')));
    const api = dataplaneApi(a, { ca, user: USER, password: PASSWORD });
    /**
     * One service as the Supervisor makes it: each change in the transaction 202 (as v2.9.27 answers), the
     * commit with force_reload 200 (reloaded now, not within the 30 s reload delay).
     */
    const service = async (name: string, address: string, port: number): Promise<number[]> => {
      const version = (await api('GET', `${C}/version`)).json as number;
      const tx = (await api('POST', `/v2/services/haproxy/transactions?version=${version}`)).json.id as string;
      const q = `transaction_id=${tx}`;
      const codes = [
        (await api('POST', `${C}/backends?${q}`, { name, mode: 'tcp', balance: { algorithm: 'roundrobin' } })).status,
        (
          await api('POST', `${C}/servers?backend=${E(name)}&${q}`, {
            name: `${name}-server`,
            address: CLIENT,
            port: 6443,
            check: 'enabled',
            weight: 100,
          })
        ).status,
        (await api('POST', `${C}/frontends?${q}`, { name, mode: 'tcp', default_backend: name })).status,
        (await api('POST', `${C}/binds?frontend=${E(name)}&${q}`, { name, address, port })).status,
        (await api('PUT', `/v2/services/haproxy/transactions/${tx}?force_reload=true`)).status,
      ];
      return codes;
    };
    const remove = async (name: string): Promise<number[]> => {
      const version = (await api('GET', `${C}/version`)).json as number;
      const tx = (await api('POST', `/v2/services/haproxy/transactions?version=${version}`)).json.id as string;
      const q = `transaction_id=${tx}`;
      return [
        (await api('DELETE', `${C}/frontends/${E(name)}?${q}`)).status,
        (await api('DELETE', `${C}/backends/${E(name)}?${q}`)).status,
        (await api('PUT', `/v2/services/haproxy/transactions/${tx}?force_reload=true`)).status,
      ];
    };
    const reach = (vip: string) => reachVip(a, vip, 6443);
    const serves = (vip: string, ms = 30_000) =>
      waitFor(async () => ((await reach(vip)) === 'ok' ? true : undefined), ms, {
        intervalMs: 500,
        what: `${vip}:6443`,
      })
        .then(() => true)
        .catch(() => false);

    const server = a.clientSpawn([process.execPath, PROBE, 'server', CLIENT, '6443']);
    await new Promise((r) => server.stdout!.once('data', r));
    t.teardown(() => a.stopBackground(server));

    t.same(await service('svc-inside', INSIDE, 6443), [202, 202, 202, 202, 200], 'the Supervisor creates a service');
    t.ok(await serves(INSIDE), `${INSIDE}:6443 (inside the range) serves`);

    const wrote = Date.now();
    t.same(await service('svc-outside', OUTSIDE, 6443), [202, 202, 202, 202, 200], 'and one on a VIP outside it');
    const degraded = await until('the outside VIP in the status', (s) => s.state === 'degraded');
    t.comment(`status degraded ${Date.now() - wrote} ms after the commit was sent`);
    const f = degraded.findings!.find((x) => x.rule === 'vip.outside-ranges');
    t.match(f?.message, `VIP ${OUTSIDE} (frontend svc-outside) is outside every range`, 'names the VIP and frontend');
    t.match(f?.hint, 'add 198.51.100.128/26 to loadbalance.service_ip_range', 'and the range to add');
    t.notOk(rules().includes('haproxy.reload-failed'), 'the reload bound the outside VIP: it did not fail');
    t.ok(await serves(INSIDE, 10_000), `${INSIDE}:6443 still serves after the API's reload`);
    t.match(readFileSync(join(a.root, 'etc/issue.d/ovactl.issue'), 'utf8'), /DEGRADED/, 'the console says DEGRADED');
    t.match(a.guestinfo('guestinfo.ovactl.status') ?? '', /"state":"degraded"/, 'so does guestinfo');

    t.equal((await a.exec(['systemctl', 'restart', 'haproxy'], { timeoutMs: 60_000 })).code, 0, 'haproxy restarts');
    t.ok(await serves(INSIDE), `${INSIDE}:6443 serves after a restart of haproxy (every VIP was down before)`);
    t.equal(status()?.state, 'degraded', 'still degraded, not error: it serves');

    await a.exec(['sh', '-c', 'echo 198.51.100.128/26 >> /etc/vmware/anyip-routes.cfg']);
    await until('ready once the range is added', (s) => s.state === 'ready' && !s.findings?.length);
    t.pass('the finding cleared itself once the range was added');

    // A change that cannot go live: a bind on the Data Plane API's own port. haproxy -c accepts it; the
    // reload cannot bind, and haproxy keeps serving the configuration before it.
    t.same(
      await service('svc-collides', MANAGEMENT_IP, 5556),
      [202, 202, 202, 202, 200],
      'the Supervisor commits a bind on a port in use',
    );
    const failed = await until('the failed reload in the status', (s) =>
      (s.findings ?? []).some((x) => x.rule === 'haproxy.reload-failed'),
    );
    t.equal(failed.state, 'degraded', 'degraded: the old configuration still serves');
    t.ok(await serves(INSIDE, 10_000), `${INSIDE}:6443 still serves`);
    t.same(await remove('svc-collides'), [202, 202, 200], 'the Supervisor takes it back');
    await until('ready once a reload works again', (s) => s.state === 'ready');
    t.pass('the failed reload cleared itself');

    // haproxy killed, and not restarted by systemd: the status says so, and recovers with it.
    await a.exec([
      'sh',
      '-c',
      'mkdir -p /run/systemd/system/haproxy.service.d && printf "[Service]\\nRestart=no\\n" > ' +
        '/run/systemd/system/haproxy.service.d/test-no-restart.conf && systemctl daemon-reload',
    ]);
    const killed = Date.now();
    await a.exec(['systemctl', 'kill', '--signal=KILL', 'haproxy.service']);
    const down = await until('haproxy down in the status', (s) => s.state === 'error');
    t.comment(`status error ${Date.now() - killed} ms after haproxy was killed`);
    t.match(down.findings?.[0], { rule: 'haproxy.not-running' }, 'haproxy.not-running');
    t.match(readFileSync(join(a.root, 'etc/issue.d/ovactl.issue'), 'utf8'), /haproxy is not running/);
    await a.exec(['systemctl', 'start', 'haproxy']);
    await until('ready once haproxy runs again', (s) => s.state === 'ready');
    t.ok(await serves(INSIDE), 'and serves');
  },
);
