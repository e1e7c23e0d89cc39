// runFirstboot with stand-ins for the system: what a live run would do (guestinfo, chpasswd,
// systemctl) and the haproxy -c guard, without touching this machine.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportWriteFailure, runFirstboot } from '../src/apply/firstboot.js';
import type { System } from '../src/apply/system.js';
import { check, withImage } from './helpers/values.js';
import { changedFiles, snapshot, STATUS_ONLY } from './helpers/tree.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-fbunit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A "live" system that records every command and its stdin instead of running it. */
function fakeLive(fail: (cmd: string, args: readonly string[]) => boolean = () => false) {
  const calls: { cmd: string; args: readonly string[]; input?: string }[] = [];
  const system: System = {
    live: true,
    ran: [],
    async run(cmd, args, opts = {}) {
      calls.push({ cmd, args, ...(opts.input !== undefined ? { input: opts.input } : {}) });
      system.ran.push(`${cmd} ${args.join(' ')}`);
      return fail(cmd, args)
        ? { exitCode: 1, stdout: '', stderr: `${cmd} failed` }
        : { exitCode: 0, stdout: '', stderr: '' };
    },
  };
  return { system, calls };
}

t.test('a live run: chpasswd on stdin, units, guestinfo status and CA', async (t) => {
  // anyip: false keeps this machine's kernel out of it (a live run also puts the VIP routes in place).
  const report = await check({ 'appliance.root_pwd': 'Root-Pw-Unit-1', 'loadbalance.haproxy_pwd': 'Api-Pw-Unit-1' });
  const { system, calls } = fakeLive();
  const root = withImage(join(dir, 'live'));
  const r = await runFirstboot({ report, root, system, version: 'test', haproxyBin: undefined, anyip: false });
  t.equal(r.state, 'starting');
  const chpasswd = calls.find((c) => c.cmd === 'chpasswd');
  t.equal(chpasswd?.input, 'root:Root-Pw-Unit-1\n', 'root password on stdin');
  t.notMatch(JSON.stringify(calls.map((c) => [c.cmd, c.args])), /Pw-Unit/, 'never in argv');
  t.notMatch(r.lines.join('\n'), /Pw-Unit/, 'never in the summary');
  t.ok(calls.some((c) => c.cmd === 'systemctl' && c.args[0] === 'enable' && c.args.includes('haproxy.service')));
  const status = calls.find(
    (c) => c.cmd === 'vmware-rpctool' && c.args[0]!.startsWith('info-set guestinfo.ovactl.status '),
  );
  t.ok(status, 'status published to guestinfo');
  const json = JSON.parse(status!.args[0]!.slice('info-set guestinfo.ovactl.status '.length));
  t.equal(json.state, 'starting');
  t.equal(json.dataplaneapi, 'https://192.0.2.10:5556');
  const ca = calls.find(
    (c) => c.cmd === 'vmware-rpctool' && c.args[0]!.startsWith('info-set guestinfo.dataplaneapi.cacert '),
  );
  t.equal(
    Buffer.from(ca!.args[0]!.split(' ')[2]!, 'base64').toString(),
    readFileSync(join(root, 'etc/haproxy/ca.crt'), 'utf8'),
    'the CA, base64',
  );

  const again = fakeLive();
  const r2 = await runFirstboot({
    report,
    root,
    system: again.system,
    version: 'test',
    haproxyBin: undefined,
    anyip: false,
  });
  t.equal(r2.changed, false);
  t.same(
    again.calls.map((c) => [c.cmd, ...c.args.slice(0, 1)].join(' ').replace(/ (guestinfo\.\S+) .*/, ' $1')),
    [
      'vmware-rpctool info-set guestinfo.ovactl.status',
      'vmware-rpctool info-set guestinfo.dataplaneapi.cacert',
      'systemctl restart',
    ],
    "same values: only guestinfo again (it does not survive a power cycle), and this boot's probe",
  );
  t.match(again.calls.at(-1)?.args.join(' '), /^restart --no-block ovactl-ready\.service$/);
});

t.test('a failed command is not recorded as done: the next boot tries again', async (t) => {
  const report = await check({});
  const root = withImage(join(dir, 'fail'));
  const first = fakeLive((cmd, args) => cmd === 'systemctl' && args[0] === 'start');
  const r = await runFirstboot({ report, root, system: first.system, version: 'test', anyip: false });
  t.equal(r.state, 'error');
  t.match(r.lines.join('\n'), /failed: systemctl start/);
  const second = fakeLive();
  const r2 = await runFirstboot({ report, root, system: second.system, version: 'test', anyip: false });
  t.equal(r2.changed, true, 'ran again');
  t.equal(r2.state, 'starting');
});

