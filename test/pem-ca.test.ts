// PEM repair and the CA checks, with real keys and certificates made by the openssl CLI.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportJson, reportText } from '../src/cli/report.js';
import { normalise } from '../src/properties/schema.js';
import { pemBlocks, repairPem } from '../src/properties/pem.js';
import type { PropertyKey } from '../src/properties/table.js';
import { parseDocument } from '../src/source/detect.js';
import type { DeployDocument } from '../src/source/document.js';
import { validateDocument, type Report } from '../src/validate/validate.js';

const BASE: Record<string, string> = JSON.parse(
  readFileSync(new URL('../examples/appliance.json', import.meta.url), 'utf8'),
);

// ─── material ─────────────────────────────────────────────────────────────────────────────────────

const dir = mkdtempSync(join(tmpdir(), 'ovactl-pem-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const ssl = (...args: string[]): string =>
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const file = (name: string): string => readFileSync(join(dir, name), 'utf8');
const PASS = 'pass:hunter2-passphrase';
const CA_EXT = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

// RSA CA; its key as PKCS#8 ("PRIVATE KEY", what req writes) and traditional ("RSA PRIVATE KEY").
ssl(
  'req',
  '-x509',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-keyout',
  'rsa-ca.key',
  '-out',
  'rsa-ca.crt',
  '-subj',
  '/CN=test-ca',
  '-days',
  '30',
  ...CA_EXT,
);
ssl('pkey', '-in', 'rsa-ca.key', '-traditional', '-out', 'rsa-ca.rsa.key');
// EC CA (prime256v1) with an "EC PRIVATE KEY"; the curve parameters alone; the key as PKCS#8.
ssl('ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', 'ec-ca.key');
ssl('ecparam', '-name', 'prime256v1', '-out', 'ec.params');
ssl('pkey', '-in', 'ec-ca.key', '-out', 'ec-ca.p8.key');
ssl(
  'req',
  '-x509',
  '-new',
  '-key',
  'ec-ca.key',
  '-out',
  'ec-ca.crt',
  '-subj',
  '/CN=test-ec-ca',
  '-days',
  '30',
  ...CA_EXT,
);
// Encrypted keys: PKCS#8 "ENCRYPTED PRIVATE KEY", and the legacy Proc-Type/DEK-Info form (RSA and EC).
ssl('pkey', '-in', 'rsa-ca.key', '-aes256', '-passout', PASS, '-out', 'rsa-ca.enc8.key');
ssl('rsa', '-in', 'rsa-ca.key', '-aes128', '-traditional', '-passout', PASS, '-out', 'rsa-ca.legacy.key');
ssl('ec', '-in', 'ec-ca.key', '-aes128', '-passout', PASS, '-out', 'ec-ca.legacy.key');
// A leaf (CA:FALSE) signed by the RSA CA, and an unrelated RSA key.
ssl(
  'req',
  '-new',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
  '-keyout',
  'leaf.key',
  '-out',
  'leaf.csr',
  '-subj',
  '/CN=leaf.example.test',
);
writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
ssl(
  'x509',
  '-req',
  '-in',
  'leaf.csr',
  '-CA',
  'rsa-ca.crt',
  '-CAkey',
  'rsa-ca.key',
  '-set_serial',
  '2',
  '-days',
  '30',
  '-extfile',
  'leaf.ext',
  '-out',
  'leaf.crt',
);
ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'other.key');

const M = {
  rsaCa: file('rsa-ca.crt'),
  rsaKey8: file('rsa-ca.key'),
  rsaKeyTrad: file('rsa-ca.rsa.key'),
  ecCa: file('ec-ca.crt'),
  ecKey: file('ec-ca.key'),
  ecParams: file('ec.params'),
  ecKey8: file('ec-ca.p8.key'),
  enc8: file('rsa-ca.enc8.key'),
  legacy: file('rsa-ca.legacy.key'),
  ecLegacy: file('ec-ca.legacy.key'),
  leafCrt: file('leaf.crt'),
  leafKey: file('leaf.key'),
  otherKey: file('other.key'),
};
const PRIVATE_KEYS = [M.rsaKey8, M.rsaKeyTrad, M.ecKey, M.ecKey8, M.enc8, M.legacy, M.ecLegacy, M.leafKey, M.otherKey];

/** The base64 lines of a PEM (no BEGIN/END, no headers, no blank line). */
const base64Lines = (pem: string): string[] =>
  pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----') && !l.includes(':'));

t.test('the material is what the cases claim', async (t) => {
  const first = (s: string) => s.split('\n')[0];
  t.equal(first(M.rsaCa), '-----BEGIN CERTIFICATE-----');
  t.equal(first(M.rsaKey8), '-----BEGIN PRIVATE KEY-----');
  t.equal(first(M.rsaKeyTrad), '-----BEGIN RSA PRIVATE KEY-----');
  t.equal(first(M.ecKey), '-----BEGIN EC PRIVATE KEY-----');
  t.equal(first(M.ecParams), '-----BEGIN EC PARAMETERS-----');
  t.equal(first(M.ecKey8), '-----BEGIN PRIVATE KEY-----');
  t.equal(first(M.enc8), '-----BEGIN ENCRYPTED PRIVATE KEY-----');
  t.match(M.legacy, /^-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,[0-9A-F]{32}\n\n/);
  t.match(
    M.ecLegacy,
    /^-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,[0-9A-F]{32}\n\n/,
  );
  t.equal(new X509Certificate(M.rsaCa).ca, true);
  t.equal(new X509Certificate(M.ecCa).ca, true);
  t.equal(new X509Certificate(M.leafCrt).ca, false);
  t.ok(
    new X509Certificate(M.leafCrt).verify(new X509Certificate(M.rsaCa).publicKey),
    'the leaf is signed by the RSA CA',
  );
  t.ok(
    PRIVATE_KEYS.every((k) => base64Lines(k).length >= 2),
    'every key has base64 lines to look for',
  );
});

// ─── PEM repair ───────────────────────────────────────────────────────────────────────────────────

const MANGLES: [string, (pem: string) => string][] = [
  ['newlines → spaces', (s) => s.replace(/\n/g, ' ')],
  ['newlines → spaces, trimmed', (s) => s.trim().replace(/\n/g, ' ')],
  ['newlines → literal \\n', (s) => s.replace(/\n/g, '\\n')],
  ['newlines → literal \\r\\n', (s) => s.replace(/\n/g, '\\r\\n')],
  ['CRLF', (s) => s.replace(/\n/g, '\r\n')],
  ['spaces, with padding around', (s) => `  ${s.replace(/\n/g, ' ')}  `],
];

const SINGLE: [string, string][] = [
  ['CERTIFICATE (RSA)', M.rsaCa],
  ['CERTIFICATE (EC)', M.ecCa],
  ['PRIVATE KEY (RSA)', M.rsaKey8],
  ['PRIVATE KEY (EC)', M.ecKey8],
  ['RSA PRIVATE KEY', M.rsaKeyTrad],
  ['EC PRIVATE KEY', M.ecKey],
  ['EC PARAMETERS', M.ecParams],
  ['ENCRYPTED PRIVATE KEY', M.enc8],
  ['RSA PRIVATE KEY, legacy encrypted', M.legacy],
  ['EC PRIVATE KEY, legacy encrypted', M.ecLegacy],
];

t.test("repairPem gives back openssl's exact text for every label", async (t) => {
  for (const [label, pem] of SINGLE) {
    t.equal(repairPem(pem), pem, `${label}: the original is unchanged`);
    for (const [how, mangle] of MANGLES) {
      const mangled = mangle(pem);
      if (how !== 'CRLF') t.notMatch(mangled.trim(), /\n/, `${label}, ${how}: really on one line`);
      t.equal(repairPem(mangled), pem, `${label}, ${how}: byte-identical`);
    }
    const blocks = pemBlocks(pem.replace(/\n/g, ' '));
    t.equal(blocks.length, 1);
    t.equal(`-----BEGIN ${blocks[0]?.label}-----`, pem.split('\n')[0], `${label}: label kept, spaces and all`);
  }
});

t.test('repairPem re-wraps base64 at 64 columns', async (t) => {
  for (const [label, pem] of SINGLE.filter(([, p]) => !p.includes('Proc-Type'))) {
    const lines = pem.trim().split('\n');
    const body = lines.slice(1, -1).join('');
    for (const width of [76, 40, 1000]) {
      const rewrapped = [lines[0], ...(body.match(new RegExp(`.{1,${width}}`, 'g')) ?? []), lines.at(-1)].join('\n');
      t.equal(repairPem(rewrapped), pem, `${label}: from ${width} columns`);
    }
  }
});

t.test('legacy encrypted keys: the headers come back on their own lines', async (t) => {
  for (const [label, pem] of [
    ['RSA', M.legacy],
    ['EC', M.ecLegacy],
  ] as const) {
    for (const [how, mangle] of MANGLES) {
      const fixed = repairPem(mangle(pem)) ?? '';
      const lines = fixed.split('\n');
      t.equal(lines[0], `-----BEGIN ${label} PRIVATE KEY-----`, `${label}, ${how}`);
      t.equal(lines[1], 'Proc-Type: 4,ENCRYPTED');
      t.match(lines[2], /^DEK-Info: AES-128-CBC,[0-9A-F]{32}$/);
      t.equal(lines[3], '', 'a blank line after the headers');
      t.match(lines[4], /^[A-Za-z0-9+/]{64}$/);
      // node:crypto (OpenSSL) reads the repaired key with its passphrase: the headers are right.
      const key = createPrivateKey({ key: fixed, passphrase: 'hunter2-passphrase' });
      t.equal(key.asymmetricKeyType, label === 'RSA' ? 'rsa' : 'ec');
    }
  }
});

t.test('several blocks in one value are all kept, in order', async (t) => {
  const combos: [string, string[]][] = [
    ['cert + key', [M.rsaCa, M.rsaKeyTrad]],
    ['key + cert', [M.rsaKey8, M.rsaCa]],
    ['EC PARAMETERS + EC PRIVATE KEY', [M.ecParams, M.ecKey]],
    ['chain: leaf + CA', [M.leafCrt, M.rsaCa]],
    ['cert + legacy encrypted key', [M.rsaCa, M.legacy]],
  ];
  for (const [what, parts] of combos) {
    const whole = parts.join('');
    for (const [how, mangle] of MANGLES) t.equal(repairPem(mangle(whole)), whole, `${what}, ${how}`);
    t.same(
      pemBlocks(whole.replace(/\n/g, ' ')).map((b) => b.label),
      parts.map((p) => /BEGIN ([A-Z ]+)-----/.exec(p)![1]),
      `${what}: labels in order`,
    );
    // Text around and between the blocks (e.g. "Bag Attributes" from a PKCS#12 export) is dropped.
    t.equal(
      repairPem(`subject=/CN=x ${parts.map((p) => p.replace(/\n/g, ' ')).join(' junk between ')} trailing`),
      whole,
      `${what}: text outside the blocks dropped`,
    );
  }
  t.equal(repairPem('no pem here'), undefined);
  t.equal(
    repairPem('-----BEGIN CERTIFICATE----- AAAA -----END PRIVATE KEY-----'),
    undefined,
    'BEGIN and END must name the same label',
  );
});

t.test('normalise repairs the CA fields', async (t) => {
  const raw = new Map<PropertyKey, string>([
    ['appliance.ca_cert', M.rsaCa.replace(/\n/g, ' ')],
    ['appliance.ca_cert_key', `  ${M.legacy.replace(/\n/g, '\\n')}`],
  ]);
  const { properties, problems } = normalise(raw);
  t.same(problems, []);
  t.equal(properties['appliance.ca_cert'], M.rsaCa);
  t.equal(properties['appliance.ca_cert_key'], M.legacy);
  t.equal(
    normalise(new Map([['appliance.ca_cert', '  not a pem  ']]) as Map<PropertyKey, string>).properties[
      'appliance.ca_cert'
    ],
    'not a pem',
    'text without PEM is kept (trimmed) for the CA rules to report',
  );
});

// ─── CA checks through validateDocument ───────────────────────────────────────────────────────────

const NOW = new Date();
const RSA_CA = new X509Certificate(M.rsaCa);
const DAY = 24 * 3600 * 1000;
const oneLine = (s: string) => s.replace(/\n/g, ' ');

async function caDoc(cert: string | undefined, key: string | undefined): Promise<DeployDocument> {
  const values: Record<string, string> = { ...BASE };
  if (cert !== undefined) values['appliance.ca_cert'] = cert;
  if (key !== undefined) values['appliance.ca_cert_key'] = key;
  const r = await parseDocument(JSON.stringify(values), 'test');
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const caRules = (r: Report): string[] =>
  [...r.errors, ...r.warnings]
    .map((f) => f.rule)
    .filter((id) => id.startsWith('ca.'))
    .sort();
const plain = {
  red: (s: string) => s,
  yellow: (s: string) => s,
  green: (s: string) => s,
  bold: (s: string) => s,
  dim: (s: string) => s,
};

interface Material {
  readonly cert?: string;
  readonly key?: string;
  readonly now?: Date;
}

interface CaCase {
  readonly name: string;
  readonly rule: string | undefined; // undefined: good material, no ca.* finding at all
  readonly bad: Material;
  /** The same situation done right: the rule must stay quiet. */
  readonly good: Material;
  readonly keys?: readonly string[];
  readonly message?: RegExp;
}

const GOOD_RSA: Material = { cert: oneLine(M.rsaCa), key: oneLine(M.rsaKeyTrad) };
const GOOD_EC: Material = { cert: oneLine(M.ecCa), key: oneLine(M.ecKey) };

const CASES: CaCase[] = [
  { name: 'RSA CA + its RSA PRIVATE KEY, both mangled with spaces', rule: undefined, bad: GOOD_RSA, good: GOOD_RSA },
  {
    name: 'RSA CA + its key, literal \\n',
    rule: undefined,
    bad: { cert: M.rsaCa.replace(/\n/g, '\\n'), key: M.rsaKeyTrad.replace(/\n/g, '\\n') },
    good: GOOD_RSA,
  },
  { name: 'RSA CA + its PKCS#8 key', rule: undefined, bad: { cert: M.rsaCa, key: oneLine(M.rsaKey8) }, good: GOOD_RSA },
  { name: 'EC CA + its EC PRIVATE KEY', rule: undefined, bad: GOOD_EC, good: GOOD_EC },
  {
    name: 'EC CA + EC PARAMETERS and EC PRIVATE KEY',
    rule: undefined,
    bad: { cert: M.ecCa, key: oneLine(M.ecParams + M.ecKey) },
    good: GOOD_EC,
  },
  {
    name: 'EC CA + its PKCS#8 key',
    rule: undefined,
    bad: { cert: oneLine(M.ecCa), key: oneLine(M.ecKey8) },
    good: GOOD_EC,
  },
  {
    name: 'the CA on the last valid second',
    rule: undefined,
    bad: { ...GOOD_RSA, now: new Date(RSA_CA.validTo) },
    good: GOOD_RSA,
  },
  {
    name: 'the CA on its first valid second',
    rule: undefined,
    bad: { ...GOOD_RSA, now: new Date(RSA_CA.validFrom) },
    good: GOOD_RSA,
  },

  {
    name: 'certificate without key',
    rule: 'ca.pair',
    bad: { cert: oneLine(M.rsaCa) },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert', 'appliance.ca_cert_key'],
    message: /without its key/,
  },
  {
    name: 'key without certificate',
    rule: 'ca.pair',
    bad: { key: oneLine(M.rsaKeyTrad) },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert', 'appliance.ca_cert_key'],
    message: /without its certificate/,
  },
  { name: 'certificate with an empty key', rule: 'ca.pair', bad: { cert: M.rsaCa, key: '' }, good: GOOD_RSA },
  { name: 'certificate with the key "null"', rule: 'ca.pair', bad: { cert: M.rsaCa, key: 'null' }, good: GOOD_RSA },
  {
    name: 'garbage in a CERTIFICATE block',
    rule: 'ca.cert-parse',
    bad: {
      cert: '-----BEGIN CERTIFICATE----- bm90IGEgY2VydGlmaWNhdGUgYXQgYWxs -----END CERTIFICATE-----',
      key: M.rsaKeyTrad,
    },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert'],
  },
  {
    name: 'no PEM at all in the certificate',
    rule: 'ca.cert-parse',
    bad: { cert: 'MIIDazCCAlOgAwIBAgIU', key: M.rsaKeyTrad },
    good: GOOD_RSA,
    message: /BEGIN CERTIFICATE/,
  },
  {
    name: 'a truncated certificate',
    rule: 'ca.cert-parse',
    bad: {
      cert: M.rsaCa
        .split('\n')
        .filter((_, i) => i < 4 || i > 9)
        .join(' '),
      key: M.rsaKeyTrad,
    },
    good: GOOD_RSA,
  },
  {
    name: 'a key in the certificate field',
    rule: 'ca.cert-parse',
    bad: { cert: M.rsaKey8, key: M.rsaKeyTrad },
    good: GOOD_RSA,
  },
  {
    name: 'leaf certificate + its key',
    rule: 'ca.not-ca',
    bad: { cert: oneLine(M.leafCrt), key: oneLine(M.leafKey) },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert'],
    message: /leaf\.example\.test.*not a CA/,
  },
  {
    name: 'CA + an unrelated RSA key',
    rule: 'ca.key-mismatch',
    bad: { cert: oneLine(M.rsaCa), key: oneLine(M.otherKey) },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert', 'appliance.ca_cert_key'],
  },
  { name: 'RSA CA + the EC CA key', rule: 'ca.key-mismatch', bad: { cert: M.rsaCa, key: M.ecKey }, good: GOOD_RSA },
  { name: 'EC CA + the RSA CA key', rule: 'ca.key-mismatch', bad: { cert: M.ecCa, key: M.rsaKey8 }, good: GOOD_EC },
  {
    name: 'ENCRYPTED PRIVATE KEY (PKCS#8)',
    rule: 'ca.key-encrypted',
    bad: { cert: oneLine(M.rsaCa), key: oneLine(M.enc8) },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert_key'],
  },
  {
    name: 'legacy encrypted RSA key, mangled',
    rule: 'ca.key-encrypted',
    bad: { cert: oneLine(M.rsaCa), key: oneLine(M.legacy) },
    good: GOOD_RSA,
  },
  {
    name: 'legacy encrypted RSA key, intact',
    rule: 'ca.key-encrypted',
    bad: { cert: M.rsaCa, key: M.legacy },
    good: GOOD_RSA,
  },
  {
    name: 'legacy encrypted EC key',
    rule: 'ca.key-encrypted',
    bad: { cert: M.ecCa, key: oneLine(M.ecLegacy) },
    good: GOOD_EC,
  },
  {
    name: 'a truncated key',
    rule: 'ca.key-parse',
    bad: {
      cert: M.rsaCa,
      key: M.rsaKeyTrad
        .split('\n')
        .filter((_, i) => i < 3 || i > 8)
        .join('\n'),
    },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert_key'],
  },
  {
    name: 'a certificate in the key field',
    rule: 'ca.key-parse',
    bad: { cert: M.rsaCa, key: M.rsaCa },
    good: GOOD_RSA,
  },
  {
    name: 'expired',
    rule: 'ca.expired',
    bad: { ...GOOD_RSA, now: new Date(new Date(RSA_CA.validTo).getTime() + DAY) },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert'],
    message: /expired on/,
  },
  {
    name: 'expired by a second',
    rule: 'ca.expired',
    bad: { ...GOOD_RSA, now: new Date(new Date(RSA_CA.validTo).getTime() + 1000) },
    good: { ...GOOD_RSA, now: new Date(RSA_CA.validTo) },
  },
  {
    name: 'not yet valid',
    rule: 'ca.not-yet-valid',
    bad: { ...GOOD_RSA, now: new Date(new Date(RSA_CA.validFrom).getTime() - DAY) },
    good: GOOD_RSA,
    keys: ['appliance.ca_cert'],
    message: /not valid before/,
  },
  {
    name: 'EC CA expired',
    rule: 'ca.expired',
    bad: { ...GOOD_EC, now: new Date(NOW.getTime() + 60 * DAY) },
    good: GOOD_EC,
  },
];

/** Every base64 line of every private key: none may reach the output. */
const SECRET_LINES = [...new Set(PRIVATE_KEYS.flatMap(base64Lines))];

t.test('CA checks', async (t) => {
  const noCa = await validateDocument(await caDoc(undefined, undefined), { now: NOW });
  t.same(caRules(noCa), [], 'no CA given: nothing to check');
  t.equal(noCa.valid, true);

  for (const c of CASES) {
    await t.test(c.name, async (t) => {
      const bad = await validateDocument(await caDoc(c.bad.cert, c.bad.key), { now: c.bad.now ?? NOW });
      const good = await validateDocument(await caDoc(c.good.cert, c.good.key), { now: c.good.now ?? NOW });
      if (c.rule === undefined) {
        t.same(caRules(bad), [], 'no ca.* finding');
        t.equal(bad.valid, true, 'the whole document is valid');
      } else {
        t.same(caRules(bad), [c.rule], `${c.rule} and no other ca.* finding`);
        t.equal(bad.valid, false, 'an error');
        const f = bad.errors.find((e) => e.rule === c.rule)!;
        if (c.keys) t.same(f.keys, c.keys, 'names its keys');
        if (c.message) t.match(f.message, c.message);
        t.ok(f.hint, 'with a fix');
        t.notOk(caRules(good).includes(c.rule), 'not on the good material');
      }
      t.same(caRules(good), [], 'the good material has no ca.* finding');
      for (const [which, r, doc] of [
        ['bad', bad, c.bad],
        ['good', good, c.good],
      ] as const) {
        const json = reportJson(r);
        const text = reportText(r, await caDoc(doc.cert, doc.key), plain);
        const leaked = SECRET_LINES.filter((l) => json.includes(l) || text.includes(l));
        t.same(leaked, [], `${which}: no line of a private key in the report`);
        t.notMatch(json, /hunter2/, `${which}: no passphrase`);
      }
    });
  }
});

t.test('one CA check does not hide another', async (t) => {
  // A leaf certificate that has expired, with an unrelated key: all three are reported.
  const r = await validateDocument(await caDoc(M.leafCrt, M.otherKey), { now: new Date(NOW.getTime() + 60 * DAY) });
  t.same(caRules(r), ['ca.expired', 'ca.key-mismatch', 'ca.not-ca']);
  // A leaf certificate with its CA's key: not a CA, and not its key.
  t.same(caRules(await validateDocument(await caDoc(M.leafCrt, M.rsaKeyTrad), { now: NOW })), [
    'ca.key-mismatch',
    'ca.not-ca',
  ]);
  // A garbage certificate with an encrypted key: both reported.
  const r2 = await validateDocument(await caDoc('-----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----', M.enc8), {
    now: NOW,
  });
  t.same(caRules(r2), ['ca.cert-parse', 'ca.key-encrypted']);
  t.same(
    SECRET_LINES.filter((l) => reportJson(r).includes(l) || reportJson(r2).includes(l)),
    [],
  );
});
