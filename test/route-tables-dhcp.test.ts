// DHCP that routes right, against the nspawn rig (test/helpers/rig/) with a REAL DHCP server: dnsmasq in the
// rig's host namespace on the workload (then the management) bridge, started and stopped by PID.
//  - workload by DHCP: route-tables.service puts "from LEASE lookup 201" and "to SUBNET lookup 201"
//    in place, so a backend on the workload subnet (the client namespace) is reached through the
//    workload NIC: `ip route get` inside the appliance says so, and a TCP exchange and a ping work
//    (the host namespace does not forward, so the management gateway could not carry them). A lease
//    change (dnsmasq restarted with another range, the appliance renews) is followed: the old
//    address's rules go, the new one's come.
//  - management by DHCP: the Data Plane API's yaml listens on the lease and the server certificate
//    names it; a new lease moves both.
// Addresses are documentation ranges, used only inside the rig's own network namespaces.
import t from 'tap';
import { rigSuite } from './helpers/rig/suite.js';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { bootAppliance, waitFor, type Appliance } from './helpers/rig/appliance.js';
import { runSync } from './helpers/rig/procs.js';
import { ovfEnvXml } from './helpers/rig/ovf-env.js';
import { deployValues } from './helpers/rig/values.js';

t.setTimeout(10 * 60_000);
const rig = await rigSuite(
  runSync('sh', ['-c', 'command -v dnsmasq']).code === 0 ? undefined : 'dnsmasq is not installed',
);
const skip = rig.skip;

t.before(() => {
  if (skip) return;
  rig.ready();
});

interface Dhcp {
  readonly proc: ChildProcess;
  log: string;
}

/** dnsmasq as a DHCP server only (no DNS, no config file), in the foreground, on one rig bridge. */
function dnsmasq(a: Appliance, dir: string, opts: { bridge: string; range: string; router: string }): Dhcp {
  const proc = a.hostSpawn([
    'dnsmasq',
    '--conf-file=/dev/null',
    '--keep-in-foreground',
    '--port=0',
    '--user=root',
    '--group=root',
    `--interface=${opts.bridge}`,
    '--bind-interfaces',
    '--dhcp-authoritative',
    `--dhcp-range=${opts.range},255.255.255.0,2m`,
    `--dhcp-option=option:router,${opts.router}`,
    `--dhcp-leasefile=${join(dir, `${opts.bridge}.leases`)}`,
    '--pid-file=',
    '--log-dhcp',
    '--log-facility=-',
  ]);
  const d: Dhcp = { proc, log: '' };
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (d.log += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (d.log += s));
  return d;
}

/** Stop one dnsmasq by its PID and wait for its exit (the bridge's DHCP port is free again). */
async function stopDhcp(a: Appliance, d: Dhcp): Promise<void> {
  const exited = new Promise<void>((r) => (d.proc.exitCode !== null ? r() : d.proc.once('exit', () => r())));
  a.stopBackground(d.proc);
  await exited;
}

/** The NIC's global IPv4 addresses inside the appliance. */
async function addresses(a: Appliance, nic: string): Promise<string[]> {
  const r = await a.exec(['ip', '-4', '-j', 'addr', 'show', 'dev', nic]);
  if (r.code !== 0) return [];
  const links = JSON.parse(r.stdout || '[]') as { addr_info: { local: string; scope: string }[] }[];
  return links.flatMap((l) => l.addr_info.filter((i) => i.scope === 'global').map((i) => i.local));
}

const inRange = (ip: string, from: number, to: number, prefix: string) => {
  const last = Number(ip.slice(prefix.length));
  return ip.startsWith(prefix) && last >= from && last <= to;
};

async function leaseIn(a: Appliance, nic: string, prefix: string, from: number, to: number, d: Dhcp): Promise<string> {
  return waitFor(async () => (await addresses(a, nic)).find((ip) => inRange(ip, from, to, prefix)), 90_000, {
    what: `a lease from ${prefix}${from}-${to} on ${nic}`,
    describe: async () =>
      `${(await a.exec(['ip', 'addr'])).stdout}\n--- dnsmasq ---\n${d.log}\n${await a.diagnostics()}`,
  });
}

const rules = async (a: Appliance): Promise<string> => (await a.exec(['ip', '-4', 'rule', 'show'])).stdout;

async function ruleState(a: Appliance, re: RegExp, present: boolean, what: string): Promise<boolean> {
  return waitFor(async () => re.test(await rules(a)) === present || undefined, 30_000, {
    what,
    describe: async () =>
      `${await rules(a)}\n${(await a.exec(['journalctl', '-u', 'route-tables', '--no-pager', '-o', 'cat'])).stdout}`,
  }).then(
    () => true,
    () => false,
  );
}

const BACKEND = '198.51.100.200';
const BACKEND_PORT = 8080;

