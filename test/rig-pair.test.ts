// Two appliances on one pair of networks (the rig of issue 26, keepalived): a second bare appliance
// boots with `peerOf` the first and joins its namespaces, its veths on the same bridges. They reach
// each other and the management gateway; pulling the second one's plug (powerOff) cuts it off, and
// powerOn boots the same disk again. Afterwards nothing of the run is left: no namespace, no mount, no
// process. The rootfs carries keepalived, off until first boot enables it. Seconds once the rootfs
// cache exists (test/helpers/rig/rootfs.sh builds it on first use: minutes).
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  bootAppliance,
  ensureRootfs,
  rigUnavailable,
  ROOTFS_BUILD_MS,
  rootfsCached,
  waitFor,
  type Appliance,
} from './helpers/rig/appliance.js';
import { skipUnless } from './helpers/root.js';

const unavailable = rigUnavailable();
// A cold rootfs build is minutes (or this waits for another file's).
t.setTimeout(unavailable || rootfsCached() ? 10 * 60_000 : ROOTFS_BUILD_MS + 5 * 60_000);
const rootfs = unavailable ? undefined : await ensureRootfs();
const skip = skipUnless(unavailable ?? rootfs?.skip);

const NETWORK = { client: '198.51.100.200/24', workloadHost: '198.51.100.1/24', managementHost: '192.0.2.1/24' };

/** Processes whose command line names one of the tags (nspawn runs with -M <tag>). */
const processesOf = (tags: readonly string[]): string[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return tags.some((tag) => cmd.includes(tag)) ? [`${pid}: ${cmd}`] : [];
      } catch {
        return [];
      }
    });

const running = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};

/** What of these appliances is still there: namespaces, mounts, work folders, processes. */
function leftovers(apps: readonly Appliance[], leaders: readonly number[]): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '');
  return [
    ...[...new Set(apps.flatMap((a) => [a.hostNs, a.clientNs]))]
      .filter((ns) => existsSync(`/run/netns/${ns}`))
      .map((ns) => `netns ${ns}`),
    ...mounts.filter((m) => apps.some((a) => m.startsWith(dirname(a.root)))).map((m) => `mount ${m}`),
    ...apps.filter((a) => existsSync(dirname(a.root))).map((a) => `folder ${dirname(a.root)}`),
    ...leaders.filter(running).map((pid) => `container init ${pid}`),
    ...processesOf(apps.map((a) => a.tag)).map((p) => `process ${p}`),
  ];
}

