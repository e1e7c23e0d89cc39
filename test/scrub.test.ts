// doctor --collect's scrubber with planted secrets of every shape: whole values go, by key.
import t from 'tap';
import { scrub } from '../src/doctor/scrub.js';

const S = 'Planted-Secret-4711';
const b64 = Buffer.from(S).toString('base64');

// Each shape: the text, and what must survive around the secret.
const SHAPES: [string, string, RegExp?][] = [
  ['haproxy userlist hash', `user wcp password $6$salt$${S}\n`, /^user wcp password \[removed\]/],
  ['haproxy insecure-password', `  user a insecure-password ${S}`, /insecure-password \[removed\]$/],
  ['BIRD quoted password with spaces', `  password "${S} with spaces";\n`, /password \[removed\];/],
  ['BIRD password with escaped quote', `  password "a\\" ${S}";\n`, /password \[removed\];/],
  ['YAML plain', `users:\n  - name: admin\n    password: ${S}\n    insecure: true\n`, /insecure: true/],
  ['YAML plain with spaces', `password: one two ${S}\nnext: 1\n`, /next: 1/],
  ['YAML double-quoted with escaped quote', `password: "x \\" ${S}"\nnext: 1\n`, /next: 1/],
  ['YAML single-quoted with spaces', `password: 'it''s ${S} here'\nnext: 1\n`, /next: 1/],
  ['YAML quoted over two lines', `password: "first\n  ${S}"\nnext: 1\n`, /next: 1/],
  ['YAML literal block scalar', `  password: |\n    ${S}\n    second line\n  insecure: true\n`, /insecure: true/],
  ['YAML folded block scalar', `password: >-\n  ${S}\nnext: 1\n`, /next: 1/],
  ['YAML nested credentials', `credentials:\n  user: admin\n  pass: ${S}\nother: 1\n`, /other: 1/],
  ['YAML list item key', `- passphrase: ${S}\n- name: x\n`, /name: x/],
  ['passphrase', `passphrase = ${S}\n`],
  ['api_key', `api_key: ${S}\n`],
  ['API-KEY header style', `X-Api-Key: ${S}\n`],
  ['token mid-line', `Dec 01 host svc[9]: login with token=${S} ok\n`, /^Dec 01 host/],
  ['JSON', `{"user":"a","haproxy_pwd":"x \\" ${S}","port":5556}`, /"port":5556/],
  ['JSON nested key', `{"dataplane": {"password": "${S}"}, "ok": true}`, /"ok": true/],
  ['Python dict', `{'appliance.root_pwd': '${S}', 'network.hostname': 'h'}`, /network\.hostname/],
  ['ini', `[auth]\nsecret=${S}\n`, /\[auth\]/],
  ['HTTP basic auth', `GET / Authorization: Basic ${b64}\n`],
  ['bearer', `curl -H 'Bearer ${S}'`],
  [
    'PEM private key',
    `a\n-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\nb\n`,
    /^a\n\[private key removed\]\nb/,
  ],
  ['PEM EC key', `-----BEGIN EC PRIVATE KEY-----\n${b64}\n-----END EC PRIVATE KEY-----`],
  ['PEM key without END line', `x\n-----BEGIN RSA PRIVATE KEY-----\n${b64}\n${S}\n`, /^x\n/],
  [
    'PEM key in a JSON string',
    `{"ca_cert_key": "-----BEGIN PRIVATE KEY-----\\n${b64}\\n-----END PRIVATE KEY-----\\n"}`,
  ],
  ['PEM key, escaped newlines, no END', `"k": "-----BEGIN PRIVATE KEY-----\\n${b64}${S}`],
  ['crypt hash anywhere', `root:$6$abc$${S}:19000:0:99999:7:::\n`, /^root:/],
  ['yescrypt hash', `x $y$j9T$${S} y`],
];

t.test('planted secrets of every shape are removed, the text around them is kept', async (t) => {
  for (const [name, text, keep] of SHAPES) {
    const out = scrub(text);
    t.notOk(
      out.includes(S) || out.includes(b64) || out.includes(S.slice(0, 10)),
      `${name}: no secret left (${JSON.stringify(out)})`,
    );
    if (keep) t.match(out, keep, `${name}: the rest stays`);
  }
});

t.test('text without secrets is unchanged', async (t) => {
  const plain = 'global\n    user haproxy\nfrontend fe\n    bind 192.0.2.10:443\nhosts: 1\n';
  t.equal(scrub(plain), plain);
});

t.test('earlier forms', async (t) => {
  t.equal(scrub('user a password $6$abc$def\n'), 'user a password [removed]\n');
  t.equal(scrub('  insecure-password hunter2'), '  insecure-password [removed]');
  t.equal(scrub('{"haproxy_pwd":"x y","a":1}'), '{"haproxy_pwd":"[removed]","a":1}');
  t.equal(scrub('-----BEGIN EC PRIVATE KEY-----\nAAA\n-----END EC PRIVATE KEY-----'), '[private key removed]');
  t.equal(scrub('x $y$j9T$abc y'), 'x [hash removed] y');
});

t.test(
  'collect: known files only, scrubbed, bundle 0600 before tar writes a byte, symlinks not followed',
  async (t) => {
    const { mkdtempSync, mkdirSync, writeFileSync, statSync, symlinkSync, readFileSync, rmSync } = await import(
      'node:fs'
    );
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const { collect } = await import('../src/doctor/collect.js');
    const dir = mkdtempSync(join(tmpdir(), 'ovactl-scrub-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc/haproxy'), { recursive: true });
    mkdirSync(join(root, 'etc/bird'), { recursive: true });
    writeFileSync(
      join(root, 'etc/haproxy/dataplaneapi.yaml'),
      `dataplaneapi:\n  user:\n    - name: admin\n      password: |\n        ${S}\n      insecure: true\n`,
    );
    writeFileSync(join(root, 'etc/haproxy/secret-notes.txt'), S); // not on the list
    writeFileSync(join(dir, 'shadow'), `root:$6$x$${S}:1:::\n`);
    symlinkSync(join(dir, 'shadow'), join(root, 'etc/bird/bird.conf'));
    const out = join(dir, 'bundle.tar.gz');
    writeFileSync(out, 'old', { mode: 0o644 });
    const modes: number[] = [];
    const old = process.umask(0);
    t.teardown(() => process.umask(old));
    const notes = await collect(
      {
        root,
        live: false,
        // Test stand-in around the real tar: records the bundle's mode when tar is started.
        exec: (cmd, args) => {
          modes.push(statSync(out).mode & 0o777);
          const r = spawnSync(cmd, args, { encoding: 'utf8' });
          return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
        },
      },
      out,
      '{}',
    );
    t.same(modes, [0o600], 'the bundle is 0600 before tar writes to it');
    t.equal(statSync(out).mode & 0o777, 0o600);
    t.match(notes.join('\n'), /bird\.conf: not a regular file/);
    const list = spawnSync('tar', ['-tzf', out], { encoding: 'utf8' }).stdout;
    t.notMatch(list, /secret-notes|bird\.conf/, 'only known, regular files');
    const unpacked = join(dir, 'u');
    mkdirSync(unpacked);
    spawnSync('tar', ['-xzf', out, '-C', unpacked]);
    const yaml = readFileSync(join(unpacked, 'bundle/etc/haproxy/dataplaneapi.yaml'), 'utf8');
    t.notOk(yaml.includes(S), 'block-scalar password removed');
    t.match(yaml, /insecure: true/);
  },
);
