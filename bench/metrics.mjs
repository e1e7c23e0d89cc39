// Metrics (issue 17): scrape time of /metrics (haproxy's exporter) and /metrics/appliance (the Lua
// service reading ovactl's text files), and the RSS of what serves them: haproxy's worker, next to
// the same worker without ovactl-metrics.cfg. Same set-up as test/metrics-ns.test.ts: first boot into
// a temp tree, haproxy in a namespace of its own. Needs root; prints figures, asserts nothing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SCRAPES = 200;
if (process.getuid?.() !== 0 || spawnSync('haproxy', ['-v']).status !== 0) {
  console.log('metrics: skipped (needs root and haproxy)');
} else {
  const root = mkdtempSync(join(tmpdir(), 'ovactl-bench-metrics-'));
  const ns = `ovactl-bench-metrics-${process.pid}`;
  const values = {
    'appliance.root_pwd': 'Root-Pw-Bench',
    'loadbalance.haproxy_pwd': 'Api-Pw-Bench',
    'network.management_ip': '192.0.2.10/24',
    'network.management_gateway': '192.0.2.1',
    'loadbalance.service_ip_range': '198.51.100.64/26',
    'appliance.metrics_port': '9100',
  };
  writeFileSync(join(root, 'values.json'), JSON.stringify(values));
  spawnSync(process.execPath, [
    join(here, 'dist/ovactl.js'),
    'firstboot',
    '--env',
    join(root, 'values.json'),
    '--root',
    root,
  ]);
  // anyip and rhi files as a busy appliance has them (first boot wrote its own and the certificates').
  const rules = Array.from(
    { length: 50 },
    (_, i) => `ovactl_rhi_routes{rule="198.51.100.${64 + i}/32 = all(b:be${i})",state="announced"} 1`,
  );
  writeFileSync(join(root, 'run/ovactl/metrics/rhi.prom'), `# TYPE ovactl_rhi_routes gauge\n${rules.join('\n')}\n`);
  const ip = (...a) => spawnSync('ip', a, { encoding: 'utf8' });
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'management', 'type', 'veth', 'peer', 'name', 'peer0'); // dummy may be missing
  ip('-n', ns, 'link', 'set', 'peer0', 'up');
  ip('-n', ns, 'addr', 'add', '192.0.2.10/24', 'dev', 'management');
  ip('-n', ns, 'link', 'set', 'management', 'up');
  const start = (files) =>
    spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'sh',
        '-c',
        [
          'set -e',
          `mount --bind ${root}/etc/haproxy /etc/haproxy`,
          'mount -t tmpfs tmpfs /var/lib/haproxy',
          'mount -t tmpfs tmpfs /run/haproxy',
          'mkdir /var/lib/haproxy/ovactl-metrics',
          `mount --bind -o ro ${root}/run/ovactl/metrics /var/lib/haproxy/ovactl-metrics`,
          `exec haproxy -W -db ${files.map((f) => `-f /etc/haproxy/${f}`).join(' ')}`,
        ].join('\n'),
      ],
      { stdio: 'ignore' },
    );
  const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  const worker = (master) =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .find((p) => {
        try {
          return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(master);
        } catch {
          return false;
        }
      });
  const curl = (path, n) =>
    spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'sh',
        '-c',
        `for i in $(seq ${n}); do curl -s -o /dev/null -w '%{time_total}\\n' --cacert ${root}/etc/haproxy/ca.crt -u admin:Api-Pw-Bench https://192.0.2.10:9100${path}; done`,
      ],
      { encoding: 'utf8' },
    )
      .stdout.trim()
      .split('\n')
      .map((s) => Number(s) * 1000)
      .sort((a, b) => a - b);
  const size = (path) =>
    spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'curl',
        '-s',
        '--cacert',
        `${root}/etc/haproxy/ca.crt`,
        '-u',
        'admin:Api-Pw-Bench',
        `https://192.0.2.10:9100${path}`,
      ],
      { encoding: 'utf8' },
    ).stdout.length;
  try {
    const h = start(['haproxy.cfg', 'ovactl-metrics.cfg']);
    await sleep(1000);
    console.log(`metrics: ${SCRAPES} scrapes each, a new TLS connection and Basic auth ($6$ check) each time`);
    for (const path of ['/metrics', '/metrics/appliance']) {
      const ms = curl(path, SCRAPES);
      const q = (f) => ms[Math.min(ms.length - 1, Math.floor(ms.length * f))].toFixed(1);
      console.log(
        `  ${path.padEnd(20)} ${String(size(path)).padStart(7)} bytes  median ${q(0.5)} ms  p95 ${q(0.95)} ms`,
      );
    }
    const on = rssKiB(worker(h.pid));
    process.kill(h.pid, 'SIGTERM');
    await sleep(500);
    const off = start(['haproxy.cfg']);
    await sleep(1000);
    const base = rssKiB(worker(off.pid));
    process.kill(off.pid, 'SIGTERM');
    await sleep(500);
    console.log(
      `  haproxy worker RSS: ${(on / 1024).toFixed(1)} MiB with metrics (after the scrapes), ${(base / 1024).toFixed(1)} MiB without`,
    );
    console.log("  no other process serves the appliance's metrics (the writers are the services that already run)");
  } finally {
    ip('netns', 'del', ns);
    rmSync(root, { recursive: true, force: true });
  }
}