async function up(a: Appliance, address: string): Promise<void> {
  for (const cmd of [
    ['ip', 'link', 'set', 'management', 'up'],
    ['ip', 'addr', 'add', address, 'dev', 'management'],
  ]) {
    const r = await a.exec(cmd);
    if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${a.tag}: ${r.stderr}`);
  }
}

const ping = (where: (cmd: string[]) => Promise<{ code: number | null }>, to: string) =>
  where(['ping', '-c1', '-W1', to]).then((r) => r.code === 0);

/** Ping until it answers (a neighbour entry from before a power cycle may need a new resolution). */
const reaches = (where: (cmd: string[]) => Promise<{ code: number | null }>, to: string, what: string) =>
  waitFor(() => ping(where, to), 15_000, { what }).then(
    () => true,
    () => false,
  );

t.test('two appliances share the management network; one loses its power and gets it back', { skip }, async (t) => {
  t.ok(rootfs?.ok, `rootfs ready${rootfs?.output === 'cached' ? ' (cached)' : ` (built in ${rootfs?.ms} ms)`}`, {
    output: rootfs?.output,
  });
  if (!rootfs?.ok) return;

  const started = Date.now();
  const a = await bootAppliance(NETWORK);
  t.teardown(() => a.stop());
  const b = await bootAppliance({ peerOf: a });
  t.teardown(() => b.stop());
  t.comment(`two boots: ${Date.now() - started} ms`);
  t.equal(b.owner, a, 'the second appliance joined the first');
  t.equal(b.hostNs, a.hostNs, 'one host namespace');
  t.equal(b.clientNs, a.clientNs, 'one client namespace');
  t.not(b.hostLinks.management, a.hostLinks.management, `host-side veths of their own (${b.hostLinks.management})`);
  const leaders = [a.leaderPid, b.leaderPid];

  for (const x of [a, b]) {
    const state = await x.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 60_000 });
    t.match(state.stdout.trim(), /^(running|degraded)$/, `${x.tag} is ${state.stdout.trim()}`, {
      diagnostics: state.stdout.trim() === 'running' ? '' : await x.diagnostics(),
    });
  }
  const bridged = await a.host(['ip', '-o', 'link', 'show', 'master', 'brm']);
  for (const l of [a.hostLinks.management, b.hostLinks.management])
    t.match(bridged.stdout, new RegExp(`: ${l}@`), `${l} is on the management bridge`);

  // keepalived is there (issue 26), and off: first boot enables it only with ha.* set.
  const version = await a.exec(['keepalived', '--version']);
  t.equal(version.code, 0, 'keepalived --version runs');
  t.match(`${version.stdout}${version.stderr}`, /^Keepalived v\d+\./m, 'keepalived --version');
  const enabled = await a.exec(['systemctl', 'is-enabled', 'keepalived.service']);
  t.equal(enabled.stdout.trim(), 'disabled', 'keepalived.service is not enabled');

  await up(a, '192.0.2.11/24');
  await up(b, '192.0.2.12/24');
  const exA = (cmd: string[]) => a.exec(cmd);
  const exB = (cmd: string[]) => b.exec(cmd);
  const host = (cmd: string[]) => a.host(cmd);
  t.ok(await reaches(exA, '192.0.2.12', 'the first reaches the second'), 'the first reaches the second');
  t.ok(await reaches(exB, '192.0.2.11', 'the second reaches the first'), 'the second reaches the first');
  t.ok(await reaches(host, '192.0.2.11', 'the host reaches the first'), 'the management gateway reaches the first');
  t.ok(await reaches(host, '192.0.2.12', 'the host reaches the second'), 'the management gateway reaches the second');

  // Something on the second one's disk, to find after the power cycle.
  const wrote = await b.exec(['sh', '-c', 'echo before > /var/lib/rig-pair-disk && sync']);
  t.equal(wrote.code, 0, 'the second writes a file on its disk');

  const off = Date.now();
  await b.powerOff();
  t.comment(`power off: ${Date.now() - off} ms`);
  t.notOk(b.running, 'the second is off');
  t.notOk(running(leaders[1]!), "the second's init is gone");
  t.equal((await b.exec(['true'])).code, 127, 'nothing runs in the second');
  t.ok(existsSync(`${b.root}/var/lib/rig-pair-disk`), "its disk stays (the overlay's upper directory)");
  const gone = await a.host(['ip', 'link', 'show', b.hostLinks.management]);
  t.not(gone.code, 0, `${b.hostLinks.management} went with it`);
  t.notOk(await ping(exA, '192.0.2.12'), 'the first no longer reaches the second');
  t.ok(await ping(host, '192.0.2.11'), 'the first still answers the management gateway');

  const on = Date.now();
  await b.powerOn();
  t.comment(`power on to systemd's control socket: ${Date.now() - on} ms`);
  t.ok(b.running, 'the second runs again');
  t.not(b.leaderPid, leaders[1], `a new init (PID ${b.leaderPid})`);
  leaders.push(b.leaderPid);
  const state = await b.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 60_000 });
  t.match(state.stdout.trim(), /^(running|degraded)$/, `after power-on the second is ${state.stdout.trim()}`, {
    diagnostics: state.stdout.trim() === 'running' ? '' : await b.diagnostics(),
  });
  const disk = await b.exec(['cat', '/var/lib/rig-pair-disk']);
  t.equal(disk.stdout.trim(), 'before', 'the file written before the power loss is there');
  const again = await a.host(['ip', '-o', 'link', 'show', 'master', 'brm']);
  t.match(again.stdout, new RegExp(`: ${b.hostLinks.management}@`), 'its veth is back on the management bridge');
  const addr = await b.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'management']);
  t.notMatch(addr.stdout, /192\.0\.2\.12/, 'the address set by hand did not survive the power cycle (a boot)');
  await up(b, '192.0.2.12/24');
  t.ok(await reaches(exB, '192.0.2.11', 'the second reaches the first again'), 'the second reaches the first again');
  t.ok(await reaches(exA, '192.0.2.12', 'the first reaches the second again'), 'the first reaches the second again');
  t.ok(await reaches(host, '192.0.2.12', 'the host reaches the second again'), 'the gateway reaches the second again');

  // Joiner first, then the owner (the documented order).
  await b.stop();
  t.ok(existsSync(`/run/netns/${a.hostNs}`), "the joiner's stop leaves the shared namespaces");
  t.ok(await ping(host, '192.0.2.11'), 'the first still answers after the second is stopped');
  await a.stop();
  t.same(leftovers([a, b], leaders), [], 'nothing of the run is left: namespaces, mounts, folders, processes');
});

t.test("the owner's stop also stops an appliance that joined it", { skip }, async (t) => {
  if (!rootfs?.ok) return;
  const a = await bootAppliance(NETWORK);
  t.teardown(() => a.stop());
  const b = await bootAppliance({ peerOf: a });
  t.teardown(() => b.stop());
  const c = await bootAppliance({ peerOf: b });
  t.teardown(() => c.stop());
  t.equal(c.owner, a, "a joiner's joiner joins the owner");
  t.same(
    [a, b, c].map((x) => x.hostLinks.management),
    ['vmgmt', 'vmgmt2', 'vmgmt3'],
    'each its own host-side veth',
  );
  const leaders = [a.leaderPid, b.leaderPid, c.leaderPid];
  await b.powerOff(); // a powered-off joiner too
  await a.stop();
  t.notOk(c.running, 'the running joiner is stopped');
  t.same(leftovers([a, b, c], leaders), [], 'nothing of the run is left');
  await t.rejects(bootAppliance({ peerOf: a }), /stopped/, 'no joining a stopped appliance');
});
