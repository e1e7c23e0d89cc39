// The classes of defect issue 12 names, each with several members (the fuzz suite covers breadth).
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from '../src/source/detect.js';
import { checkXmlBounds, XML_LIMITS } from '../src/source/xml-bounds.js';
import { parseRules } from '../src/rhi/rules.js';
import { FileSource } from '../src/source/read.js';
import { readRegularFile } from '../src/core/regular-file.js';
import { reportJson } from '../src/cli/report.js';
import { validateDocument } from '../src/validate/validate.js';
import { BASE, ROOT } from './helpers/values.js';
import { PROPERTIES } from '../src/properties/table.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-hostile-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'Root-Secret-4711';
const KEY = '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----';

const message = async (text: string): Promise<string> => {
  const r = await parseDocument(text, 'in');
  return r.ok ? '' : r.error.message;
};

t.test('class 1: no parse error of any source quotes a secret, whatever the shape', async (t) => {
  const cases: [string, string][] = [
    ['python, mixed quotes make the password a key', `{'appliance.root_pwd': "${SECRET}', 'x': 'y"}`],
    ['python, password as a key-shaped word', `{'appliance.root_pwd': 'a', '${SECRET.toLowerCase()}' 'b'}`],
    ['python, bad character after the secret', `{'appliance.root_pwd': '${SECRET}' ${SECRET}}`],
    [
      'python, the CA key swallowed into a key',
      `{'appliance.ca_cert_key': "${KEY}', 'appliance.root_pwd': '${SECRET}"  'x'}`,
    ],
    ['python, unterminated at the end', `{'appliance.root_pwd': '${SECRET}`],
    ['JSON, bad token inside', `{"appliance.root_pwd": "${SECRET}" ${SECRET}}`],
    ['JSON, control character in the secret', `{"appliance.root_pwd": "${SECRET}\u0001"}`],
    ['JSON, trailing garbage', `{"appliance.root_pwd": "${SECRET}"} ${SECRET}`],
    ['govc, value not a string', `{"PropertyMapping": [{"Key": "${SECRET}", "Value": {"a": 1}}]}`],
    ['flat JSON, nested value under a secret-looking key', `{"${SECRET}": [1]}`],
    [
      'XML, unbound prefix with the secret',
      `<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"><${SECRET.toLowerCase()}:x/></Environment>`,
    ],
    [
      'XML, bad attribute after the secret',
      `<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"><Property key="a" value="${SECRET}" ${SECRET}/></Environment>`,
    ],
    ['XML, unclosed tag', `<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"><Property value="${SECRET}"`],
  ];
  for (const [name, text] of cases) {
    const m = await message(text); // some shapes parse (then validate's findings are checked elsewhere)
    t.notOk(m.toLowerCase().includes(SECRET.toLowerCase().slice(0, 8)), `${name}: no secret in ${JSON.stringify(m)}`);
    t.notOk(m.includes('MIIE'), `${name}: no key material`);
    t.ok(m.length < 300, `${name}: short (${m.length})`);
  }
});

t.test('class 2: findings carry no secret by construction; --json stays the contract', async (t) => {
  for (const pwd of ['deployment', 'frontend', 'valid"x', 'false-x', 'errors', '"rule"']) {
    const d = await parseDocument(
      JSON.stringify({ ...BASE, 'appliance.root_pwd': pwd, 'loadbalance.haproxy_pwd': `${pwd}\u0000x` }),
      'in',
    );
    if (!d.ok) throw new Error(d.error.message);
    const r = await validateDocument(d.value);
    const json = JSON.parse(reportJson(r));
    t.same(Object.keys(json).sort(), ['deployment', 'errors', 'valid', 'warnings'], `${pwd}: contract keys`);
    t.ok(
      json.errors.some((e: { rule: string }) => e.rule === 'password.characters'),
      `${pwd}: the NUL is found`,
    );
    for (const f of [...r.errors, ...r.warnings])
      t.notOk(
        f.message.includes(`${pwd}\u0000`) || (f.hint ?? '').includes(`${pwd}\u0000`),
        `${pwd}: ${f.rule} does not quote it`,
      );
  }
});

