// The control plane's configuration is never lost and a serving appliance keeps serving (issue 11),
// end to end: the nspawn appliance with real haproxy and systemd; a stand-in for the control plane
// (test code) that adds seed 003's service to haproxy.cfg the Data Plane API's way (version line,
// then `systemctl reload haproxy`); a backend server and a client in the workload namespace, the
// client connecting to the VIP every 20 ms and holding one long-lived connection. Then re-apply as
// an admin would (new ovf-env.xml, ovactl-firstboot run again) with (a) a changed nameserver, (b) a
// changed Data Plane API password, (c) an invalid VIP range, (d) after an edit of ovactl's global
// section, a change that makes ovactl put it back (a reload). After each: the control plane's sections
// are byte-identical, the client saw no failed connection, the status tells the truth.
// Figures on stdout for bench/reapply.mjs: reapply-<phase>-failed / -max-gap-ms.
import t from 'tap';
import { rigSuite } from './helpers/rig/suite.js';
import { bootAppliance, REPO, waitFor, type Appliance } from './helpers/rig/appliance.js';
import { apiFile, seed003Sections } from './helpers/rig/control-plane.js';
import { splitSections } from '../src/haproxy/sections.js';
import { createHash } from 'node:crypto';
import { ovfEnvXml } from './helpers/rig/ovf-env.js';
import { deployValues, WORKLOAD_IP } from './helpers/rig/values.js';
import { join } from 'node:path';

const RANGE = '198.51.100.64/26';
const VIP = '198.51.100.70';
const CLIENT = '198.51.100.200';
const VALUES = deployValues({ 'loadbalance.service_ip_range': RANGE });
const CFG = '/etc/haproxy/haproxy.cfg';
const PROBE = join(REPO, 'test/helpers/rig/tcp-probe.mjs');

t.setTimeout(10 * 60_000);
const rig = await rigSuite();
const skip = rig.skip;

interface Phase {
  name: string;
  ok: number;
  failed: number;
  maxGapMs: number;
  errors: string[];
}
interface Report {
  phases: Phase[];
  long: { established: boolean; broken?: string; echoes: number };
}

const versionOf = (cfg: string) => /^# _version=(\d+)$/m.exec(cfg)?.[1];
/** The control plane's sections (all but ovactl's global and defaults), each as its text. */
const controlPlane = (cfg: string) =>
  splitSections(cfg)
    .sections.filter((s) => s.kind !== 'global' && s.kind !== 'defaults')
    .map((s) => s.core.join(''));
/** haproxy.cfg once the Data Plane API has taken it: its md5 line matches the rest. */
async function settled(a: Appliance): Promise<string> {
  return waitFor(
    async () => {
      const cfg = (await a.exec(['cat', CFG])).stdout;
      const [first, ...rest] = cfg.split('\n');
      const md5 = createHash('md5').update(rest.join('\n')).digest('hex');
      return first === `# _md5hash=${md5}` ? cfg : undefined;
    },
    15_000,
    { what: 'the Data Plane API to take haproxy.cfg' },
  );
}

async function sh(a: Appliance, script: string, input?: string) {
  return a.exec(['sh', '-c', script], input === undefined ? {} : { input });
}

