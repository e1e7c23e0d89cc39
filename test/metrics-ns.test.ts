// Metrics end to end with the appliance's haproxy (3.0, from the rig's Debian 13 rootfs): `ovactl
// firstboot --root` writes haproxy.cfg, ovactl-metrics.cfg, its Lua service, the certificates and the
// appliance's metrics; haproxy runs with both files (as the unit's drop-in loads them) in a namespace of
// this test's own, chrooted into the rootfs in a mount namespace where the tree's /etc/haproxy is
// /etc/haproxy and the metrics folder is bound into haproxy's chroot as the unit binds it. A client namespace scrapes over a veth with TLS (trusting only the CA).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Netns, sleep } from './helpers/netns.js';
import { firstUnmet, isRoot, skipUnless } from './helpers/root.js';
import { runCli } from './helpers/cli.js';
import { appliancePrograms, inAppliance } from './helpers/appliance-programs.js';
import { ROOTFS_CACHE } from './helpers/rig/appliance.js';
import { STATUS_FILE } from '../src/appliance/paths.js';

const STATUS = STATUS_FILE.slice(1);

const noHaproxy = isRoot ? await appliancePrograms() : undefined;
const haproxy = noHaproxy ? undefined : inAppliance('haproxy', ['-vv']);
const skip = skipUnless(
  firstUnmet([
    [isRoot, 'needs root (network namespaces)'],
    [!noHaproxy, `the appliance's haproxy: ${noHaproxy}`],
    [/\+PROMEX/.test(haproxy?.stdout ?? ''), "the appliance's haproxy lacks the Prometheus exporter"],
  ]),
);

const APPLIANCE = '192.0.2.10';
const CLIENT = '192.0.2.20';
const PORT = '9100';
const VALUES = {
  'appliance.root_pwd': 'Root-Pw-Metrics',
  'loadbalance.haproxy_user': 'metrics-admin',
  'loadbalance.haproxy_pwd': 'Api-Pw-Metrics',
  'network.management_ip': `${APPLIANCE}/24`,
  'network.management_gateway': '192.0.2.1',
  'network.workload_ip': '198.51.100.10/24',
  'network.workload_gateway': '198.51.100.1',
  'loadbalance.service_ip_range': '198.51.100.64/26',
  'appliance.metrics_port': PORT,
};

