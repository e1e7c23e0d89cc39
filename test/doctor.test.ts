// ovactl doctor: the offline checks against rendered trees (healthy, and each failure made on
// purpose), the JSON shape, exit codes, the support bundle without secrets, and the live checks with
// the commands they run replaced by canned answers.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withValues, withImage } from './helpers/values.js';
import { runCli } from './helpers/cli.js';
import { runChecks } from '../src/doctor/checks.js';
import type { Context } from '../src/doctor/check.js';
import { outside, parseVipRanges } from '../src/doctor/facts.js';
import { parseBinds } from '../src/haproxy/binds.js';
import { scrub } from '../src/doctor/collect.js';
import { parseCidr, type Cidr } from '../src/net/ip.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-doctor-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const ovactl = (...args: string[]) => runCli(args, { timeoutMs: 60_000 });
const ROOT_PW = 'Root-Secret-4711';
const API_PW = 'Api-Secret-4711';
const healthy = withImage(join(dir, 'healthy'));
writeFileSync(
  join(dir, 'env.json'),
  JSON.stringify(withValues({ 'appliance.root_pwd': ROOT_PW, 'loadbalance.haproxy_pwd': API_PW })),
);
const fb = ovactl('firstboot', '--env', join(dir, 'env.json'), '--root', healthy);
if (fb.code !== 0) throw new Error(fb.out + fb.err);

/** A copy of the healthy tree, changed by `edit`. */
let n = 0;
function tree(edit: (root: string) => void): string {
  const root = join(dir, `t${n++}`);
  cpSync(healthy, root, { recursive: true });
  edit(root);
  return root;
}
const doctorJson = (...args: string[]) => {
  const r = ovactl('doctor', '--json', ...args);
  return {
    code: r.code,
    json: JSON.parse(r.out) as {
      ok: boolean;
      checks: { id: string; verdict: string; detail: string; fix?: string; title: string }[];
    },
    err: r.err,
  };
};
const check = (j: ReturnType<typeof doctorJson>['json'], id: string) => j.checks.find((c) => c.id === id)!;
const RANGES = 'etc/vmware/anyip-routes.cfg';

t.test('healthy tree: all good, live checks skipped with the reason', async (t) => {
  const r = ovactl('doctor', '--root', healthy);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /✓ VIP ranges file[^\n]*\n\s+198\.51\.100\.64\/26/);
  t.match(r.out, /all good/);
  t.notMatch(r.out, /\x1b\[/, 'no colour into a pipe');
  const j = doctorJson('--root', healthy);
  t.equal(j.code, 0);
  t.equal(j.json.ok, true);
  for (const c of j.json.checks) {
    t.same(
      Object.keys(c)
        .filter((k) => k !== 'fix')
        .sort(),
      ['detail', 'id', 'title', 'verdict'],
      `${c.id} shape`,
    );
    t.ok(['ok', 'warn', 'skip'].includes(c.verdict), `${c.id}: ${c.verdict} ${c.detail}`);
  }
  for (const id of ['kernel-routes', 'anyip-service', 'haproxy', 'vips-serving', 'dataplane-listening', 'rhi']) {
    t.equal(check(j.json, id).verdict, 'skip');
    t.match(check(j.json, id).detail, /offline \(--root\)/);
  }
  for (const id of [
    'ranges-file',
    'configs',
    'ranges-vs-addresses',
    'status',
    'frontends-in-ranges',
    'dataplane-cert',
    'ranges-policy-routing',
  ])
    t.equal(check(j.json, id).verdict, 'ok', id);
});