t.test(
  'workload by DHCP: backends are reached through the workload NIC; a lease change is followed',
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ovactl-dhcp-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    let dhcp: Dhcp | undefined;
    const a = await bootAppliance({
      managementHost: '192.0.2.1/24',
      workloadHost: '198.51.100.1/24',
      client: `${BACKEND}/24`,
      ovfEnv: ovfEnvXml(deployValues({ 'network.workload_ip': '', 'network.workload_gateway': '' })),
      beforeBoot: (a) =>
        void (dhcp = dnsmasq(a, dir, {
          bridge: 'brw',
          range: '198.51.100.150,198.51.100.160',
          router: '198.51.100.1',
        })),
    });
    t.teardown(() => a.stop());
    // The backend: answers with the address the connection came from.
    const server =
      `require('http').createServer((q, s) => s.end('from ' + q.socket.remoteAddress))` +
      `.listen(${BACKEND_PORT}, '${BACKEND}')`;
    a.clientSpawn(['/usr/bin/env', '-u', 'NODE_OPTIONS', process.execPath, '-e', server]);

    const first = await leaseIn(a, 'workload', '198.51.100.', 150, 160, dhcp!);
    t.comment(`the workload NIC leased ${first} from dnsmasq`);
    const table = (await a.exec(['ip', 'route', 'show', 'table', '201'])).stdout;
    t.match(
      table,
      /198\.51\.100\.0\/24 dev workload proto dhcp/,
      'networkd puts the leased subnet into table 201 itself',
      { table },
    );
    t.match(table, /default via 198\.51\.100\.1 dev workload proto dhcp/, "and the lease's gateway", { table });

    const esc = first.replace(/\./g, '\\.');
    t.ok(
      await ruleState(a, new RegExp(`1000:\\s+from ${esc} lookup 201 proto routetables`), true, 'the from rule'),
      `from ${first} lookup 201`,
    );
    t.ok(
      await ruleState(a, /950:\s+from all to 198\.51\.100\.0\/24 lookup 201 proto routetables/, true, 'the to rule'),
      'to 198.51.100.0/24 lookup 201',
    );

    const get = (await a.exec(['ip', 'route', 'get', BACKEND])).stdout;
    t.match(
      get,
      new RegExp(`dev workload .*src ${esc}`),
      `ip route get ${BACKEND}: through the workload NIC, from the lease`,
      { get },
    );
    t.notMatch(get, /via 192\.0\.2\.1/, 'not via the management gateway');
    const ping = await a.exec(['ping', '-n', '-c', '1', '-W', '2', BACKEND]);
    t.equal(ping.code, 0, 'the appliance pings the backend', { out: ping.stdout + ping.stderr });
    const curl = await a.exec(['curl', '-sS', '--max-time', '5', `http://${BACKEND}:${BACKEND_PORT}/`]);
    t.equal(curl.stdout, `from ${first}`, 'a TCP exchange with the backend, from the leased address', {
      err: curl.stderr,
    });

    // Another range: dnsmasq restarted (authoritative, its lease file gone).
    await stopDhcp(a, dhcp!);
    rmSync(join(dir, 'brw.leases'), { force: true });
    dhcp = dnsmasq(a, dir, { bridge: 'brw', range: '198.51.100.170,198.51.100.180', router: '198.51.100.1' });
    await waitFor(() => /DHCP, sockets bound/.test(dhcp!.log) || undefined, 10_000, {
      what: 'dnsmasq to listen',
      describe: () => dhcp!.log,
    });
    // A release: networkd 252 keeps an address the new server NAKs at renewal until it expires, so the
    // link is taken down (the lease goes) and up (a new DISCOVER).
    const release = await a.exec(['sh', '-c', 'networkctl down workload && networkctl up workload']);
    t.equal(release.code, 0, 'networkctl down/up workload', { err: release.stderr });
    const second = await leaseIn(a, 'workload', '198.51.100.', 170, 180, dhcp);
    t.comment(`the new lease: ${second}`);
    const esc2 = second.replace(/\./g, '\\.');
    t.ok(
      await ruleState(a, new RegExp(`from ${esc} lookup`), false, 'the old rule to go'),
      `the rule of ${first} is removed`,
    );
    t.ok(
      await ruleState(a, new RegExp(`1000:\\s+from ${esc2} lookup 201 proto routetables`), true, 'the new rule'),
      `from ${second} lookup 201 added`,
    );
    const get2 = (await a.exec(['ip', 'route', 'get', BACKEND])).stdout;
    t.match(get2, new RegExp(`dev workload .*src ${esc2}`), 'route get: workload NIC, the new source', { get2 });
    const curl2 = await a.exec(['curl', '-sS', '--max-time', '5', `http://${BACKEND}:${BACKEND_PORT}/`]);
    t.equal(curl2.stdout, `from ${second}`, 'the backend sees the new lease', { err: curl2.stderr });
    // Replies to a client of the workload subnet leave by the workload NIC too (ping from the backend side).
    const back = await a.client(['ping', '-n', '-c', '1', '-W', '2', second]);
    t.equal(back.code, 0, 'the backend reaches the leased address', { out: back.stdout + back.stderr });

    const active = await a.exec(['systemctl', 'is-active', 'route-tables.service']);
    t.equal(active.stdout.trim(), 'active', 'route-tables.service runs');
    const script = await a.exec(['/var/lib/vmware/routetablectl.sh', 'up']);
    t.equal(script.code, 0, '/var/lib/vmware/routetablectl.sh up', { out: script.stdout + script.stderr });
    t.match(script.stdout, /0 rule\(s\) added, 0 removed, 2 unchanged/, 'finds everything in place', {
      out: script.stdout,
    });
    const journal = (await a.exec(['journalctl', '-u', 'route-tables', '--no-pager', '-o', 'cat'])).stdout;
    t.match(journal, new RegExp(`removed [^\n]*from ${esc}/32 lookup 201`), 'its journal tells what it removed', {
      journal,
    });
    t.match(journal, new RegExp(`added [^\n]*from ${esc2}/32 lookup 201`), 'and what it added', { journal });
  },
);

