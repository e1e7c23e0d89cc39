// Proof in a real VM (issue 5): the disk build/image.sh makes (built here when missing or out of
// date, into output/image/ as npm run ova does), booted by qemu -accel tcg with OVMF, its NICs at
// the PCI paths ESXi gives slots 160/192 (0000:03:00.0 management, 0000:0b:00.0 workload), the
// deploy values on a CD-ROM labelled "OVF ENV" (the vApp "iso" transport). Checked over the VM's
// own networks (tap devices in namespaces of this run, a client namespace on the workload side)
// and on its serial console:
//
//   boot 1  valid values: the management address answers, a VIP answers the client, the console
//           shows READY (ovactl-ready.service's, once the Data Plane API answered), SSH listens on
//           management only; the image carries the Data Plane API's test stand-in (DATAPLANEAPI=PATH
//           at build time; the real binary cannot be downloaded here), and GET /v2/info answers on
//           the management address to a client trusting only the CA first boot publishes
//   boot 2  the same disk, changed values (another VIP range): re-applied; the new range answers,
//           the old one does not
//   boot 3  the same disk, a VIP range with host bits (10.10.18.18/28, never used as an address):
//           the console reports the error and the fix; the appliance served before, so the last
//           good configuration (boot 2's) keeps serving: haproxy and anyip-routes run, boot 2's VIP
//           answers, status.json says "serving" with boot 2's range, and it is not claimed READY
//
// Figures for bench/image.mjs on stdout: vm-boot<N>-<what>-ms: N (from qemu start).
// Skips (with the reason) when not root, or qemu/OVMF are missing and cannot be installed.
// Addresses are documentation ranges, used only inside this run's namespaces.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBundle } from './helpers/rig/appliance.js';
import { deployValues, MANAGEMENT_IP, WORKLOAD_IP } from './helpers/rig/values.js';
import {
  ensureImage,
  killGroup,
  Machine,
  monotonicUs,
  NIC_MACS,
  ovfEnvXml,
  vmUnavailable,
  waitFor,
  type Boot,
} from './helpers/vm/qemu.js';
import { skipUnless } from './helpers/root.js';

const ROOT_PWD = 'change-me-root';
const RANGE_1 = '198.51.100.64/26';
const VIP_1 = '198.51.100.70';
const RANGE_2 = '203.0.113.128/25';
const VIP_2 = '203.0.113.130';
const BAD_RANGE = '10.10.18.18/28';

const VALUES = deployValues({ 'appliance.root_pwd': ROOT_PWD, 'loadbalance.service_ip_range': RANGE_1 });

// Boot and first boot under TCG take minutes; the whole file (image build included) gets 60.
t.setTimeout(60 * 60_000);
const BOOT_TIMEOUT = 15 * 60_000;

const unavailable = vmUnavailable();
if (!unavailable) ensureBundle();
const image = unavailable ? undefined : await ensureImage();
const skip = skipUnless(unavailable ?? image?.skip);
if (image) {
  t.comment(`image: ${image.ms} ms (${image.ok ? 'ok' : 'FAILED'})`);
  for (const line of image.output.split('\n').filter((l) => /^image: (built|\/|.*up to date)/.test(l))) t.comment(line);
}

let machine: Machine | undefined;
t.before(async () => {
  if (skip) return;
  if (!image?.ok) throw new Error(`build/image.sh failed:\n${image?.output.split('\n').slice(-40).join('\n')}`);
  machine = await Machine.create({
    image: image.raw,
    managementHost: '192.0.2.1/24',
    workloadHost: '198.51.100.1/24',
    client: '198.51.100.200/24',
    clientRoutes: [{ to: RANGE_2, via: WORKLOAD_IP }],
  });
});
t.teardown(() => machine?.destroy());

const ms = (us: number) => Math.round(us / 1000);
function figure(boot: Boot, what: string, atUs: number): void {
  const line = `vm-boot${boot.n}-${what}-ms: ${ms(atUs - boot.startUs)}`;
  t.comment(line);
  process.stdout.write(`${line}\n`);
}

/** Ping `address` from a namespace every 200 ms from now on; resolves the monotonic time of the first answer. */
function firstAnswer(m: Machine, where: 'host' | 'client', address: string): { at: Promise<number>; stop: () => void } {
  const p = m.spawnIn(where, ['sh', '-c', `while :; do ping -n -O -i 0.2 ${address}; sleep 0.2; done`]);
  let resolve!: (us: number) => void;
  const at = new Promise<number>((r) => (resolve = r));
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (d: string) => {
    if (/bytes from/.test(d)) {
      resolve(monotonicUs());
      killGroup(p);
    }
  });
  return { at, stop: () => killGroup(p) };
}