t.test('host bits in the ranges file: the line and the aligned network', async (t) => {
  const root = tree((r) => appendFileSync(join(r, RANGES), '203.0.113.70/26\n'));
  const j = doctorJson('--root', root);
  t.equal(j.code, 1);
  t.equal(j.json.ok, false);
  const c = check(j.json, 'ranges-file');
  t.equal(c.verdict, 'fail');
  t.match(c.detail, /^line 10: "203\.0\.113\.70\/26" has host bits set/);
  t.match(c.fix, /line 10: use 203\.0\.113\.64\/26/);
  const text = ovactl('doctor', '--root', root);
  t.match(text.out, /✗ VIP ranges file[\s\S]*fix: line 10: use 203\.0\.113\.64\/26/);
  t.match(text.out, /1 problem\(s\) found/);
});

t.test('missing ranges file and configs', async (t) => {
  const root = tree((r) => {
    rmSync(join(r, RANGES));
    rmSync(join(r, 'etc/haproxy/dataplaneapi.yaml'));
  });
  const j = doctorJson('--root', root);
  t.equal(j.code, 1);
  t.match(check(j.json, 'ranges-file').detail, /does not exist/);
  t.match(check(j.json, 'configs').detail, /missing: \/etc\/haproxy\/dataplaneapi\.yaml/);
});

t.test('a range covering the gateway and the appliance address', async (t) => {
  const root = tree((r) => writeFileSync(join(r, RANGES), '198.51.100.0/24\n192.0.2.32/28\n'));
  const c = check(doctorJson('--root', root).json, 'ranges-vs-addresses');
  t.equal(c.verdict, 'fail');
  t.match(c.detail, /198\.51\.100\.0\/24 contains 198\.51\.100\.10 \(20-ovactl-workload\.network address\)/);
  t.match(c.detail, /198\.51\.100\.0\/24 contains 198\.51\.100\.1 \(20-ovactl-workload\.network gateway\)/);
  t.notMatch(c.detail, /192\.0\.2\.32/);
  t.ok(c.fix);
  const p = check(doctorJson('--root', root).json, 'ranges-policy-routing');
  t.equal(p.verdict, 'warn', 'ranges edited after first boot are not policy-routed');
  t.match(p.detail, /198\.51\.100\.0\/24, 192\.0\.2\.32\/28 in the ranges file but without a policy rule/);
  const ns = check(
    doctorJson(
      '--root',
      tree((r) => writeFileSync(join(r, RANGES), '192.0.2.48/28\n192.0.2.52/32\n')),
    ).json,
    'ranges-vs-addresses',
  );
  t.match(ns.detail, /192\.0\.2\.48\/28 contains 192\.0\.2\.53 \(nameserver\)/);
});

t.test('first boot failed: the status findings and their hints', async (t) => {
  const root = tree((r) =>
    writeFileSync(
      join(r, 'var/lib/ovactl/status.json'),
      JSON.stringify({
        state: 'error',
        version: '0.1.0',
        deployment: 'default',
        errors: [
          {
            rule: 'vip.host-bits',
            keys: ['loadbalance.service_ip_range'],
            message: '"198.51.100.70/26" has host bits set',
            hint: 'use 198.51.100.64/26',
          },
        ],
        warnings: [],
      }),
    ),
  );
  const j = doctorJson('--root', root);
  t.equal(j.code, 1);
  const c = check(j.json, 'status');
  t.equal(c.verdict, 'fail');
  t.match(c.detail, /state error\nvip\.host-bits: "198\.51\.100\.70\/26" has host bits set/);
  t.match(c.fix, /use 198\.51\.100\.64\/26/);
  const gone = check(
    doctorJson(
      '--root',
      tree((r) => rmSync(join(r, 'var/lib/ovactl/status.json'))),
    ).json,
    'status',
  );
  t.match(gone.detail, /first boot has not run/);
  const w = check(
    doctorJson(
      '--root',
      tree((r) =>
        writeFileSync(
          join(r, 'var/lib/ovactl/status.json'),
          JSON.stringify({
            state: 'ready',
            deployment: 'default',
            errors: [],
            warnings: [{ rule: 'x.y', keys: [], message: 'careful', hint: 'do this' }],
          }),
        ),
      ),
    ).json,
    'status',
  );
  t.equal(w.verdict, 'warn');
});