t.test('re-apply on a serving appliance: sections kept, no connection lost', { skip }, async (t) => {
  rig.ready();
  const a = await bootAppliance({
    managementHost: '192.0.2.1/24',
    workloadHost: '198.51.100.1/24',
    client: `${CLIENT}/24`,
    clientRoutes: [{ to: RANGE, via: WORKLOAD_IP }],
    ovfEnv: ovfEnvXml(VALUES),
  });
  t.teardown(() => a.stop());
  const active = async (unit: string) =>
    (await a.exec(['systemctl', 'is-active', unit])).stdout.trim() === 'active' || undefined;
  await waitFor(() => active('haproxy.service'), 90_000, { what: 'haproxy active', describe: () => a.diagnostics() });

  // The backend: the control-plane VMs' API servers, one echo server on the workload network.
  const server = a.clientSpawn([process.execPath, PROBE, 'server', CLIENT, '443', '6443']);
  await new Promise((r) => server.stdout!.once('data', r));

  // The control plane's stand-in: the Data Plane API's way of changing the file.
  const sections = seed003Sections({ vip: VIP, servers: [CLIENT] });
  const current = (await a.exec(['cat', CFG])).stdout;
  // As the API saves: a valid md5 line (its watcher leaves such a file alone), a rename over the file.
  const edited = apiFile(2, `${current}\n${sections}`);
  t.equal(
    (await sh(a, `cat > ${CFG}.new && mv ${CFG}.new ${CFG} && systemctl reload haproxy.service`, edited)).code,
    0,
    'the control plane adds its service and reloads',
  );

  const client = a.clientSpawn([process.execPath, PROBE, 'client', VIP, '6443'], { stdin: true });
  let buffered = '';
  client.stdout!.setEncoding('utf8');
  client.stdout!.on('data', (d: string) => (buffered += d));
  const report = async (): Promise<Report> => {
    buffered = '';
    client.stdin!.write('report\n');
    return waitFor(
      () => (buffered.includes('\n') ? (JSON.parse(buffered.split('\n')[0]!) as Report) : undefined),
      5_000,
      { what: 'the client report' },
    );
  };
  await waitFor(async () => ((await report()).phases.at(-1)!.ok > 0 ? true : undefined), 30_000, {
    what: `the client to reach a backend through ${VIP}:6443`,
    describe: async () => `${(await a.exec(['cat', CFG])).stdout}\n${await a.diagnostics()}`,
  });
  const mainPid = (await a.unit('haproxy.service', ['MainPID'])).MainPID;
  const reloads = async () =>
    (await a.exec(['journalctl', '-u', 'haproxy.service', '-o', 'cat', '--no-pager'])).stdout
      .split('\n')
      .filter((l) => /^Reloaded /.test(l)).length;
  const fingerprint = async () =>
    (
      await sh(
        a,
        'sha256sum /etc/systemd/network/* /etc/vmware/anyip-routes.cfg /etc/haproxy/dataplaneapi.yaml; ip -4 route show table local proto anyip',
      )
    ).stdout;
  const settle = () =>
    waitFor(
      async () => ((await a.exec(['systemctl', 'list-jobs', '--no-legend'])).stdout.trim() === '' ? true : undefined),
      30_000,
      { what: 'queued jobs to finish' },
    );

  /** Re-apply with new values as the admin's reboot would, without the reboot: the unit runs again. */
  async function reapply(name: string, values: Record<string, string>) {
    client.stdin!.write(`phase ${name}\n`);
    await sh(a, 'cat > /etc/ovactl/ovf-env.xml', ovfEnvXml(values));
    const r = await a.exec(['systemctl', 'restart', 'ovactl-firstboot.service'], { timeoutMs: 120_000 });
    await settle();
    await new Promise((r) => setTimeout(r, 1_000)); // a second of service after the re-apply
    const status = JSON.parse((await a.exec(['cat', '/var/lib/ovactl/status.json'])).stdout);
    const cfg = (await a.exec(['cat', CFG])).stdout;
    return { code: r.code, status, cfg };
  }

  // The reload's own handover, for comparison: the control plane's reload alone.
  client.stdin!.write('phase reload-alone\n');
  await a.exec(['systemctl', 'reload', 'haproxy.service']);
  await settle();
  await new Promise((r) => setTimeout(r, 1_000));

  const before = await fingerprint();
  const changes: [string, Record<string, string>][] = [
    // The same values: first boot's own cost (a Node start on a 2-CPU machine), nothing re-applied.
    ['no-change', VALUES],
    ['nameserver', { ...VALUES, 'network.nameservers': '192.0.2.54' }],
    ['password', { ...VALUES, 'network.nameservers': '192.0.2.54', 'loadbalance.haproxy_pwd': 'changed-api-pw' }],
  ];
  let last = VALUES;
  for (const [name, values] of changes) {
    const reloadsBefore = await reloads();
    const r = await reapply(name, values);
    last = values;
    t.equal(r.code, 0, `${name}: first boot succeeded`);
    t.equal(r.status.state, 'ready', `${name}: status ready`);
    t.ok(r.cfg.endsWith(sections), `${name}: the control plane's sections, byte for byte`);
    t.equal(r.cfg, edited, `${name}: haproxy.cfg untouched (its version too)`);
    t.equal(await reloads(), reloadsBefore, `${name}: haproxy neither reloaded nor restarted`);
  }
  t.match(
    (await a.exec(['cat', '/etc/haproxy/dataplaneapi-users.cfg'])).stdout,
    /^ {4}user wcp password \$6\$/m,
    'the new password is in the users file',
  );

  const served = await fingerprint();
  const bad = await reapply('invalid-range', { ...last, 'loadbalance.service_ip_range': '198.51.100.65/26' });
  t.equal(bad.code, 1, 'invalid values: first boot reports the failure');
  t.equal(bad.status.state, 'error');
  t.match(bad.status.errors, [{ rule: 'vip.host-bits' }]);
  t.same(bad.status.serving?.ranges, [RANGE], 'status: the values in force');
  t.ok(bad.cfg.endsWith(sections), "invalid values: the control plane's sections, byte for byte");
  t.equal(await fingerprint(), served, 'no network file, ranges file or kernel route changed');
  t.match((await a.exec(['cat', '/etc/issue.d/ovactl.issue'])).stdout, /NEW VALUES NOT APPLIED/, 'the console says so');
  for (const unit of ['haproxy.service', 'anyip-routes.service']) t.ok(await active(unit), `${unit} still runs`);
  t.not(before, '', 'fingerprints taken');

  // An admin edits ovactl's global section by hand. The Data Plane API's watcher takes the edit (its md5 is
  // stale now) and rewrites the whole file in its parser's layout; the next valid change puts ovactl's
  // values back (a reload) and the API takes that file too.
  const ownMaxconn = /^ {4}maxconn (\d+)$/m.exec((await a.exec(['cat', CFG])).stdout)?.[1];
  await sh(a, `sed -i 's/^    maxconn [0-9]*$/    maxconn 999/' ${CFG}`);
  const taken = await settled(a);
  t.match(taken, /^ +maxconn 999$/m, "the API took the admin's edit");
  const reloadsBefore = await reloads();
  const fixed = await reapply('global-restored', { ...last, 'network.ntp_servers': '192.0.2.124' });
  t.equal(fixed.status.state, 'ready', 'corrected values: ready again');
  t.equal(fixed.status.serving, undefined, 'and no "serving" any more');
  const final = await settled(a);
  t.ok(Number(versionOf(final)) > Number(versionOf(taken)), `the version raised (${versionOf(final)})`);
  t.match(final, new RegExp(`^ +maxconn ${ownMaxconn}$`, 'm'), `ovactl's global is back (maxconn ${ownMaxconn})`);
  t.same(controlPlane(final), controlPlane(taken), "the control plane's sections, byte for byte");
  t.equal(await reloads(), reloadsBefore + 1, 'haproxy reloaded once');
  t.equal((await a.unit('haproxy.service', ['MainPID'])).MainPID, mainPid, 'haproxy was never restarted (same master)');

  const result = await report();
  client.stdin!.end();
  for (const p of result.phases.slice(1)) {
    t.equal(p.failed, 0, `${p.name}: no failed connection (${p.ok} ok, longest gap ${p.maxGapMs} ms)`, {
      errors: p.errors,
    });
    for (const line of [
      `reapply-${p.name}-failed: ${p.failed}`,
      `reapply-${p.name}-max-gap-ms: ${p.maxGapMs}`,
      `reapply-${p.name}-connections: ${p.ok + p.failed}`,
    ]) {
      t.comment(line);
      process.stdout.write(`${line}\n`);
    }
  }
  t.ok(
    result.long.established && result.long.broken === undefined,
    `the long-lived connection survived every re-apply (${result.long.echoes} echoes)`,
    { long: result.long },
  );
});