t.test('class 8: XML bounds, each refused with its reason and the first error stops the parse', async (t) => {
  const env = (body: string) =>
    `<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1">${body}</Environment>`;
  const cases: [string, string, RegExp][] = [
    ['deep nesting', env('<a>'.repeat(XML_LIMITS.depth + 1)), /nested more than/],
    [
      'nested namespaces',
      env(Array.from({ length: 5000 }, (_, i) => `<e xmlns:n${i}="u">`).join('')),
      /nested more than/,
    ],
    [
      'many namespaces on one element',
      env(`<e ${Array.from({ length: 9 }, (_, i) => `xmlns:n${i}="u"`).join(' ')}/>`),
      /more than 8 namespaces/,
    ],
    [
      'many attributes',
      env(`<e ${Array.from({ length: 17 }, (_, i) => `a${i}="u"`).join(' ')}/>`),
      /more than 16 attributes/,
    ],
    ['many elements', env('<e/>'.repeat(XML_LIMITS.elements + 1)), /more than 2000 elements/],
    ['a huge key', env(`<Property oe:key="${'k'.repeat(600 * 1024)}" oe:value="v"/>`), /longer than 512 KiB/],
    ['a document over 1 MiB', env(`<!-- ${'c'.repeat(1024 * 1024)} -->`), /at most 1 MiB/],
    ['a huge element name', env(`<${'n'.repeat(300)}/>`), /element name is longer/],
    ['a huge attribute name', env(`<e ${'a'.repeat(300)}="v"/>`), /attribute name is longer/],
  ];
  for (const [name, text, re] of cases) t.match(await message(text), re, name);
  t.ok(
    checkXmlBounds(env('<PropertySection><Property oe:key="a" oe:value="b"/></PropertySection>')).ok,
    'a normal document is within bounds',
  );
  // A syntax error early: the message names it (sax stops there instead of reading the rest).
  t.match(await message(`<E<${'x'.repeat(1_000_000)}`), /malformed XML/);
  t.match(await message(`<E></F>${'<x/>'.repeat(1000)}`), /malformed XML at line 1, column \d+: unexpected close tag/);
});

t.test('class 9: rules on one line, as on separate lines; bounded lines', async (t) => {
  const rules = Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255} = all(b:be${i})`);
  const one = parseRules(rules.join('; '));
  const many = parseRules(rules.join('\n'));
  t.equal(one.rules.length, 3000);
  t.same(
    one.rules.map((r) => r.targets[0]!.network),
    many.rules.map((r) => r.targets[0]!.network),
  );
  t.equal(
    one.rules[2999]!.column,
    rules.slice(0, 2999).join('; ').length + 3,
    'columns still right at the end of a long line',
  );
  t.equal(
    parseRules('😀 = all(b:x); 10.0.0.1 = al(b:x)').errors.at(-1)!.column,
    26,
    'columns count characters, not UTF-16 units',
  );
  const long = parseRules(`${'1'.repeat(512 * 1024 + 1)}\n10.0.0.1 = all(b:x)`);
  t.match(long.errors[0]!.message, /characters long; at most/);
  t.equal(long.rules.length, 1, 'the next line still parses');
  const garbage = parseRules('x = y(;'.repeat(60_000));
  t.equal(garbage.errors.length, 1001, 'parsing stops after 1,000 errors');
  t.match(garbage.errors.at(-1)!.message, /more than 1000 errors; the rest of the file was not read/);
});

t.test('class 10: non-regular files are refused at once; - is stdin', async (t) => {
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  for (const path of [fifo, dir, '/dev/null', '/dev/zero']) {
    const r = await new FileSource(path).read();
    t.notOk(r.ok, `${path}: refused`);
    if (!r.ok) t.match(r.error.message, /not a regular file/);
    t.throws(() => readRegularFile(path), /not a regular file/);
  }
  const f = join(dir, 'big');
  writeFileSync(f, 'x'.repeat(4 * 1024 * 1024 + 1));
  t.throws(() => readRegularFile(f), /larger than 4 MiB/);
  const r = runCli(['validate', '-'], { input: JSON.stringify(BASE) });
  t.equal(r.code, 0, 'stdin still works');
});

// ── issue 24: classes found by a fuzzing campaign ─────────────────────────────────────────────

/** Fixed-seed generator (mulberry32): the same cases every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return (n: number): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const validate = async (values: Record<string, unknown>) => {
  const d = await parseDocument(JSON.stringify(values), 'in');
  if (!d.ok) throw new Error(d.error.message);
  return validateDocument(d.value);
};
const rulesOf = (r: Awaited<ReturnType<typeof validate>>) => [...r.errors, ...r.warnings].map((f) => f.rule);

t.test('class 11: the API user name is what the userlist and HTTP Basic auth both take', async (t) => {
  const USER = /^[A-Za-z_][A-Za-z0-9._-]{0,63}$/;
  const refused = ['{{wcp}}', '`id`wcp', 'wcp%00', 'wcp/24/7', 'wcp%eth0', 'wcp:80', ':wcp', '9wcp', '-wcp', 'wc p'];
  const accepted = ['wcp', 'admin', '_svc', 'a.b-c_d', 'W'.repeat(64)];
  // Generated: pieces of templates, shells, URLs, addresses and Unicode around a plain name.
  const pieces = ['wcp', 'a', 'Z', '_', '.', '-', '0', ':', '%', '/', '{', '}', '`', '$', '@', '+', '=', 'é', '\u200b'];
  const gen = rng(24);
  const generated = Array.from({ length: 300 }, () =>
    Array.from({ length: 1 + gen(6) }, () => pieces[gen(pieces.length)]).join(''),
  );
  for (const u of [...refused, ...accepted, ...generated]) {
    const r = await validate({ ...BASE, 'loadbalance.haproxy_user': u });
    const wrong = rulesOf(r).includes('user.syntax');
    t.equal(wrong, !USER.test(u), `${JSON.stringify(u)}: ${USER.test(u) ? 'accepted' : 'refused'}`);
  }
});