/** A stand-in for haproxy whose `-c` always fails (test code: the real haproxy accepts our files). */
function failingHaproxy(): string {
  const path = join(dir, 'haproxy-fails');
  writeFileSync(path, '#!/bin/sh\necho "[ALERT]    (1) : config : parsing [$3:20] : unknown keyword" >&2\nexit 1\n');
  chmodSync(path, 0o755);
  return path;
}

t.test('first boot ever, haproxy -c fails: no haproxy.cfg, the data plane stays down (fail closed)', async (t) => {
  const root = withImage(join(dir, 'check-first'));
  const { system, calls } = fakeLive();
  const r = await runFirstboot({
    report: await check({}),
    root,
    system,
    version: 'test',
    haproxyBin: failingHaproxy(),
    anyip: false,
  });
  t.equal(r.state, 'error');
  t.notOk(r.serving, 'nothing served before');
  t.notOk(existsSync(join(root, 'etc/haproxy/haproxy.cfg')), 'no haproxy.cfg installed');
  const status = JSON.parse(readFileSync(join(root, 'var/lib/ovactl/status.json'), 'utf8'));
  t.equal(status.errors[0].rule, 'haproxy.config-check');
  t.match(status.errors[0].message, /unknown keyword/);
  t.equal(status.serving, undefined);
  t.ok(
    calls.some((c) => c.cmd === 'systemctl' && c.args[0] === 'stop' && c.args.includes('haproxy.service')),
    'haproxy stopped',
  );
  t.notOk(calls.some((c) => c.cmd === 'systemctl' && c.args[0] === 'enable' && c.args.includes('haproxy.service')));
});

t.test('serving, and the merged haproxy.cfg fails haproxy -c: the current file and everything else stay', async (t) => {
  const root = withImage(join(dir, 'check-serving'));
  t.equal(
    (await runFirstboot({ report: await check({}), root, system: fakeLive().system, version: 'test', anyip: false }))
      .state,
    'starting',
  );
  // The control plane's sections, and an edited global: merging must change the file, so it is checked.
  const cfgPath = join(root, 'etc/haproxy/haproxy.cfg');
  writeFileSync(
    cfgPath,
    readFileSync(cfgPath, 'utf8').replace(/maxconn \d+/, 'maxconn 100') + '\nbackend cp\n  server s 127.0.0.1:80\n',
  );
  const before = snapshot(root);
  const { system, calls } = fakeLive();
  const r = await runFirstboot({
    report: await check({ 'network.nameservers': '192.0.2.99' }),
    root,
    system,
    version: 'test',
    haproxyBin: failingHaproxy(),
    anyip: false,
  });
  t.equal(r.state, 'error');
  t.ok(r.serving, 'the last good configuration keeps serving');
  t.same(changedFiles(before, snapshot(root)), STATUS_ONLY, 'only the status changed: no network file, no haproxy.cfg');
  t.same(
    calls.filter((c) => c.cmd !== 'vmware-rpctool'),
    [],
    'no unit stopped, restarted or reloaded; no chpasswd',
  );
  const status = JSON.parse(readFileSync(join(root, 'var/lib/ovactl/status.json'), 'utf8'));
  t.equal(status.errors[0].rule, 'haproxy.config-check');
  t.match(status.errors[0].message, /merged haproxy\.cfg fails/);
  t.match(status.serving, { ranges: ['198.51.100.64/26'] });
});

