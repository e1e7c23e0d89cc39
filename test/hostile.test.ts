// The classes of defect issue 12 names, each with several members (the fuzz suite covers breadth).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { BASE } from './helpers/values.js';
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