t.test('new values refused on a serving appliance: doctor says which values still serve', async (t) => {
  const status = {
    state: 'error',
    version: '0.1.0',
    deployment: 'default',
    errors: [
      {
        rule: 'vip.host-bits',
        keys: ['loadbalance.service_ip_range'],
        message: '"198.51.100.70/26" has host bits set',
        hint: 'use 198.51.100.64/26',
      },
    ],
    warnings: [],
    serving: { appliedAt: '2026-11-30T08:00:00.000Z', ranges: ['198.51.100.64/26'] },
  };
  const j = doctorJson(
    '--root',
    tree((r) => writeFileSync(join(r, 'var/lib/ovactl/status.json'), JSON.stringify(status))),
  );
  t.equal(j.code, 1);
  const c = check(j.json, 'status');
  t.equal(c.verdict, 'fail');
  t.match(
    c.detail,
    /the new values were not applied; the last good configuration keeps serving \(applied 2026-11-30T08:00:00\.000Z, VIP ranges 198\.51\.100\.64\/26\)/,
  );
  t.match(c.detail, /vip\.host-bits: "198\.51\.100\.70\/26" has host bits set/);
  t.match(c.fix, /use 198\.51\.100\.64\/26/);
  const odd = check(
    doctorJson(
      '--root',
      tree((r) =>
        writeFileSync(join(r, 'var/lib/ovactl/status.json'), JSON.stringify({ ...status, serving: { ranges: 'x' } })),
      ),
    ).json,
    'status',
  );
  t.match(odd.detail, /VIP ranges none/, 'a malformed "serving" is reported, not a crash');
});

t.test('--vip-range: subset ok, the addresses outside named', async (t) => {
  const good = doctorJson('--root', healthy, '--vip-range', '198.51.100.64-198.51.100.127');
  t.equal(good.code, 0);
  t.equal(check(good.json, 'vip-range').verdict, 'ok');
  const bad = doctorJson('--root', healthy, '--vip-range', '198.51.100.60-198.51.100.100, 198.51.100.200');
  t.equal(bad.code, 1);
  t.equal(
    check(bad.json, 'vip-range').detail,
    '198.51.100.60–198.51.100.63, 198.51.100.200 are outside every range (198.51.100.64/26)',
  );
  const usage = ovactl('doctor', '--root', healthy, '--vip-range', '198.51.100.90-198.51.100.80');
  t.equal(usage.code, 2);
  t.match(usage.err, /ends before it starts/);
  const cidr = (s: string) => parseCidr(s) as Cidr;
  const ivs = parseVipRanges('192.0.2.80-192.0.2.100') as Exclude<ReturnType<typeof parseVipRanges>, string>;
  t.same(
    outside(ivs[0]!, [cidr('192.0.2.64/28'), cidr('192.0.2.96/30')]).map((g) => [
      Number(g.first & 255n),
      Number(g.last & 255n),
    ]),
    [
      [80, 95],
      [100, 100],
    ],
  );
});

t.test('a frontend bound outside every range', async (t) => {
  const root = tree((r) =>
    appendFileSync(
      join(r, 'etc/haproxy/haproxy.cfg'),
      '\nfrontend web\n    bind 198.51.100.70:80\n    bind 203.0.113.9:443 ssl crt x\n    default_backend app\n\nbackend app\n    server s1 10.0.0.5:80\n',
    ),
  );
  const c = check(doctorJson('--root', root).json, 'frontends-in-ranges');
  t.equal(c.verdict, 'fail');
  t.match(c.detail, /^frontend web binds 203\.0\.113\.9:443 \(haproxy\.cfg line \d+\), outside every VIP range$/);
  t.same(parseBinds('listen a\n bind :80\n bind [2001:db8::1]:443,192.0.2.5:8080\n'), [
    { frontend: 'a', host: '', port: '80', line: 2 },
    { frontend: 'a', host: '2001:db8::1', port: '443', line: 3 },
    { frontend: 'a', host: '192.0.2.5', port: '8080', line: 3 },
  ]);
});

