// Sanity check of the appliance rig (test/helpers/rig/): the bare Debian 12 rootfs, without ovactl, boots
// with systemd in systemd-nspawn, the container sees NICs named management and workload, and the
// client namespace reaches an address configured on the workload NIC. Seconds once the rootfs cache
// exists (test/helpers/rig/rootfs.sh builds it on first use, about a minute).
import t from 'tap';
import { bootAppliance, ensureRootfs, rigUnavailable, waitFor } from './helpers/rig/appliance.js';
import { skipUnless } from './helpers/root.js';

t.setTimeout(10 * 60_000); // a cold rootfs build is about a minute (or waits for boot.test's)
const unavailable = rigUnavailable();
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

  const hostname = await a.exec(['hostname']);
  t.equal(hostname.code, 0, `exec works (hostname ${hostname.stdout.trim()})`);
});
