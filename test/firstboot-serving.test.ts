// A serving appliance keeps serving: invalid new values change nothing but the status (state error,
// "serving": the values in force), the control plane's haproxy.cfg sections survive every re-apply,
// haproxy is reloaded (never restarted) when only haproxy.cfg changed. runFirstboot against a
// recording stand-in for the live system (test code: it records commands instead of running them).
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runFirstboot } from '../src/apply/firstboot.js';
import type { System } from '../src/apply/system.js';
import { check, withImage } from './helpers/values.js';
import { changedFiles, snapshot, STATUS_ONLY } from './helpers/tree.js';
import { apiFile, seed003Sections } from './helpers/rig/control-plane.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-serving-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function recordingLive() {
  const calls: { cmd: string; args: readonly string[] }[] = [];
  const system: System = {
    live: true,
    ran: [],
    async run(cmd, args) {
      calls.push({ cmd, args });
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  };
  return { system, calls };
}
const systemctl = (calls: { cmd: string; args: readonly string[] }[]) =>
  calls.filter((c) => c.cmd === 'systemctl').map((c) => c.args.join(' '));
const NOW = new Date('2026-11-30T08:00:00.000Z');
const CFG = 'etc/haproxy/haproxy.cfg';
const readJson = (root: string, p: string) => JSON.parse(readFileSync(join(root, p), 'utf8'));

/** A first boot with good values, then the control plane adds seed 003's sections the API's way. */
async function servingAppliance(name: string): Promise<{ root: string; sections: string }> {
  const root = withImage(join(dir, name));
  const r = await runFirstboot({
    report: await check({}),
    root,
    system: recordingLive().system,
    version: 'test',
    anyip: false,
    now: NOW,
  });
  if (r.state !== 'starting') throw new Error(r.lines.join('\n'));
  const sections = seed003Sections({ vip: '198.51.100.70', servers: ['198.51.100.20', '198.51.100.21'] });
  writeFileSync(join(root, CFG), apiFile(3, `${readFileSync(join(root, CFG), 'utf8')}\n${sections}`));
  return { root, sections };
}

// One member of each kind of invalid change: host bits, a range over the gateway, a bad address,
// an unknown deployment value, a bad password, a bad port.
const INVALID: Record<string, Record<string, string>> = {
  'a VIP range with host bits': { 'loadbalance.service_ip_range': '198.51.100.65/26' },
  'a VIP range over the workload gateway': { 'loadbalance.service_ip_range': '198.51.100.0/24' },
  'a management address that is no address': { 'network.management_ip': '192.0.2.300/24' },
  'a Data Plane API port out of range': { 'loadbalance.dataplane_port': '70000' },
  'a valid NTP change beside an invalid range (not half-applied)': {
    'network.ntp_servers': '192.0.2.77',
    'loadbalance.service_ip_range': '198.51.100.65/26',
  },
};

for (const [name, values] of Object.entries(INVALID)) {
  t.test(`serving, then ${name}: nothing but the status changes`, async (t) => {
    const { root } = await servingAppliance(name.replace(/\W+/g, '-'));
    const before = snapshot(root);
    const { system, calls } = recordingLive();
    const report = await check(values);
    t.notOk(report.valid, 'the new values are invalid');
    const r = await runFirstboot({
      report,
      root,
      system,
      version: 'test',
      anyip: false,
      now: new Date('2026-12-01T09:00:00Z'),
    });
    t.equal(r.state, 'error');
    t.equal(r.serving, true);
    t.same(changedFiles(before, snapshot(root)), STATUS_ONLY, 'no file of the data plane rewritten');
    t.same(
      calls.map((c) => c.cmd),
      ['vmware-rpctool'],
      'no unit stopped, disabled, restarted; no chpasswd; only the status published',
    );
    const status = readJson(root, 'var/lib/ovactl/status.json');
    t.equal(status.state, 'error');
    t.ok(status.errors.length > 0, 'the findings');
    t.same(
      status.serving,
      { appliedAt: NOW.toISOString(), ranges: ['198.51.100.64/26'] },
      'the values in force, since the last good apply',
    );
    const published = JSON.parse(calls[0]!.args[0]!.replace(/^info-set guestinfo\.ovactl\.status /, ''));
    t.same(published, status, 'guestinfo.ovactl.status says the same');
    const issue = readFileSync(join(root, 'etc/issue.d/ovactl.issue'), 'utf8');
    t.match(issue, /NEW VALUES NOT APPLIED - the last good configuration keeps serving/);
    t.match(issue, /In force since 2026-11-30T08:00:00\.000Z; VIP ranges: 198\.51\.100\.64\/26/);
    t.notMatch(issue, /haproxy is not started/);

    // The same invalid values at the next boot: still serving, still said.
    const again = recordingLive();
    const r2 = await runFirstboot({ report, root, system: again.system, version: 'test', anyip: false });
    t.equal(r2.changed, false);
    t.equal(r2.serving, true);
    t.same(systemctl(again.calls), []);

    // Corrected values: applied as a whole, state ready, no "serving" any more.
    const fixed = recordingLive();
    const r3 = await runFirstboot({
      report: await check({ 'network.ntp_servers': '192.0.2.124' }),
      root,
      system: fixed.system,
      version: 'test',
      anyip: false,
    });
    t.equal(r3.state, 'starting', r3.lines.join('\n'));
    t.equal(readJson(root, 'var/lib/ovactl/status.json').serving, undefined);
    t.match(readFileSync(join(root, 'etc/systemd/timesyncd.conf.d/50-ovactl.conf'), 'utf8'), /192\.0\.2\.124/);
  });
}