t.test(
  'route health injection: on → bird and ovactl-rhi enabled; off → disabled and stopped; no BIRD → an error',
  async (t) => {
    const on = await check({ 'rhi.enabled': 'True', 'rhi.local_as': '65010', 'rhi.peers': '198.51.100.1:65001' });
    const withBird = withImage(join(dir, 'rhi-on'));
    mkdirSync(join(withBird, 'usr/sbin'), { recursive: true });
    writeFileSync(join(withBird, 'usr/sbin/bird'), '#!/bin/sh\n'); // BIRD is installed
    const a = fakeLive();
    const r = await runFirstboot({ report: on, root: withBird, system: a.system, version: 'test', anyip: false });
    t.equal(r.state, 'starting', r.lines.join('\n'));
    const enable = a.calls.find((c) => c.cmd === 'systemctl' && c.args[0] === 'enable')!;
    t.ok(
      enable.args.includes('bird.service') && enable.args.includes('ovactl-rhi.service'),
      `enabled: ${enable.args.join(' ')}`,
    );
    t.match(readFileSync(join(withBird, 'etc/bird/bird.conf'), 'utf8'), /neighbor 198\.51\.100\.1 as 65001;/);
    t.match(readFileSync(join(withBird, 'etc/ovactl/rhi.rules'), 'utf8'), /\nauto\n$/);
    // (route-tables.service is disabled: these values have no DHCP NIC.)
    const disabled = a.calls.filter((c) => c.cmd === 'systemctl' && c.args[0] === 'disable').flatMap((c) => c.args);
    t.notOk(
      disabled.some((u) => /rhi|bird/.test(u)),
      'nothing of route health injection disabled',
    );

    const off = fakeLive();
    const r2 = await runFirstboot({
      report: await check({}),
      root: withBird,
      system: off.system,
      version: 'test',
      anyip: false,
    });
    t.equal(r2.state, 'starting');
    t.same(
      off.calls
        .filter((c) => c.cmd === 'systemctl' && (c.args[0] === 'disable' || c.args[0] === 'stop'))
        .map((c) => c.args.join(' ')),
      [
        'disable --no-reload route-tables.service ovactl-ha.service ovactl-rhi.service bird.service',
        'stop --no-block route-tables.service ovactl-ha.service ovactl-rhi.service bird.service',
      ],
      'switched off: nothing announces this appliance any more (and no DHCP NIC: no route-tables; ' +
        'no pair: no ovactl-ha, and keepalived is not installed in this root)',
    );
    t.notOk(
      off.calls.some((c) => c.cmd === 'systemctl' && c.args[0] === 'try-restart' && c.args.includes('bird.service')),
      'bird is not restarted',
    );

    const noBird = fakeLive();
    const r3 = await runFirstboot({
      report: on,
      root: withImage(join(dir, 'rhi-nobird')),
      system: noBird.system,
      version: 'test',
      anyip: false,
    });
    t.equal(r3.state, 'error');
    const status = JSON.parse(readFileSync(join(dir, 'rhi-nobird/var/lib/ovactl/status.json'), 'utf8'));
    t.match(status.errors, [{ rule: 'rhi.bird-missing', keys: ['rhi.enabled'] }]);
    t.notOk(
      noBird.calls.some(
        (c) => c.cmd === 'systemctl' && c.args[0] === 'enable' && c.args.some((u) => /bird|rhi/.test(u)),
      ),
      'bird and ovactl-rhi are not enabled',
    );
    t.ok(
      noBird.calls.some((c) => c.cmd === 'systemctl' && c.args[0] === 'enable' && c.args.includes('haproxy.service')),
      'the rest of the appliance still comes up',
    );
  },
);

t.test('a boot whose disk fails: the line reaches guestinfo even when status.json cannot be written', async (t) => {
  const report = await check({});
  const line = '/: no space left on the file system of /var/lib/ovactl (ENOSPC); fix: free space there';
  const writable = join(dir, 'write-failed');
  const a = fakeLive();
  await reportWriteFailure({ report, root: writable, system: a.system, version: 'test', line });
  const status = JSON.parse(readFileSync(join(writable, 'var/lib/ovactl/status.json'), 'utf8'));
  t.equal(status.state, 'error');
  t.same(
    status.errors.map((e: { rule: string }) => e.rule),
    ['firstboot.write-failed'],
  );
  t.match(status.errors[0].message, /ENOSPC/);
  t.match(readFileSync(join(writable, 'etc/issue.d/ovactl.issue'), 'utf8'), /CONFIGURATION ERROR[\s\S]*ENOSPC/);
  // The status folder is a file here: nothing can be written, guestinfo still tells.
  const broken = join(dir, 'write-failed-2');
  mkdirSync(join(broken, 'var/lib'), { recursive: true });
  writeFileSync(join(broken, 'var/lib/ovactl'), 'not a folder');
  const b = fakeLive();
  const lines = await reportWriteFailure({ report, root: broken, system: b.system, version: 'test', line });
  t.match(lines.join('\n'), /status not written/);
  const published = b.calls.find(
    (c) => c.cmd === 'vmware-rpctool' && c.args[0]!.startsWith('info-set guestinfo.ovactl.status '),
  );
  t.match(published?.args[0], /"state":"error".*firstboot\.write-failed.*ENOSPC/);
  t.notOk(
    b.calls.some((c) => c.args[0]?.includes('cacert')),
    'no CA claimed',
  );
});