async function within<T>(p: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p,
    new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), timeoutMs))),
  ]);
  clearTimeout(timer);
  return r;
}

/** Power on with these values; wait for the status on the console; log in on the serial console. */
async function bootWith(t: Test, values: Record<string, string>, watch: { vip?: string } = {}) {
  const m = machine!;
  const env = ovfEnvXml(values, NIC_MACS);
  let boot = await m.powerOn(env);
  // A guest kernel that crashed before init under TCG is powered on once more, and said so.
  const early = await boot.crashBeforeUserspace(300_000);
  if (early) {
    t.comment(`boot ${boot.n}: the guest kernel crashed before userspace (${early}); powered on once more`);
    await boot.powerOff(1_000);
    boot = await m.powerOn(env, { again: boot });
  }
  const current = boot;
  t.teardown(() => current.powerOff(30_000));
  const mgmt = firstAnswer(m, 'host', MANAGEMENT_IP);
  const vip = watch.vip ? firstAnswer(m, 'client', watch.vip) : undefined;
  t.teardown(() => {
    mgmt.stop();
    vip?.stop();
  });
  // agetty prints /etc/issue.d/ovactl.issue (first boot's status) above the login prompt.
  const status = await boot.waitConsole(
    /HAProxy load-balancer appliance: (READY|CONFIGURATION ERROR|NEW VALUES NOT APPLIED)[\s\S]*?login: /,
    BOOT_TIMEOUT,
  );
  figure(boot, 'console-status', status.atUs);
  const mgmtAt = await within(mgmt.at, 120_000);
  if (mgmtAt) figure(boot, 'management-ping', mgmtAt);
  return { boot, status: status.match[0], mgmtAt, vip };
}

/** How long ovactl-firstboot.service ran, and when it started (guest's monotonic clock, from kernel start). */
async function firstbootFigures(boot: Boot): Promise<void> {
  const out = await sh(
    boot,
    'systemctl show -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic ovactl-firstboot.service',
  );
  const v = Object.fromEntries(
    out
      .split('\n')
      .map((l) => l.split('='))
      .filter((kv) => kv.length === 2)
      .map(([k, x]) => [k, Number(x)]),
  );
  const started = v.ExecMainStartTimestampMonotonic ?? 0;
  const exited = v.ExecMainExitTimestampMonotonic ?? 0;
  if (started > 0 && exited > started) {
    for (const line of [
      `vm-boot${boot.n}-firstboot-run-ms: ${ms(exited - started)}`,
      `vm-boot${boot.n}-kernel-to-firstboot-ms: ${ms(started)}`,
    ]) {
      t.comment(line);
      process.stdout.write(`${line}\n`);
    }
  }
}

/**
 * GET /v2/info from the management network (the host namespace), trusting only `ca` (curl: --cacert
 * replaces the system's CAs), with the deploy values' Basic credentials.
 */
