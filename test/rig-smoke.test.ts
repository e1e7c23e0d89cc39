// Sanity check of the appliance rig (test/helpers/rig/): the bare Debian 13 rootfs, without ovactl, boots
// with systemd in systemd-nspawn and carries the image's runtimes (Node 20, haproxy 3.0, BIRD 2), the container sees NICs named management and workload, and the
// client namespace reaches an address configured on the workload NIC. Seconds once the rootfs cache
// exists (test/helpers/rig/rootfs.sh builds it on first use: minutes).
import t from 'tap';
import {
  bootAppliance,
  ensureRootfs,
  rigUnavailable,
  ROOTFS_BUILD_MS,
  rootfsCached,
  waitFor,
} from './helpers/rig/appliance.js';
import { skipUnless } from './helpers/root.js';

const unavailable = rigUnavailable();
// A cold rootfs build is minutes (or this waits for another file's).
t.setTimeout(unavailable || rootfsCached() ? 10 * 60_000 : ROOTFS_BUILD_MS + 5 * 60_000);
const rootfs = unavailable ? undefined : await ensureRootfs();
const skip = skipUnless(unavailable ?? rootfs?.skip);

t.test('bare rootfs boots in the rig', { skip }, async (t) => {
  t.ok(rootfs?.ok, `rootfs ready${rootfs?.output === 'cached' ? ' (cached)' : ` (built in ${rootfs?.ms} ms)`}`, {
    output: rootfs?.output,
  });
  if (!rootfs?.ok) return;

  const started = Date.now();
  const a = await bootAppliance({
    client: '198.51.100.200/24',
    workloadHost: '198.51.100.1/24',
    managementHost: '192.0.2.1/24',
  });
  t.teardown(() => a.stop());

  const state = await a.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 60_000 });
  t.match(state.stdout.trim(), /^(running|degraded)$/, `system is ${state.stdout.trim()}`, {
    diagnostics: state.stdout.trim() === 'running' ? '' : await a.diagnostics(),
  });
  t.comment(`boot to ${state.stdout.trim()}: ${Date.now() - started} ms`);

  const links = await a.exec(['ip', '-json', 'link', 'show']);
  const names = (JSON.parse(links.stdout) as { ifname: string }[]).map((l) => l.ifname);
  t.ok(names.includes('management'), 'the container has a NIC named management', { names });
  t.ok(names.includes('workload'), 'the container has a NIC named workload', { names });

  // An address on the workload NIC by hand (no ovactl here) and a local (AnyIP) range, as the
  // appliance configures them.
  for (const cmd of [
    ['ip', 'link', 'set', 'workload', 'up'],
    ['ip', 'addr', 'add', '198.51.100.10/24', 'dev', 'workload'],
    ['ip', 'route', 'add', 'local', '198.51.100.64/26', 'dev', 'lo'],
  ]) {
    const r = await a.exec(cmd);
    t.equal(r.code, 0, cmd.join(' '), { stderr: r.stderr });
  }
  const ping = await waitFor(
    async () => {
      const r = await a.client(['ping', '-c1', '-W1', '198.51.100.10']);
      return r.code === 0 ? r : undefined;
    },
    10_000,
    { what: 'ping 198.51.100.10 from the client' },
  );
  t.match(ping.stdout, /1 received/, 'the client reaches the workload address');
  const vip = await a.client(['ping', '-c1', '-W2', '198.51.100.70']);
  t.equal(vip.code, 0, 'the client reaches an address of the AnyIP range (ARP answered for it)', {
    out: vip.stdout + vip.stderr,
  });

  // The versions the image carries (build/provision.sh installs the same Debian 13 packages).
  const versions = await a.exec([
    'sh',
    '-c',
    '. /etc/os-release; echo "$VERSION_CODENAME"; node --version; haproxy -v | head -n 1; bird --version 2>&1',
  ]);
  const [codename, node, haproxy, bird] = versions.stdout.trim().split('\n');
  t.equal(codename, 'trixie', 'Debian 13 (trixie)');
  t.match(node, /^v20\./, `Node 20 runs the bundle on the appliance (${node})`);
  t.match(haproxy, /^HAProxy version 3\.0\./, 'haproxy 3.0');
  t.match(bird, /^BIRD version 2\./, 'BIRD 2');

  const hostname = await a.exec(['hostname']);
  t.equal(hostname.code, 0, `exec works (hostname ${hostname.stdout.trim()})`);
});