t.test('class 12: a host name in any case is written in lower case, with a warning', async (t) => {
  const gen = rng(2401);
  const base = BASE['network.hostname']!;
  for (let i = 0; i < 40; i++) {
    const mixed = [...base].map((c) => (gen(2) ? c.toUpperCase() : c)).join('');
    const r = await validate({ ...BASE, 'network.hostname': mixed });
    t.equal(r.properties['network.hostname'], base, `${mixed}: written as ${base}`);
    t.equal(rulesOf(r).includes('hostname.case'), mixed !== base, `${mixed}: warned exactly when not lower case`);
    t.ok(r.valid, `${mixed}: still valid`);
  }
});

t.test('class 13: a nameserver listed twice (in any spelling) is written once, with a warning', async (t) => {
  const spellings = ['192.0.2.53', ' 192.0.2.53', '192.0.2.53 '];
  for (const list of [
    '192.0.2.53, 192.0.2.53',
    '192.0.2.53,192.0.2.54,192.0.2.53',
    `${spellings.join(',')}`,
    '2001:db8::53, 2001:DB8:0::53',
  ]) {
    const r = await validate({ ...BASE, 'network.nameservers': list });
    const got = r.properties['network.nameservers'] ?? [];
    t.equal(new Set(got).size, got.length, `${list}: each address once (${got.join(' ')})`);
    t.ok(rulesOf(r).includes('nameservers.duplicate'), `${list}: warned`);
  }
  const once = await validate({ ...BASE, 'network.nameservers': '192.0.2.53, 192.0.2.54' });
  t.notOk(rulesOf(once).includes('nameservers.duplicate'), 'distinct servers: no warning');
  // The rendered .network file holds each DNS server once.
  const root = join(dir, 'dns-once');
  const input = join(dir, 'dns-once.json');
  writeFileSync(input, JSON.stringify({ ...BASE, 'network.nameservers': '192.0.2.53, 192.0.2.53, 192.0.2.54' }));
  t.equal(runCli(['render', '--env', input, '--root', root]).code, 0);
  const net = readFileSync(join(root, 'etc/systemd/network/20-ovactl-management.network'), 'utf8');
  t.equal(net.match(/192\.0\.2\.53/g)?.length, 1, '192.0.2.53 written once');
});

t.test('class 14: no finding quotes a value equal to (or holding) a secret of the same input', async (t) => {
  const textKeys = PROPERTIES.filter((p) => !p.secret && p.kind !== 'boolean').map((p) => p.key);
  const secrets = ['Hunter2-Root', 'Ha-Proxy9', '10.9.8.7', '10.9.8.0/24', 'Sekret.Example', 'x:65001'];
  for (const secret of secrets)
    for (const holder of ['appliance.root_pwd', 'loadbalance.haproxy_pwd'])
      for (const key of textKeys) {
        for (const value of [secret, `${secret}, 192.0.2.9`, `  ${secret} `]) {
          const r = await validate({
            ...BASE,
            ...(key.startsWith('rhi.') ? { 'rhi.enabled': 'True' } : {}),
            [holder]: secret,
            [key]: value,
          });
          const said = [...r.errors, ...r.warnings].map((f) => `${f.message} ${f.hint ?? ''}`).join('\n');
          if (said.includes(secret)) t.fail(`${key} = ${JSON.stringify(value)}, ${holder} the same: quoted`);
        }
      }
  // By construction: the rules quote a value only through their context, which knows the secrets.
  for (const f of ['src/validate/rules.ts', 'src/validate/rhi.ts']) {
    const src = readFileSync(join(ROOT, f), 'utf8');
    t.notMatch(src, /import \{[^}]*\bq\b[^}]*\} from '\.\.\/core\/quote\.js'/, `${f} does not import q`);
    t.notMatch(src, /\brawText\([^)]*\)\}/, `${f} puts no raw value into a message unquoted`);
  }
  // The class is not vacuous: the same value is quoted when it is no secret.
  const plain = await validate({ ...BASE, 'network.hostname': 'Hunter2-Root' });
  t.match(plain.errors.map((f) => f.message).join('\n'), /"hunter2-root" is not fully qualified/);
  const hidden = await validate({ ...BASE, 'appliance.root_pwd': 'hunter2-root', 'network.hostname': 'Hunter2-Root' });
  t.match(hidden.errors.map((f) => f.message).join('\n'), /network\.hostname = \(a value equal to a secret/);
});