t.test('a server certificate not signed by ca.crt', async (t) => {
  const other = withImage(join(dir, 'other'));
  writeFileSync(join(dir, 'env2.json'), JSON.stringify(withValues({ 'network.management_ip': '192.0.2.11/24' })));
  t.equal(ovactl('firstboot', '--env', join(dir, 'env2.json'), '--root', other).code, 0);
  const root = tree((r) => cpSync(join(other, 'etc/haproxy/server.crt'), join(r, 'etc/haproxy/server.crt')));
  const c = check(doctorJson('--root', root).json, 'dataplane-cert');
  t.equal(c.verdict, 'fail');
  t.match(c.detail, /not valid for 192\.0\.2\.10/);
  t.match(c.detail, /not signed by \/etc\/haproxy\/ca\.crt/);
});

t.test('exit 2: no such root, unknown option', async (t) => {
  const r = ovactl('doctor', '--root', join(dir, 'nope'));
  t.equal(r.code, 2);
  t.match(r.err, /--root .*nope: .*nope does not exist \(ENOENT\)/);
  t.equal(ovactl('doctor', '--jsn').code, 2);
  t.match(ovactl('doctor', '--help').out, /Usage: ovactl doctor/);
});

t.test('--collect into a folder that does not exist: the reason and an example, exit 2', async (t) => {
  const r = ovactl('doctor', '--root', healthy, '--collect', join(dir, 'no-such-folder', 'x.tgz'));
  t.equal(r.code, 2);
  t.match(
    r.err,
    /--collect .*x\.tgz: .*no-such-folder does not exist \(ENOENT\); fix: .*, e\.g\. \/tmp\/support\.tar\.gz/,
  );
  t.notMatch(r.err, /tar \(child\)|tar failed|Cannot open|\n\s+at /, 'no tar chatter, no stack trace');
});

t.test('--collect: a bundle without secrets, readable by doctor --root', async (t) => {
  const root = tree((r) => {
    mkdirSync(join(r, 'etc/bird'), { recursive: true });
    writeFileSync(
      join(r, 'etc/bird/bird.conf'),
      'protocol bgp peer1 {\n  neighbor 192.0.2.1 as 65001;\n  password "Bgp-Secret-4711";\n}\n',
    );
    appendFileSync(
      join(r, 'etc/haproxy/dataplaneapi.yaml'),
      'users:\n  - name: admin\n    password: Yaml-Secret-4711\n    insecure: true\n',
    );
  });
  const hash = /password (\S+)/.exec(readFileSync(join(root, 'etc/haproxy/dataplaneapi-users.cfg'), 'utf8'))![1]!;
  const bundle = join(dir, 'bundle.tar.gz');
  const r = ovactl('doctor', '--root', root, '--collect', bundle);
  t.equal(r.code, 0, r.out + r.err);
  t.match(r.err, /wrote support bundle/);
  const out = join(dir, 'unpacked');
  mkdirSync(out);
  t.equal(spawnSync('tar', ['-xzf', bundle, '-C', out]).status, 0);
  const files = readdirSync(join(out, 'bundle'), { recursive: true }) as string[];
  t.ok(files.includes(join('etc', 'haproxy', 'haproxy.cfg')));
  t.ok(files.includes('doctor.json'));
  t.notOk(
    files.some((f) => f.endsWith('.key')),
    'no private key files',
  );
  const grep = (s: string) => spawnSync('grep', ['-rlF', s, join(out, 'bundle')], { encoding: 'utf8' }).stdout.trim();
  for (const secret of [hash, API_PW, ROOT_PW, 'Bgp-Secret-4711', 'Yaml-Secret-4711', 'PRIVATE KEY', '$6$'])
    t.equal(grep(secret), '', `no ${secret.slice(0, 12)}… in the bundle`);
  t.notOk(
    files.includes(join('etc', 'haproxy', 'dataplaneapi-users.cfg')),
    "the Data Plane API's users file is not collected",
  );
  // The gzip stream itself: grep the compressed file too (nothing stored in the clear by accident).
  t.notOk(readFileSync(bundle).includes(Buffer.from(API_PW)));
  const again = doctorJson('--root', join(out, 'bundle'));
  t.equal(check(again.json, 'ranges-file').verdict, 'ok', 'an unpacked bundle is a root doctor reads');
  t.equal(check(again.json, 'status').verdict, 'ok');
});

