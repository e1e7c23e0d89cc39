// The bundled CLI as users and scripts run it: exit codes, the --json contract, stdin, help, bad
// input in bounded time, no colour off a TTY, and no secret in any output.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, ROOT, withValues } from './helpers/values.js';
import { runCli } from './helpers/cli.js';
import { skipUnless } from './helpers/root.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const noStack = (tt: { notMatch(s: string, re: RegExp, m: string): unknown }, s: string) =>
  tt.notMatch(s, /\n\s+at .*:\d+:\d+/, 'no stack trace');

t.test('help on every command, exit 0; no command is a usage error', async (t) => {
  const main = runCli(['--help']);
  t.equal(main.code, 0);
  t.match(main.out, /Usage: ovactl <command>/);
  const commands = [...main.out.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
  t.ok(commands.includes('validate') && commands.includes('docs'), `commands listed: ${commands}`);
  for (const c of commands) {
    const r = runCli([c, '--help']);
    t.equal(r.code, 0, `${c} --help exits 0`);
    t.match(r.out, new RegExp(`^Usage: ovactl ${c}`), `${c} --help shows its usage`);
  }
  t.equal(runCli([]).code, 2);
  const unknown = runCli(['frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /unknown command "frobnicate"/);
});

t.test('validate: exit codes and the --json contract', async (t) => {
  const good = runCli(['validate', '--json', join(ROOT, 'examples/appliance.json')]);
  t.equal(good.code, 0, good.err);
  const j = JSON.parse(good.out);
  t.same(Object.keys(j).sort(), ['deployment', 'errors', 'valid', 'warnings']);
  t.same(j, { valid: true, deployment: 'default', errors: [], warnings: [] });

  const bad = runCli([
    'validate',
    '--json',
    file(
      'bad.json',
      JSON.stringify(withValues({ 'loadbalance.service_ip_range': '10.10.18.18/28', 'network.management_ip': '' })),
    ),
  ]);
  t.equal(bad.code, 1);
  const b = JSON.parse(bad.out);
  t.equal(b.valid, false);
  t.equal(b.deployment, 'default');
  for (const f of [...b.errors, ...b.warnings]) {
    t.same(
      Object.keys(f).filter((k) => !['rule', 'keys', 'message', 'hint'].includes(k)),
      [],
      'only rule, keys, message, hint',
    );
    t.type(f.rule, 'string');
    t.ok(
      Array.isArray(f.keys) && f.keys.every((k: string) => /^[a-z]+\.[a-z_]+$/.test(k)),
      'keys are full property keys',
    );
  }
  const hb = b.errors.find((f: { rule: string }) => f.rule === 'vip.host-bits');
  t.same(hb, {
    rule: 'vip.host-bits',
    keys: ['loadbalance.service_ip_range'],
    message:
      'loadbalance.service_ip_range entry "10.10.18.18/28" has host bits set; the kernel refuses it ("Invalid prefix for given prefix length")',
    hint: 'use 10.10.18.16/28 (hosts 10.10.18.17–10.10.18.30)',
  });
  t.ok(
    b.warnings.some((f: { rule: string }) => f.rule === 'gateway.without-address'),
    'warnings reported in the same run',
  );

  const deployment = runCli(['validate', '--json', '--deployment', 'frontend', join(ROOT, 'examples/appliance.json')]);
  t.equal(JSON.parse(deployment.out).deployment, 'frontend');
});

t.test('validate: human output groups findings, fix on its own line, no colour off a TTY', async (t) => {
  const r = runCli([
    'validate',
    file(
      'h.json',
      JSON.stringify(withValues({ 'loadbalance.service_ip_range': '10.10.18.18/28', 'network.management_ip': '' })),
    ),
  ]);
  t.equal(r.code, 1);
  t.match(r.out, /^Errors \(1\):$/m);
  t.match(r.out, /^Warnings \(\d\):$/m);
  t.match(r.out, /^ {4}fix: use 10\.10\.18\.16\/28 \(hosts 10\.10\.18\.17–10\.10\.18\.30\)$/m);
  t.match(r.out, /invalid: 1 error/);
  t.notMatch(r.out, /\x1b\[/, 'no escape codes when stdout is a pipe');
});

t.test('validate: every input form, and stdin', async (t) => {
  for (const f of ['examples/appliance.json', 'examples/ovf-env.xml', 'examples/govc-options.json']) {
    const r = runCli(['validate', join(ROOT, f)]);
    t.equal(r.code, 0, `${f}: ${r.out}${r.err}`);
  }
  const py =
    '{' +
    Object.entries(BASE)
      .map(([k, v]) => `'${k}': '${v}'`)
      .join(', ') +
    '}';
  t.equal(runCli(['validate', '-'], { input: py }).code, 0, 'Supervisor log form on stdin');
  t.equal(runCli(['validate', '-'], { input: JSON.stringify(BASE) }).code, 0, 'JSON on stdin');
});

t.test('validate: unreadable input exits 2 with one clear line, in bounded time', async (t) => {
  const laughs =
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' +
    Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`,
    ).join('') +
    ']><Environment xmlns="http://schemas.dmtf.org/ovf/environment/1">&j;</Environment>';
  const cases: [string, string[], string | Buffer | undefined, RegExp][] = [
    ['missing file', ['validate', join(dir, 'nope.json')], undefined, /nope\.json: cannot read: no such file/],
    ['empty file', ['validate', file('empty.json', '')], undefined, /is empty/],
    ['whitespace', ['validate', '-'], ' \n\t ', /is empty/],
    ['malformed JSON', ['validate', '-'], '{"network.hostname": "a",\n "x": }', /malformed JSON/],
    [
      'malformed XML',
      ['validate', '-'],
      '<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"><PropertySection></Environment>',
      /malformed XML at line 1/,
    ],
    ['not an OVF environment', ['validate', '-'], '<html></html>', /not an OVF environment/],
    ['billion laughs', ['validate', '-'], laughs, /DOCTYPE/],
    [
      'external entity',
      ['validate', '-'],
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Environment>&e;</Environment>',
      /DOCTYPE/,
    ],
    ['binary', ['validate', '-'], Buffer.from([0x7b, 0, 1, 2, 0x7d]), /binary/],
    [
      'too large',
      ['validate', '-'],
      '{"network.hostname": "' + 'a'.repeat(5 * 1024 * 1024) + '"}',
      /larger than 4 MiB/,
    ],
    ['unsupported', ['validate', '-'], 'network.hostname=foo', /unsupported input/],
    ['a JSON array', ['validate', '-'], '[1,2]', /expected a JSON object/],
    ['no INPUT', ['validate'], undefined, /missing INPUT/],
    [
      'bad --deployment',
      ['validate', '--deployment', 'large', 'x'],
      undefined,
      /--deployment must be "default" or "frontend"/,
    ],
    ['unknown option', ['validate', '--jsn', 'x'], undefined, /unknown option "--jsn"; did you mean --json\?/],
  ];
  for (const [name, args, input, re] of cases) {
    const start = Date.now();
    const r = runCli(args, { input });
    t.equal(r.code, 2, `${name}: exit 2`);
    t.match(r.err, re, `${name}: ${r.err.trim()}`);
    t.equal(r.out, '', `${name}: nothing on stdout`);
    t.ok(r.err.trim().split('\n').length <= 2, `${name}: one line (plus usage)`);
    noStack(t, r.err);
    t.notMatch(r.err, /root:x:0/, `${name}: no file contents`);
    t.ok(Date.now() - start < 10_000, `${name}: answers promptly`);
  }
});

t.test('secrets never reach stdout or stderr', async (t) => {
  const root = 'R00t-Secret-Pw';
  const api = 'Api-Secret-Pw';
  const vals = withValues({
    'appliance.root_pwd': root,
    'loadbalance.haproxy_pwd': api,
    'loadbalance.dataplane_port': '22',
  });
  const inputs: [string, string][] = [
    ['valid-ish json', JSON.stringify(vals)],
    ['too short password', JSON.stringify({ ...vals, 'appliance.root_pwd': ` ${root}` })],
    ['malformed JSON after a secret', `{"appliance.root_pwd": "${root}" x}`],
    ['malformed python after a secret', `{'appliance.root_pwd': '${root}' 'x'}`],
    ['password as an unknown key value', JSON.stringify({ ...vals, 'appliance.root_pwdd': root })],
  ];
  for (const [name, input] of inputs) {
    for (const json of [false, true]) {
      const r = runCli(['validate', ...(json ? ['--json'] : []), '-'], { input });
      t.notMatch(r.out + r.err, root, `${name}${json ? ' (json)' : ''}: root password absent`);
      t.notMatch(r.out + r.err, api, `${name}${json ? ' (json)' : ''}: API password absent`);
    }
  }
});

t.test(
  'the bundle runs on Node 18.20 (the appliance) as on this Node',
  { skip: skipUnless(!process.env.OVACTL_NODE18 && 'OVACTL_NODE18 not set (test/run.sh provides it)') },
  async (t) => {
    const node18 = process.env.OVACTL_NODE18!;
    t.match(spawnSync(node18, ['--version'], { encoding: 'utf8' }).stdout, /^v18\.20\./);
    for (const f of ['examples/appliance.json', 'examples/ovf-env.xml', 'examples/govc-options.json']) {
      const a = runCli(['validate', '--json', join(ROOT, f)], { node: node18 });
      const b = runCli(['validate', '--json', join(ROOT, f)]);
      t.equal(a.code, 0, `${f} on Node 18: ${a.err}`);
      t.equal(a.out, b.out, `${f}: same report on both`);
    }
    const bad = file('bad18.json', JSON.stringify(withValues({ 'loadbalance.service_ip_range': '10.10.18.18/28' })));
    t.equal(runCli(['validate', bad], { node: node18 }).code, 1);
  },
);

t.test('render --root into an existing tree merges haproxy.cfg and says what it kept', async (t) => {
  const root = join(dir, 'render-merge');
  t.equal(runCli(['render', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', root]).code, 0);
  const cfgPath = join(root, 'etc/haproxy/haproxy.cfg');
  const sections =
    "\nfrontend web\n  bind 198.51.100.70:443\n  default_backend app\n\n# the control plane's note\nbackend app\n  server s1 198.51.100.20:443\n";
  writeFileSync(
    cfgPath,
    '# _version=5\n' + readFileSync(cfgPath, 'utf8').replace(/maxconn \d+/, 'maxconn 10') + sections,
  );
  const r = runCli(['render', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', root]);
  t.equal(r.code, 0, r.err);
  t.match(
    r.out,
    /\/etc\/haproxy\/haproxy\.cfg: merged into the existing file\n {2}ovactl's sections: global\n {2}the control plane's sections, kept byte for byte: frontend web, backend app/,
  );
  const cfg = readFileSync(cfgPath, 'utf8');
  t.ok(cfg.endsWith(sections), "the control plane's sections, byte for byte");
  t.match(cfg, /^# _version=6\n/);
  t.match(cfg, /^ {4}maxconn 29000$/m);
  const again = runCli(['render', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', root]);
  t.match(again.out, /ovactl's sections: already as rendered \(unchanged\)/);
});

t.test(
  'render: writes the tree, then rewrites nothing for the same values; invalid values write nothing',
  async (t) => {
    const root = join(dir, 'render-root');
    const first = runCli(['render', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', root]);
    t.equal(first.code, 0, first.err);
    t.match(
      first.out,
      /wrote {5}0644 root:root {5}\/etc\/haproxy\/haproxy\.cfg/,
      '0644 root:root, as the Data Plane API leaves it',
    );
    t.match(first.out, /^ +\d+\. systemctl enable --no-reload .*haproxy\.service/m);
    t.match(first.out, /^ +\d+\. systemctl start --no-block .*haproxy\.service/m);
    t.match(first.out, /^ +\d+\. record the values as applied in \/var\/lib\/ovactl\/state\.json/m);
    const cfg = readFileSync(join(root, 'etc/haproxy/dataplaneapi-users.cfg'), 'utf8');
    t.match(
      cfg,
      /^ {4}user wcp password \$6\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{86}$/m,
      'a $6$ hash from openssl passwd -6',
    );
    t.equal(statSync(join(root, 'etc/haproxy/dataplaneapi.yaml')).mode & 0o777, 0o600);
    const second = runCli(['render', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', root]);
    t.equal(second.code, 0);
    t.notMatch(second.out, /wrote/, 'same values: nothing rewritten');
    t.equal(
      readFileSync(join(root, 'etc/haproxy/dataplaneapi-users.cfg'), 'utf8'),
      cfg,
      'the hash is kept while the password matches',
    );

    const bad = join(dir, 'bad-root');
    const r = runCli([
      'render',
      '--env',
      file('bad-render.json', JSON.stringify(withValues({ 'loadbalance.service_ip_range': '10.10.18.18/28' }))),
      '--root',
      bad,
    ]);
    t.equal(r.code, 1);
    t.match(r.out, /vip\.host-bits/);
    t.notOk(existsSync(bad), 'nothing written');
    for (const f of readdirSync(root, { recursive: true }) as string[]) {
      if (statSync(join(root, f)).isFile())
        t.notMatch(readFileSync(join(root, f), 'utf8'), /change-me-(root|api)/, `${f}: no password`);
    }
  },
);

t.test("--version, and its long form with the image's Data Plane API", async (t) => {
  const short = runCli(['--version']);
  t.equal(short.code, 0);
  t.match(short.out, /^\d+\.\d+\.\d+\n$/, 'the short form is the version alone (scripts parse it)');
  const long = runCli(['--version', '--long']);
  t.equal(long.code, 0);
  t.match(
    long.out,
    /^ovactl \d+\.\d+\.\d+\ndataplaneapi (unknown \(no build information: not an appliance image\)|\S+.*)\n$/,
  );
});

t.test('firstboot and render print every finding of the status with its fix, not only "see above"', async (t) => {
  // Off an appliance image the tree has no Data Plane API: the status holds dataplaneapi.missing.
  const root = join(dir, 'findings-root');
  const fb = runCli(['firstboot', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', root]);
  t.equal(fb.code, 1, fb.err);
  const status = JSON.parse(readFileSync(join(root, 'var/lib/ovactl/status.json'), 'utf8'));
  t.ok(status.errors.length, 'the status has errors');
  for (const f of [...status.errors, ...status.warnings]) {
    t.ok(fb.out.includes(f.message), `firstboot prints ${f.rule}'s message`);
    t.ok(fb.out.includes(`rule ${f.rule}`), `firstboot prints ${f.rule}'s id`);
    if (f.hint) t.ok(fb.out.includes(`fix: ${f.hint}`), `firstboot prints ${f.rule}'s fix`);
  }
  t.ok(fb.out.indexOf('rule dataplaneapi.missing') < fb.out.indexOf('NOT READY'), 'before the verdict');

  const r = runCli(['render', '--env', join(ROOT, 'examples/ovf-env.xml'), '--root', join(dir, 'findings-render')]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /First boot would report:\nErrors \(1\):\n {2}✗ the HAProxy Data Plane API is not installed/);
  t.match(r.out, /rule dataplaneapi\.missing · loadbalance\.dataplane_port\n {4}fix: deploy an OVA built with/);
});