t.test("changed values re-applied: the control plane's sections survive byte for byte", async (t) => {
  const { root, sections } = await servingAppliance('re-apply');
  // The Data Plane API's own state: maps, uploaded certificates, transactions.
  const apiState = ['etc/haproxy/maps/vips.map', 'etc/haproxy/ssl/svc.pem', 'var/lib/dataplaneapi/transactions/t1.cfg'];
  for (const f of apiState) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), `control plane data ${f}\n`);
  }
  const apiBefore = snapshot(join(root, 'etc/haproxy/maps'));
  const changes: Record<string, string>[] = [
    { 'network.nameservers': '192.0.2.99' },
    { 'loadbalance.haproxy_pwd': 'Changed-Api-Pw-1' },
    { 'network.ntp_servers': '192.0.2.77' },
  ];
  let cumulative: Record<string, string> = {};
  for (const [i, change] of changes.entries()) {
    const values = (cumulative = { ...cumulative, ...change });
    const { system, calls } = recordingLive();
    const before = readFileSync(join(root, CFG), 'utf8');
    const r = await runFirstboot({ report: await check(values), root, system, version: 'test', anyip: false });
    t.equal(r.state, 'starting', r.lines.join('\n'));
    const after = readFileSync(join(root, CFG), 'utf8');
    t.ok(
      after.endsWith(sections),
      `re-apply ${i + 1} (${Object.keys(change)[0]}): seed 003's sections are the file's end, byte for byte`,
    );
    t.equal(after, before, `re-apply ${i + 1}: haproxy.cfg untouched (ovactl's sections already hold its values)`);
    t.notOk(
      systemctl(calls).some(
        (c) => /haproxy\.service/.test(c) && /^(stop|restart|try-restart|reload|try-reload-or-restart) /.test(c),
      ),
      `re-apply ${i + 1}: haproxy neither restarted nor reloaded`,
      { calls: systemctl(calls) },
    );
    if ('loadbalance.haproxy_pwd' in change) {
      t.ok(
        systemctl(calls).includes('try-restart --no-block dataplaneapi.service'),
        'a new password restarts only the Data Plane API',
        { calls: systemctl(calls) },
      );
      t.notMatch(
        readFileSync(join(root, 'etc/haproxy/dataplaneapi-users.cfg'), 'utf8'),
        /Changed-Api-Pw/,
        'the users file holds a hash',
      );
    }
  }
  for (const f of apiState) t.equal(readFileSync(join(root, f), 'utf8'), `control plane data ${f}\n`, `${f} untouched`);
  t.same(changedFiles(apiBefore, snapshot(join(root, 'etc/haproxy/maps'))), [], 'the maps folder as it was');
});