t.test('scrub', async (t) => {
  t.equal(scrub('user a password $6$abc$def\n'), 'user a password [removed]\n');
  t.equal(scrub('  insecure-password hunter2'), '  insecure-password [removed]');
  t.equal(scrub('{"haproxy_pwd":"x y","a":1}'), '{"haproxy_pwd":"[removed]","a":1}');
  t.equal(scrub('token=abc other'), 'token= [removed]', 'the whole value goes, to the end of the line');
  t.equal(scrub('-----BEGIN EC PRIVATE KEY-----\nAAA\n-----END EC PRIVATE KEY-----'), '[private key removed]');
  t.equal(scrub('x $y$j9T$abc y'), 'x [hash removed] y');
});

t.test('live checks with canned command output', async (t) => {
  type R = { code: number; stdout: string; stderr: string };
  const answers =
    (over: Record<string, R>) =>
    (cmd: string, args: readonly string[]): R => {
      const key = `${cmd} ${args.join(' ')}`;
      return over[key] ?? { code: 0, stdout: '', stderr: '' };
    };
  const cfgRoot = tree((r) =>
    appendFileSync(
      join(r, 'etc/haproxy/haproxy.cfg'),
      '\nfrontend web\n    bind 198.51.100.70:80\n    bind 198.51.100.71:80\n',
    ),
  );
  const base: Record<string, R> = {
    'systemctl is-enabled anyip-routes.service': { code: 1, stdout: 'disabled\n', stderr: '' },
    'systemctl is-active anyip-routes.service': { code: 3, stdout: 'failed\n', stderr: '' },
    'journalctl -u anyip-routes.service -n 10 --no-pager': {
      code: 0,
      stdout: 'Nov 21 anyip[12]: line 3: bad\n',
      stderr: '',
    },
    'systemctl is-enabled haproxy.service': { code: 0, stdout: 'enabled\n', stderr: '' },
    'systemctl is-active haproxy.service': { code: 0, stdout: 'active\n', stderr: '' },
    'ss -ltnH': {
      code: 0,
      stdout: 'LISTEN 0 4096 198.51.100.70:80 0.0.0.0:*\nLISTEN 0 4096 192.0.2.10:5556 0.0.0.0:*\n',
      stderr: '',
    },
    'ip -json addr show': {
      code: 0,
      stdout: JSON.stringify([
        { ifname: 'workload', addr_info: [{ local: '198.51.100.10' }, { local: '198.51.100.66', dynamic: true }] },
      ]),
      stderr: '',
    },
  };
  const ctx: Context = { root: cfgRoot, live: true, exec: answers(base) };
  const results = await runChecks(ctx);
  const get = (id: string) => results.find((r) => r.id === id)!;
  t.equal(get('anyip-service').verdict, 'fail');
  t.match(
    get('anyip-service').detail,
    /anyip-routes\.service is disabled, failed\nlast journal lines:\nNov 21 anyip\[12\]: line 3: bad/,
  );
  t.equal(get('haproxy').verdict, 'ok');
  t.equal(get('vips-serving').verdict, 'fail');
  t.match(get('vips-serving').detail, /configured but not listening: 198\.51\.100\.71:80 \(frontend web\)/);
  t.equal(get('dataplane-listening').verdict, 'ok');
  t.equal(get('ranges-vs-addresses').verdict, 'fail');
  t.match(
    get('ranges-vs-addresses').detail,
    /198\.51\.100\.64\/26 contains 198\.51\.100\.66 \(workload DHCP address\)/,
  );
  t.equal(get('rhi').detail, 'not enabled');
  const noApi = await runChecks({
    ...ctx,
    exec: answers({
      ...base,
      'ss -ltnH': { code: 0, stdout: '', stderr: '' },
      'haproxy -c -f /etc/haproxy/haproxy.cfg': { code: 1, stdout: '', stderr: '[ALERT] parsing line 40\n' },
    }),
  });
  t.match(noApi.find((r) => r.id === 'dataplane-listening')!.detail, /nothing listens on 192\.0\.2\.10:5556/);
  t.match(noApi.find((r) => r.id === 'haproxy')!.detail, /haproxy -c: \[ALERT\] parsing line 40/);
  t.equal(noApi.find((r) => r.id === 'vips-serving')!.verdict, 'fail');
});