t.test(
  'management by DHCP: the Data Plane API listens on the lease and its certificate names it',
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ovactl-dhcp-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    let dhcp: Dhcp | undefined;
    const a = await bootAppliance({
      managementHost: '192.0.2.1/24',
      workloadHost: '198.51.100.1/24',
      client: `${BACKEND}/24`,
      ovfEnv: ovfEnvXml(deployValues({ 'network.management_ip': '', 'network.management_gateway': '' })),
      beforeBoot: (a) =>
        void (dhcp = dnsmasq(a, dir, { bridge: 'brm', range: '192.0.2.150,192.0.2.160', router: '192.0.2.1' })),
    });
    t.teardown(() => a.stop());
    const yamlHost = async () =>
      /\n {2}host: (\S+)/.exec((await a.exec(['cat', '/etc/haproxy/dataplaneapi.yaml'])).stdout)?.[1];
    const sans = () => {
      try {
        return new X509Certificate(readFileSync(join(a.root, 'etc/haproxy/server.crt'))).subjectAltName ?? '';
      } catch {
        return '';
      }
    };
    const follows = (ip: string) =>
      waitFor(async () => ((await yamlHost()) === ip && sans().includes(`IP Address:${ip}`)) || undefined, 60_000, {
        what: `the API yaml and certificate on ${ip}`,
        describe: async () =>
          `host ${await yamlHost()}, SAN ${sans()}\n${(await a.exec(['journalctl', '-u', 'route-tables', '--no-pager', '-o', 'cat'])).stdout}\n${await a.diagnostics()}`,
      }).then(
        () => true,
        (e: Error) => e.message,
      );

    const first = await leaseIn(a, 'management', '192.0.2.', 150, 160, dhcp!);
    t.equal(await follows(first), true, `yaml host/tls_host and the certificate's IP SAN: ${first}`);
    const yaml = (await a.exec(['cat', '/etc/haproxy/dataplaneapi.yaml'])).stdout;
    t.match(yaml, new RegExp(`tls_host: ${first.replace(/\./g, '\\.')}\\n`), 'tls_host too');
    t.notMatch(yaml, /0\.0\.0\.0/, 'no longer listening on all addresses');
    t.match(sans(), /DNS:haproxy\.example\.test/, 'the host name stays in the certificate');
    t.match(sans(), /IP Address:127\.0\.0\.1/);
    const ca = readFileSync(join(a.root, 'etc/haproxy/ca.crt'), 'utf8');

    await stopDhcp(a, dhcp!);
    rmSync(join(dir, 'brm.leases'), { force: true });
    dhcp = dnsmasq(a, dir, { bridge: 'brm', range: '192.0.2.170,192.0.2.180', router: '192.0.2.1' });
    await waitFor(() => /DHCP, sockets bound/.test(dhcp!.log) || undefined, 10_000, {
      what: 'dnsmasq to listen',
      describe: () => dhcp!.log,
    });
    // A release: networkd 252 keeps an address the new server NAKs at renewal until it expires, so the
    // link is taken down (the lease goes) and up (a new DISCOVER).
    const release = await a.exec(['sh', '-c', 'networkctl down management && networkctl up management']);
    t.equal(release.code, 0, 'networkctl down/up management', { err: release.stderr });
    const second = await leaseIn(a, 'management', '192.0.2.', 170, 180, dhcp);
    t.equal(await follows(second), true, `a new lease ${second}: the listener and the SAN move`);
    t.notMatch(
      sans(),
      new RegExp(`IP Address:${first.replace(/\./g, '\\.')}(,|$)`),
      'the old address is no longer named',
    );
    t.equal(readFileSync(join(a.root, 'etc/haproxy/ca.crt'), 'utf8'), ca, 'the same CA signs it');
    const journal = (await a.exec(['journalctl', '-u', 'route-tables', '--no-pager', '-o', 'cat'])).stdout;
    t.match(
      journal,
      new RegExp(`follows the management lease ${second.replace(/\./g, '\\.')}: listener moved, certificate re-issued`),
      'said in its journal',
      { journal },
    );
  },
);