async function apiInfo(ca: string): Promise<{ code: string; body: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-vm-ca-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), `${ca}\n`);
    const url = `https://${MANAGEMENT_IP}:5556/v2/info`;
    const auth = `${VALUES['loadbalance.haproxy_user']}:${VALUES['loadbalance.haproxy_pwd']}`;
    const r = await machine!.exec(
      'host',
      [
        'curl',
        '-sS',
        '--max-time',
        '20',
        '--cacert',
        join(dir, 'ca.crt'),
        '-u',
        auth,
        '-o',
        join(dir, 'body'),
        '-w',
        '%{http_code}',
        url,
      ],
      { timeoutMs: 30_000 },
    );
    return {
      code: r.stdout.trim() || r.stderr.trim(),
      body: existsSync(join(dir, 'body')) ? readFileSync(join(dir, 'body'), 'utf8') : '',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A console command's output (logged in as root). */
async function sh(boot: Boot, cmd: string): Promise<string> {
  return (await boot.shell(cmd, 120_000)).out;
}

t.test('boot 1: valid values make a ready appliance; its VIPs answer the client', { skip }, async (t) => {
  const { boot, status, mgmtAt, vip } = await bootWith(t, VALUES, { vip: VIP_1 });
  t.match(status, /READY \(default deployment\)/, 'the serial console shows the status: READY', { status });
  t.match(status, new RegExp(`VIP ranges: +${RANGE_1.replace(/\./g, '\\.')}`), 'with the VIP range');
  t.ok(mgmtAt, `the management address ${MANAGEMENT_IP} answers ping`);

  const vipAt = await within(vip!.at, 180_000);
  t.ok(vipAt, `a VIP (${VIP_1}) answers the client on the workload network`);
  if (vipAt) figure(boot, 'vip-ping', vipAt);
  t.ok(await machine!.ping('client', '198.51.100.126', 3), 'and so does the last address of the range');
  t.ok(await machine!.ping('client', WORKLOAD_IP, 3), 'the workload address answers the client');

  await boot.login('root', ROOT_PWD);
  t.comment('root logs in on the serial console with the password from the OVF environment');
  // The boot goes on after first boot (sshd waits for its new host keys): let it finish.
  const state = (await boot.shell('systemctl is-system-running --wait', 10 * 60_000)).out;
  figure(boot, 'system-running', monotonicUs());
  t.equal(
    state,
    'running',
    'the boot finishes with every unit up (running, not degraded)',
    state === 'running' ? {} : { failed: await sh(boot, 'systemctl --failed --no-legend --plain') },
  );
  // Hardening: nothing listens beyond loopback and the management address (no LLMNR/mDNS, no sshd on
  // workload). `ss -l` also lists the unconnected UDP socket a client sends its queries from
  // (timesyncd asking the NTP server, resolved a DNS server): an ephemeral port, not a service.
  const listening = (await sh(boot, "ss -Hlntup | awk '{print $1, $5, $7}'")).split('\n').filter(Boolean);
  const client = (l: string) => /^udp \S+:(3[2-9]\d{3}|[4-5]\d{4}|60\d{3}) .*"systemd-(timesyn|resolve)/.test(l);
  const exposed = listening.filter(
    (l) => !/^\S+ (127\.\d+\.\d+\.\d+(%lo)?|\[::1\]|192\.0\.2\.10):\d+ /.test(`${l} `) && !client(l),
  );
  t.same(exposed, [], 'every listening socket is on loopback or the management address', { listening });
  t.equal(await machine!.tcp('host', MANAGEMENT_IP, 22), 'open', 'sshd listens on the management address');
  t.equal(await machine!.tcp('client', WORKLOAD_IP, 22), 'closed', 'and not on the workload address');
  // The Data Plane API as the Supervisor meets it: on the management address, trusting only the CA
  // first boot publishes (guestinfo.dataplaneapi.cacert carries ca.crt; qemu has no guestinfo, so the
  // test reads the file over the console), with the deploy values' credentials.
  t.equal(await sh(boot, 'systemctl is-active dataplaneapi.service; true'), 'active', 'the Data Plane API unit runs');
  t.match(
    await sh(boot, 'journalctl -b -u ovactl-ready -o cat'),
    /the Data Plane API answered https:\/\/192\.0\.2\.10:5556\/v2\/info/,
    'READY came from ovactl-ready.service, once the API answered',
  );
  const info = await apiInfo(await sh(boot, 'cat /etc/haproxy/ca.crt'));
  t.equal(info.code, '200', 'GET /v2/info answers 200 over HTTPS with the published CA and Basic auth', { info });
  t.match(info.body, /"api":\s*\{[^}]*"version"/, "with the API's version");
  t.equal(
    await sh(boot, 'readlink -f /sys/class/net/management/device /sys/class/net/workload/device | sed "s,.*/,,"'),
    '0000:03:00.0\n0000:0b:00.0',
    'management is the NIC at 0000:03:00.0, workload the one at 0000:0b:00.0',
  );
  t.match(await sh(boot, 'cat /var/lib/ovactl/status.json'), /"state":\s*"ready"/, 'status.json: ready');
  t.equal(
    await sh(boot, 'systemctl is-active haproxy.service anyip-routes.service'),
    'active\nactive',
    'haproxy and anyip-routes run',
  );
  t.equal(await sh(boot, 'sysctl -n net.ipv4.ip_forward'), '0', 'no IP forwarding');
  t.match(
    await sh(boot, 'test -s /etc/machine-id && test -s /etc/ssh/ssh_host_ed25519_key && echo yes'),
    'yes',
    'a machine-id and SSH host keys of its own, made at first boot',
  );
  t.match(
    await sh(boot, 'journalctl -b -u ovactl-firstboot -o cat | grep "values from"'),
    /OVF\\x20ENV/,
    'first boot read the values from the OVF ENV disc',
  );
  await firstbootFigures(boot);
  t.equal(await boot.powerOff(), 'clean', 'the VM shuts down cleanly on the ACPI power button');
});

t.test('boot 2: changed values (another VIP range) are re-applied', { skip }, async (t) => {
  const { boot, status, mgmtAt, vip } = await bootWith(
    t,
    { ...VALUES, 'loadbalance.service_ip_range': RANGE_2 },
    { vip: VIP_2 },
  );
  t.match(status, /READY \(default deployment\)/, 'the console shows READY', { status });
  t.match(status, new RegExp(`VIP ranges: +${RANGE_2.replace(/\./g, '\\.')}`), 'with the new VIP range');
  t.ok(mgmtAt, 'the management address answers');
  const vipAt = await within(vip!.at, 180_000);
  t.ok(vipAt, `a VIP of the new range (${VIP_2}) answers the client`);
  if (vipAt) figure(boot, 'vip-ping', vipAt);
  t.notOk(await machine!.ping('client', VIP_1, 2), `the old range's VIP (${VIP_1}) no longer answers`);

  await boot.login('root', ROOT_PWD);
  const routes = await sh(boot, 'ip -4 route show table local proto anyip');
  t.match(routes, RANGE_2, 'the kernel has the new range as a local route', { routes });
  t.notMatch(routes, RANGE_1, 'and not the old one');
  t.match(
    await sh(boot, 'journalctl -b -u ovactl-firstboot -o cat'),
    /wrote \/etc\/vmware\/anyip-routes\.cfg/,
    'first boot rewrote the ranges file',
  );
  await firstbootFigures(boot);
  t.equal(await boot.powerOff(), 'clean', 'clean shutdown');
});

t.test(
  'boot 3: a VIP range with host bits is reported on the console; the last good configuration serves on',
  { skip },
  async (t) => {
    const { boot, status, mgmtAt, vip } = await bootWith(
      t,
      { ...VALUES, 'loadbalance.service_ip_range': BAD_RANGE },
      { vip: VIP_2 },
    );
    t.match(
      status,
      /NEW VALUES NOT APPLIED - the last good configuration keeps serving/,
      'the console says the new values were not applied',
      { status },
    );
    t.match(status, new RegExp(`VIP ranges: ${RANGE_2.replace(/[./]/g, '\\$&')}`), 'and which ranges are in force');
    t.match(status, /rule vip\.host-bits/, 'names the rule');
    t.match(status, /fix: use 10\.10\.18\.16\/28/, 'and the fix');
    t.ok(mgmtAt, 'the management address answers');
    // Only the ranges of the earlier boots are pinged: the bad range is never used as an address.
    const vipAt = await within(vip!.at, 180_000);
    t.ok(vipAt, `boot 2's VIP still answers (${VIP_2})`);
    if (vipAt) figure(boot, 'vip-ping', vipAt);
    t.notOk(await machine!.ping('client', VIP_1, 2), `boot 1's does not (${VIP_1})`);

    await boot.login('root', ROOT_PWD);
    // They start after first boot, as at every boot (under TCG a Node start takes seconds).
    const running = await waitFor(
      async () =>
        (await sh(boot, 'systemctl is-active haproxy.service anyip-routes.service; true')) === 'active\nactive' ||
        undefined,
      180_000,
      { intervalMs: 3_000 },
    ).catch(() => false);
    t.ok(running, 'haproxy and anyip-routes run', {
      state: await sh(boot, 'systemctl is-active haproxy.service anyip-routes.service; true'),
    });
    t.equal(
      await sh(boot, 'systemctl is-enabled haproxy.service anyip-routes.service; true'),
      'enabled\nenabled',
      'and stay enabled',
    );
    t.match(await sh(boot, 'cat /etc/vmware/anyip-routes.cfg'), RANGE_2, "the ranges file is boot 2's");
    const json = await sh(boot, 'cat /var/lib/ovactl/status.json');
    // Said only when it fails: what first boot did this boot (once seen: neither status.json nor the banner
    // written, the unit failed, the reason unknown).
    const firstbootLog = await sh(boot, 'journalctl -b -u ovactl-firstboot -o cat --no-pager | tail -40; true');
    t.match(json, /"state":\s*"error"[\s\S]*vip\.host-bits/, 'status.json: error, vip.host-bits', { firstbootLog });
    t.match(
      json,
      new RegExp(`"serving":\\{"appliedAt":"[^"]+","ranges":\\["${RANGE_2.replace(/[./]/g, '\\$&')}"\\]\\}`),
      'and the values still in force',
    );
    t.match(
      await sh(boot, 'systemctl show -p Result --value ovactl-firstboot.service'),
      /exit-code/,
      'the first-boot unit reports the failure',
    );
    t.notMatch(json, /"state":\s*"(ready|starting)"/, 'not claimed READY (nor starting)');
    t.notMatch(
      await sh(boot, 'journalctl -b -u ovactl-ready -o cat; true'),
      /answered/,
      'and no probe said so this boot',
    );
    t.equal(await boot.powerOff(), 'clean', 'clean shutdown');
  },
);