t.test('only haproxy.cfg changed: haproxy is reloaded, never restarted; the version line goes up', async (t) => {
  const { root, sections } = await servingAppliance('reload');
  // An admin's edit of ovactl's global section, which the next apply puts back.
  writeFileSync(join(root, CFG), readFileSync(join(root, CFG), 'utf8').replace(/maxconn \d+/, 'maxconn 50'));
  const { system, calls } = recordingLive();
  const r = await runFirstboot({
    report: await check({ 'network.ntp_servers': '192.0.2.77' }),
    root,
    system,
    version: 'test',
    anyip: false,
  });
  t.equal(r.state, 'starting');
  const cfg = readFileSync(join(root, CFG), 'utf8');
  t.match(cfg, /^# _version=4\n/, 'version 3 → 4: a client holding 3 gets a conflict', { lines: r.lines });
  t.notMatch(cfg, /_md5hash/, 'no md5 line: the running API re-reads the file');
  t.match(cfg, /^ {4}maxconn 29000$/m, "sized for the descriptor's 2 GiB");
  t.ok(cfg.endsWith(sections));
  t.ok(systemctl(calls).includes('try-reload-or-restart --no-block haproxy.service'), systemctl(calls).join('\n'));
  t.notOk(
    systemctl(calls).some((c) => /^(try-)?restart .*haproxy/.test(c)),
    'no restart of haproxy',
  );
  t.match(r.lines.join('\n'), /kept the control plane's 3 sections as they were/);
});

t.test('first boot ever with invalid values: fail closed, as before', async (t) => {
  const root = join(dir, 'never-served');
  const { system, calls } = recordingLive();
  const r = await runFirstboot({
    report: await check({ 'loadbalance.service_ip_range': '198.51.100.65/26' }),
    root,
    system,
    version: 'test',
    anyip: false,
  });
  t.equal(r.state, 'error');
  t.notOk(r.serving);
  t.ok(
    systemctl(calls).some((c) => c.startsWith('stop --no-block') && c.includes('haproxy.service')),
    'the data plane is stopped',
  );
  t.equal(readJson(root, 'var/lib/ovactl/status.json').serving, undefined);
  t.match(readFileSync(join(root, 'etc/issue.d/ovactl.issue'), 'utf8'), /CONFIGURATION ERROR - haproxy is not started/);
});

t.test("the image's Data Plane API version goes into the status", async (t) => {
  for (const version of ['2.9.27', 'none']) {
    const root = join(dir, `image-${version}`);
    if (version !== 'none') withImage(root);
    mkdirSync(join(root, 'usr/lib/ovactl'), { recursive: true });
    writeFileSync(
      join(root, 'usr/lib/ovactl/build-info.json'),
      JSON.stringify({ dataplaneapi: version, pinned: '2.9.27' }),
    );
    await runFirstboot({
      report: await check({}),
      root,
      system: recordingLive().system,
      version: 'test',
      anyip: false,
    });
    t.same(
      readJson(root, 'var/lib/ovactl/status.json').image,
      { dataplaneapi: version },
      `image.dataplaneapi ${version}`,
    );
  }
  const none = join(dir, 'image-absent');
  await runFirstboot({
    report: await check({}),
    root: none,
    system: recordingLive().system,
    version: 'test',
    anyip: false,
  });
  t.equal(readJson(none, 'var/lib/ovactl/status.json').image, undefined, 'no build information, no "image"');
});

t.test(
  'an image without the Data Plane API is never READY: dataplaneapi.missing names the image and the fix',
  async (t) => {
    const root = join(dir, 'no-api');
    mkdirSync(join(root, 'usr/lib/ovactl'), { recursive: true });
    writeFileSync(
      join(root, 'usr/lib/ovactl/build-info.json'),
      JSON.stringify({ dataplaneapi: 'none', pinned: '2.9.27' }),
    );
    const { system, calls } = recordingLive();
    const r = await runFirstboot({ report: await check({}), root, system, version: 'test', anyip: false });
    t.equal(r.state, 'error');
    t.ok(r.dataPlaneStarted, 'haproxy still serves the valid values');
    const status = readJson(root, 'var/lib/ovactl/status.json');
    t.same(
      status.errors.map((e: { rule: string }) => e.rule),
      ['dataplaneapi.missing'],
    );
    t.match(
      status.errors[0].message,
      /not installed \(\/usr\/local\/bin\/dataplaneapi: this image was built with DATAPLANEAPI=none\)/,
    );
    t.match(status.errors[0].hint, /DATAPLANEAPI=PATH/);
    t.equal(status.dataplaneapi, undefined, 'no API URL that nothing serves');
    t.ok(
      systemctl(calls).some((c) => c.startsWith('start --no-block') && c.includes('haproxy.service')),
      'haproxy is started',
    );
    t.notOk(
      systemctl(calls).some((c) => c.includes('dataplaneapi.service') || c.includes('ovactl-ready')),
      'no API unit, no probe',
    );
    t.notOk(
      calls.some((c) => c.cmd === 'vmware-rpctool' && c.args[0]!.includes('cacert')),
      'no CA published for it',
    );
    const issue = readFileSync(join(root, 'etc/issue.d/ovactl.issue'), 'utf8');
    t.match(issue, /CONFIGURATION ERROR - haproxy serves, but the appliance is not ready/);
    t.notMatch(issue, /Correct the vApp properties/, 'not sent to the vApp options for what the image lacks');
    const again = await runFirstboot({
      report: await check({}),
      root,
      system: recordingLive().system,
      version: 'test',
      anyip: false,
    });
    t.equal(again.changed, false);
    t.ok(again.dataPlaneStarted, 'the same values again: still "haproxy serves", not "haproxy is not started"');
    t.notOk(again.serving, 'and not "the last good configuration keeps serving"');
  },
);