t.test('class 15: a JSON number is quoted as it was written', async (t) => {
  const literals = ['1e400', '-1e400', '5556.0', '1E+2', '0.1e-500', '123456789012345678901234567890', '-0', '1e2'];
  for (const n of literals) {
    const flat = `{${JSON.stringify(BASE).slice(1, -1)}, "loadbalance.dataplane_port": ${n}}`;
    const govc = `{"PropertyMapping": [{"Key": "loadbalance.dataplane_port", "Value": ${n}}]}`;
    for (const [form, text] of [
      ['flat', flat],
      ['govc', govc],
    ] as const) {
      const d = await parseDocument(text, 'in');
      if (!d.ok) throw new Error(d.error.message);
      t.equal(d.value.values.get('loadbalance.dataplane_port'), n, `${form} ${n}: read as written`);
      const r = await validateDocument(d.value);
      const port = r.errors.find((f) => f.rule === 'port.syntax');
      if (port) t.match(port.message, `= ${JSON.stringify(n)} is not a port number`, `${form} ${n}: quoted`);
    }
  }
  const strings = await parseDocument('{"a.b": "x:1, [2", "network.hostname": "h:-3"}', 'in');
  t.equal(strings.ok && strings.value.values.get('network.hostname'), 'h:-3', 'numbers inside strings untouched');
});

t.test('class 16: key counts are bounded in every format: one line past 1,000 keys, linear below', async (t) => {
  const keys = (n: number) => Array.from({ length: n }, (_, i) => [`unknown.key_${i}`, 'v'] as const);
  const forms = {
    flat: (n: number) => JSON.stringify(Object.fromEntries(keys(n))),
    govc: (n: number) => JSON.stringify({ PropertyMapping: keys(n).map(([Key, Value]) => ({ Key, Value })) }),
    python: (n: number) =>
      `{${keys(n)
        .map(([k, v]) => `'${k}': '${v}'`)
        .join(', ')}}`,
    xml: (n: number) =>
      '<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" ' +
      'xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PropertySection>' +
      keys(n)
        .map(([k, v]) => `<Property oe:key="${k}" oe:value="${v}"/>`)
        .join('') +
      '</PropertySection></Environment>',
  };
  for (const [form, make] of Object.entries(forms)) {
    const over = await parseDocument(make(1001), 'in');
    t.notOk(over.ok, `${form}: 1,001 keys refused`);
    if (!over.ok)
      t.match(over.error.message, /^holds 1,001 keys; at most 1,000 are read .*; fix: /, `${form}: one line`);
    const at = await parseDocument(make(1000), 'in');
    t.ok(at.ok, `${form}: 1,000 keys read`);
    if (at.ok) {
      const r = await validateDocument(at.value);
      const unknown = r.warnings.filter((f) => f.rule === 'property.unknown');
      t.equal(unknown.length, 20, `${form}: the findings are capped`);
      t.match(unknown.at(-1)!.message, /and 981 more findings/);
    }
  }
});

t.test('class 17: bad lines of a ranges file: the first few and a count, whatever their number', async (t) => {
  const file = join(dir, 'bad-ranges.cfg');
  for (const n of [21, 500, 5000]) {
    writeFileSync(file, Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.1/24`).join('\n'));
    const r = runCli(['anyip', 'status', '--config', file]);
    t.equal(r.code, 1);
    const lines = r.err.split('\n').filter(Boolean);
    t.equal(lines.length, 21, `${n} bad lines: 20 shown and one count`);
    t.match(lines.at(-1), new RegExp(`: ${n - 20} more bad lines? skipped, not shown`));
    const json = runCli(['anyip', 'status', '--json', '--config', file]);
    t.equal(JSON.parse(json.out).problems.length, n, `${n}: --json lists every problem`);
  }
});