t.test('scrape /metrics and /metrics/appliance over TLS with Basic auth', { skip }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ovactl-metrics-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const env = join(root, 'values.json');
  writeFileSync(env, JSON.stringify(VALUES));
  const fb = runCli(['firstboot', '--env', env, '--root', root], { timeoutMs: 60_000 });
  t.match(fb.out, /wrote \/etc\/haproxy\/ovactl-metrics\.cfg/, 'first boot writes ovactl-metrics.cfg', {
    stderr: fb.err,
  });
  t.notMatch(
    readFileSync(join(root, 'etc/haproxy/ovactl-metrics.cfg'), 'utf8'),
    /Api-Pw-Metrics/,
    'the password is not in the file',
  );

  const client = Netns.create(t, 'mx-client');
  const appliance = Netns.create(t, 'mx-appl');
  const [cn, an] = [`mxc${process.pid % 10000}`, `mxa${process.pid % 10000}`];
  const r = spawnSync('ip', [
    'link',
    'add',
    an,
    'netns',
    appliance.name,
    'type',
    'veth',
    'peer',
    'name',
    cn,
    'netns',
    client.name,
  ]);
  t.equal(r.status, 0, 'veth pair');
  appliance.ip('addr', 'add', `${APPLIANCE}/24`, 'dev', an);
  appliance.ip('link', 'set', an, 'up');
  client.ip('addr', 'add', `${CLIENT}/24`, 'dev', cn);
  client.ip('link', 'set', cn, 'up');

  // ip netns exec gives the shell a mount namespace of its own (slave to the host's): these mounts,
  // in the rootfs, never reach the host or another test. The rootfs's haproxy user owns /run/haproxy.
  const R = ROOTFS_CACHE;
  const script = [
    'set -e',
    `mount --bind ${root}/etc/haproxy ${R}/etc/haproxy`,
    `mount -t tmpfs -o mode=0755 tmpfs ${R}/var/lib/haproxy`,
    `mount -t tmpfs -o mode=0775 tmpfs ${R}/run/haproxy && chroot ${R} chown haproxy:haproxy /run/haproxy`,
    `mkdir ${R}/var/lib/haproxy/ovactl-metrics`,
    `mount --bind -o ro ${root}/run/ovactl/metrics ${R}/var/lib/haproxy/ovactl-metrics`,
    `mount --rbind /dev ${R}/dev && mount -t proc proc ${R}/proc`,
    `exec chroot ${R} haproxy -W -db -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/ovactl-metrics.cfg`,
  ].join('\n');
  const h = appliance.spawn(['sh', '-c', script]);
  const curl = (path: string, ...extra: string[]) =>
    client.exec([
      'curl',
      '-sS',
      '--max-time',
      '5',
      '--cacert',
      join(root, 'etc/haproxy/ca.crt'),
      '-o',
      '-',
      '-w',
      '\n%{http_code}',
      ...extra,
      `https://${APPLIANCE}:${PORT}${path}`,
    ]);
  let up = curl('/metrics');
  for (let i = 0; i < 100 && up.status !== 0 && h.alive(); i++, up = curl('/metrics')) await sleep(50);
  t.ok(h.alive(), 'haproxy runs with haproxy.cfg and ovactl-metrics.cfg', { stderr: h.err });

  t.match(up.stdout, /\n401$/, 'refused without credentials', { stderr: up.stderr });
  const wrong = curl('/metrics', '-u', 'metrics-admin:wrong-password');
  t.match(wrong.stdout, /\n401$/, 'refused with a wrong password');
  const auth = ['-u', `${VALUES['loadbalance.haproxy_user']}:${VALUES['loadbalance.haproxy_pwd']}`];
  const m = curl('/metrics', ...auth);
  t.equal(m.status, 0, 'TLS verifies with the CA alone', { stderr: m.stderr });
  t.match(m.stdout, /\n200$/, '200 with the Data Plane API credentials');
  t.match(m.stdout, /^haproxy_process_uptime_seconds \d+/m, "haproxy's series");

  const a = curl('/metrics/appliance', ...auth);
  t.match(a.stdout, /\n200$/, '/metrics/appliance answers');
  // As the status says (here error: the tree has no Data Plane API binary).
  const status = JSON.parse(readFileSync(join(root, STATUS), 'utf8')) as {
    state: string;
    errors: unknown[];
    warnings: unknown[];
  };
  t.match(
    a.stdout,
    new RegExp(`^ovactl_firstboot_state\\{state="${status.state}"\\} 1$`, 'm'),
    `first boot's state (${status.state})`,
  );
  t.equal(a.stdout.match(/^ovactl_firstboot_state\{[^}]*\} 1$/gm)?.length, 1, 'one state at a time');
  t.match(
    a.stdout,
    new RegExp(`^ovactl_firstboot_findings\\{severity="error"\\} ${status.errors.length}$`, 'm'),
    'its errors',
  );
  t.match(
    a.stdout,
    new RegExp(`^ovactl_firstboot_findings\\{severity="warning"\\} ${status.warnings.length}$`, 'm'),
    'its warnings',
  );
  t.match(
    a.stdout,
    /^ovactl_certificate_days_left\{certificate="server"\} (7[0-2]\d)$/m,
    "the server certificate's days left",
  );
  t.match(curl('/metrics/appliance').stdout, /\n401$/, 'the appliance path needs auth too');
  t.match(curl('/other', ...auth).stdout, /\n404$/, 'nothing else is served');

  // Fresh at each scrape: a writer's new file is served without a reload.
  const anyip = join(root, 'run/ovactl/metrics/anyip.prom');
  writeFileSync(anyip, '# TYPE ovactl_anyip_ranges gauge\novactl_anyip_ranges{where="file"} 3\n');
  t.match(
    curl('/metrics/appliance', ...auth).stdout,
    /^ovactl_anyip_ranges\{where="file"\} 3$/m,
    'a new file is served at the next scrape',
  );
  // Not on other addresses of the appliance: the management address only.
  const lo = appliance.exec([
    'curl',
    '-sk',
    '--max-time',
    '3',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `https://127.0.0.1:${PORT}/metrics`,
  ]);
  t.equal(lo.stdout, '000', 'no listener on 127.0.0.1');
  t.equal(await h.stop(), 0, 'haproxy stops cleanly on SIGTERM');
});