t.test(
  "duplicate addresses: the NICs' own addresses and bound VIPs, probed with arping -D, a handful at most",
  async (t) => {
    type R = { code: number; stdout: string; stderr: string };
    const calls: string[] = [];
    const cfgRoot = tree((r) =>
      appendFileSync(
        join(r, 'etc/haproxy/haproxy.cfg'),
        '\nfrontend web\n    bind 198.51.100.70:80\n    bind 203.0.113.9:80\n',
      ),
    );
    const addrs = JSON.stringify([
      { ifname: 'lo', addr_info: [{ local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'management', addr_info: [{ local: '192.0.2.10', prefixlen: 24 }] },
      { ifname: 'workload', addr_info: [{ local: '198.51.100.10', prefixlen: 24 }] },
    ]);
    const exec =
      (dupOf: string) =>
      (cmd: string, args: readonly string[]): R => {
        const key = `${cmd} ${args.join(' ')}`;
        calls.push(key);
        if (key === 'ip -j -4 addr show') return { code: 0, stdout: addrs, stderr: '' };
        if (cmd === 'arping' && args.at(-1) === dupOf) {
          return {
            code: 1,
            stdout: `Unicast reply from ${dupOf} [02:42:AC:11:00:02]  0.61ms\nReceived 1 response(s)\n`,
            stderr: '',
          };
        }
        return { code: 0, stdout: '', stderr: '' };
      };
    const check = async (dupOf: string) =>
      (await runChecks({ root: cfgRoot, live: true, exec: exec(dupOf) })).find((r) => r.id === 'duplicate-addresses')!;
    const clean = await check('none');
    t.equal(clean.verdict, 'ok');
    t.match(
      clean.detail,
      /3 address\(es\) probed, nobody else answers: 192\.0\.2\.10, 198\.51\.100\.10, 198\.51\.100\.70/,
    );
    t.ok(
      calls.includes('arping -D -c 1 -w 1 -I workload 198.51.100.70'),
      'the VIP is probed on the NIC whose network holds it',
    );
    t.notOk(
      calls.some((c) => c.includes('203.0.113.9') || c.includes('127.0.0.1')),
      'not a VIP outside the ranges, not loopback',
    );
    const dup = await check('198.51.100.70');
    t.equal(dup.verdict, 'fail');
    t.match(dup.detail, /198\.51\.100\.70 \(VIP of frontend web\) is answered on workload by 02:42:AC:11:00:02/);
    t.match(dup.fix, /MAC/);
    const own = await check('192.0.2.10');
    t.match(own.detail, /192\.0\.2\.10 \(the management address\) is answered on management/);
    const none = (
      await runChecks({
        root: cfgRoot,
        live: true,
        exec: (c, a) => (c === 'arping' ? { code: 127, stdout: '', stderr: '' } : exec('x')(c, a)),
      })
    ).find((r) => r.id === 'duplicate-addresses')!;
    t.equal(none.verdict, 'skip');
    t.match(none.detail, /iputils-arping/);
  },
);
