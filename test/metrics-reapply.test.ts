// Metrics switched on by a re-apply on a running appliance (the nspawn rig, real systemd and haproxy):
// haproxy reloads (never restarts: the control plane's connections stay), and its chrooted workers
// must still see the metrics folder, which the unit binds into the chroot only at start. First boot
// binds it into the running unit (`systemctl bind`): /metrics/appliance then serves first boot's state.
import t from 'tap';
import { rigSuite } from './helpers/rig/suite.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootAppliance, waitFor } from './helpers/rig/appliance.js';
import { ovfEnvXml } from './helpers/rig/ovf-env.js';
import { deployValues, MANAGEMENT_IP } from './helpers/rig/values.js';

const PORT = '9100';
const VALUES = deployValues();
const USER = VALUES['loadbalance.haproxy_user']!;
const PASSWORD = VALUES['loadbalance.haproxy_pwd']!;

t.setTimeout(8 * 60_000);
const rig = await rigSuite();
const skip = rig.skip;

t.test('metrics on by a re-apply: haproxy reloads and /metrics/appliance serves', { skip }, async (t) => {
  rig.ready();
  const a = await bootAppliance({
    managementHost: '192.0.2.1/24',
    workloadHost: '198.51.100.1/24',
    client: '198.51.100.200/24',
    ovfEnv: ovfEnvXml(VALUES),
    dataplaneapi: 'standin',
  });
  t.teardown(() => a.stop());
  const scratch = mkdtempSync(join(tmpdir(), 'ovactl-metrics-reapply-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

  const mainPid = async () => (await a.unit('haproxy.service', ['MainPID'])).MainPID;
  const pid = await waitFor(
    async () => {
      const p = await mainPid();
      return p && p !== '0' ? p : undefined;
    },
    90_000,
    { what: 'haproxy to run', describe: () => a.diagnostics() },
  );
  const published = await waitFor(() => a.guestinfo('guestinfo.dataplaneapi.cacert') || undefined, 60_000, {
    what: 'the published CA',
  });
  const ca = join(scratch, 'ca.crt');
  writeFileSync(ca, Buffer.from(published, 'base64'));

  await a.exec(['sh', '-c', 'cat > /etc/ovactl/ovf-env.xml'], {
    input: ovfEnvXml({ ...VALUES, 'appliance.metrics_port': PORT }),
  });
  const reapply = await a.exec(['systemctl', 'restart', 'ovactl-firstboot.service'], { timeoutMs: 120_000 });
  t.equal(reapply.code, 0, `re-applied with metrics on ${reapply.stderr}`);
  const journal = (await a.exec(['journalctl', '-u', 'ovactl-firstboot', '-n', '60', '--no-pager'])).stdout;
  t.match(journal, /systemctl bind --read-only --mkdir haproxy\.service \/run\/ovactl\/metrics/, journal);

  const scrape = async () =>
    (
      await a.host([
        'curl',
        '-sS',
        '--max-time',
        '5',
        '--cacert',
        ca,
        '-u',
        `${USER}:${PASSWORD}`,
        `https://${MANAGEMENT_IP}:${PORT}/metrics/appliance`,
      ])
    ).stdout;
  const body = await waitFor(
    async () => ((await scrape()).includes('ovactl_firstboot_state') ? scrape() : undefined),
    30_000,
    {
      what: '/metrics/appliance to serve first boot state',
      describe: async () => `${await scrape()}\n${await a.diagnostics()}`,
    },
  ).catch(() => '');
  t.match(
    body,
    /ovactl_firstboot_state\{state="(starting|ready)"\} 1/,
    "first boot's state, through the reloaded workers",
  );
  t.equal(await mainPid(), pid, 'haproxy was reloaded, not restarted (the same master)');
});
