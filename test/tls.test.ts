// The Data Plane API's TLS material (src/tls), made and checked with the real openssl CLI in scratch roots.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificates, TlsError, type CertificateRequest } from '../src/tls/certificates.js';
import { SERVER_CRT_KEY_LINK, TLS_PATHS } from '../src/appliance/paths.js';
import { redact } from '../src/tls/openssl.js';

const DAY = 86_400_000;
const REQ: CertificateRequest = { ips: ['192.0.2.10', '127.0.0.1'], dnsNames: ['haproxy.example.test', 'localhost'] };
const ALL = [TLS_PATHS.caKey, TLS_PATHS.caCert, TLS_PATHS.serverKey, TLS_PATHS.serverCert];
// server.crt.key: where haproxy looks for the key of `crt server.crt` (the metrics frontend), a link
// made once, with the first key.
const FIRST = [...ALL, SERVER_CRT_KEY_LINK];

const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-tls-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const read = (root: string, path: string): string => readFileSync(join(root, path), 'utf8');
const cert = (root: string, path: string = TLS_PATHS.serverCert): X509Certificate =>
  new X509Certificate(read(root, path));
const sans = (x: X509Certificate): string[] => (x.subjectAltName ?? '').split(', ').sort();
const modeOf = (root: string, path: string): number => statSync(join(root, path)).mode & 0o7777;
/** openssl verify of server.crt's leaf against a CA file: true when it prints "OK". */
const verifies = (root: string, caFile: string): boolean => {
  try {
    return execFileSync('openssl', ['verify', '-CAfile', caFile, join(root, TLS_PATHS.serverCert)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .endsWith(': OK');
  } catch {
    return false;
  }
};
/** Content, mtime and inode of each file: equal snapshots mean nothing was rewritten. */
const snapshot = (root: string, paths: readonly string[] = ALL): Record<string, string> =>
  Object.fromEntries(
    paths.map((p) => {
      const st = statSync(join(root, p), { bigint: true });
      return [p, `${st.ino}:${st.mtimeNs}:${st.mode}:${read(root, p)}`];
    }),
  );
/** Every file and folder under root, relative. */
const tree = (root: string): string[] => (readdirSync(root, { recursive: true }) as string[]).map(String).sort();

/** A CA made by openssl, as a test's given CA. */
function makeCa(kind: 'ec' | 'rsa', cn: string): { cert: string; key: string } {
  const dir = scratch();
  const keyArgs =
    kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      `/CN=${cn}`,
      '-days',
      '365',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  return { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
}
const EC_CA = makeCa('ec', 'test EC CA');
const RSA_CA = makeCa('rsa', 'test RSA CA');
const base64Body = (pem: string): string =>
  pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');

t.test('a generated CA and a server certificate for exactly the request', async (t) => {
  const root = scratch();
  const r = await ensureCertificates(root, REQ);
  t.equal(r.changed, true);
  t.same([...r.written].sort(), [...FIRST].sort());
  t.equal(modeOf(root, TLS_PATHS.caKey), 0o600);
  t.equal(modeOf(root, TLS_PATHS.serverKey), 0o600);
  t.equal(modeOf(root, TLS_PATHS.caCert), 0o644);
  t.equal(modeOf(root, TLS_PATHS.serverCert), 0o644);
  t.equal(r.caCert, read(root, TLS_PATHS.caCert));

  const ca = cert(root, TLS_PATHS.caCert);
  t.equal(ca.ca, true);
  t.equal(ca.subject, 'CN=ovactl appliance CA haproxy.example.test');
  t.ok(ca.checkPrivateKey(createPrivateKey(read(root, TLS_PATHS.caKey))), 'ca.key is the key of ca.crt');
  t.ok(new Date(ca.validTo).getTime() - Date.now() > 3640 * DAY, 'the CA is valid for 10 years');
  t.match(ca.toLegacyObject(), { asn1Curve: 'prime256v1' });

  t.ok(verifies(root, join(root, TLS_PATHS.caCert)), 'openssl verify -CAfile ca.crt server.crt');
  const leaf = cert(root);
  t.same(sans(leaf), ['DNS:haproxy.example.test', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:192.0.2.10']);
  t.ok(leaf.checkPrivateKey(createPrivateKey(read(root, TLS_PATHS.serverKey))), 'server.key is the key of server.crt');
  t.equal(leaf.ca, false);
  t.same(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extendedKeyUsage serverAuth');
  t.equal(leaf.issuer, ca.subject);
  const days = (new Date(leaf.validTo).getTime() - Date.now()) / DAY;
  t.ok(days > 728 && days <= 730, `the server certificate is valid for 2 years (${days.toFixed(1)} days)`);
  t.equal(
    read(root, TLS_PATHS.serverCert),
    leaf.toString() + read(root, TLS_PATHS.caCert),
    'server.crt is the leaf followed by ca.crt',
  );

  t.test('the same request again rewrites nothing', async (t) => {
    const before = snapshot(root);
    const again = await ensureCertificates(root, REQ);
    t.same(again, { changed: false, caCert: r.caCert, written: [], reasons: [] });
    t.same(snapshot(root), before);
    // The same names in another spelling (case, order, duplicates, IPv4 vs canonical) are the same request.
    const respelled = await ensureCertificates(root, {
      ips: ['127.0.0.1', '192.0.2.10', '127.0.0.1'],
      dnsNames: ['localhost', 'HAProxy.Example.Test'],
    });
    t.equal(respelled.changed, false);
    t.same(snapshot(root), before);
  });

  t.test('a changed hostname or address re-issues the server certificate under the same CA', async (t) => {
    const caBefore = snapshot(root, [TLS_PATHS.caCert, TLS_PATHS.caKey]);
    const keyBefore = read(root, TLS_PATHS.serverKey);
    const renamed = await ensureCertificates(root, { ...REQ, dnsNames: ['lb.example.test', 'localhost'] });
    t.equal(renamed.changed, true);
    t.same([...renamed.written].sort(), [TLS_PATHS.serverCert, TLS_PATHS.serverKey].sort());
    t.match(renamed.reasons.join('\n'), /names/);
    t.same(sans(cert(root)), ['DNS:lb.example.test', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:192.0.2.10']);
    t.not(read(root, TLS_PATHS.serverKey), keyBefore, 'a new server key');

    const readdressed = await ensureCertificates(root, {
      ips: ['198.51.100.7', '127.0.0.1', '2001:db8::10'],
      dnsNames: ['lb.example.test', 'localhost'],
    });
    t.equal(readdressed.changed, true);
    t.same(sans(cert(root)), [
      'DNS:lb.example.test',
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:198.51.100.7',
      'IP Address:2001:DB8:0:0:0:0:0:10',
    ]);
    t.same(snapshot(root, [TLS_PATHS.caCert, TLS_PATHS.caKey]), caBefore, 'the CA is untouched');
    t.ok(verifies(root, join(root, TLS_PATHS.caCert)));
  });
});

t.test('the generated CA is kept while usable, replaced when not', async (t) => {
  const root = scratch();
  await ensureCertificates(root, REQ);
  const caBefore = snapshot(root, [TLS_PATHS.caCert, TLS_PATHS.caKey]);
  rmSync(join(root, TLS_PATHS.serverCert));
  rmSync(join(root, TLS_PATHS.serverKey));
  const r = await ensureCertificates(root, REQ);
  t.same([...r.written].sort(), [TLS_PATHS.serverCert, TLS_PATHS.serverKey].sort());
  t.same(snapshot(root, [TLS_PATHS.caCert, TLS_PATHS.caKey]), caBefore, 'missing server files do not touch the CA');

  // A ca.key that is not ca.crt's: a new CA, and a server certificate from it.
  writeFileSync(join(root, TLS_PATHS.caKey), makeCa('ec', 'other').key, { mode: 0o600 });
  const oldCa = read(root, TLS_PATHS.caCert);
  const r2 = await ensureCertificates(root, REQ);
  t.same([...r2.written].sort(), [...ALL].sort());
  t.match(r2.reasons[0], /^new CA: ca\.key is not the key of ca\.crt$/);
  t.not(read(root, TLS_PATHS.caCert), oldCa);
  t.ok(verifies(root, join(root, TLS_PATHS.caCert)));
});

t.test('a given CA is used as given and replaces a generated one', async (t) => {
  for (const [kind, given] of [
    ['EC', EC_CA],
    ['RSA', RSA_CA],
  ] as const) {
    t.test(`${kind} CA`, async (t) => {
      const root = scratch();
      const generated = await ensureCertificates(root, REQ);
      const r = await ensureCertificates(root, { ...REQ, givenCa: given });
      t.equal(r.changed, true);
      t.same([...r.written].sort(), [...ALL].sort(), 'the CA and the server certificate are replaced');
      t.match(r.reasons.join('\n'), /not signed by the CA in use/);
      t.not(r.caCert, generated.caCert);
      t.equal(read(root, TLS_PATHS.caCert), given.cert, 'ca.crt is the given certificate');
      t.equal(read(root, TLS_PATHS.caKey), given.key, 'ca.key is the given key');
      t.equal(r.caCert, given.cert);
      const caFile = join(scratch(), 'given.crt');
      writeFileSync(caFile, given.cert);
      t.ok(verifies(root, caFile), 'server.crt verifies against the given CA');
      t.same(sans(cert(root)), [
        'DNS:haproxy.example.test',
        'DNS:localhost',
        'IP Address:127.0.0.1',
        'IP Address:192.0.2.10',
      ]);

      const before = snapshot(root);
      t.equal(
        (await ensureCertificates(root, { ...REQ, givenCa: given })).changed,
        false,
        'the same given CA again changes nothing',
      );
      t.same(snapshot(root), before);
    });
  }

  t.test('switching from one given CA to another re-issues', async (t) => {
    const root = scratch();
    await ensureCertificates(root, { ...REQ, givenCa: EC_CA });
    const r = await ensureCertificates(root, { ...REQ, givenCa: RSA_CA });
    t.same([...r.written].sort(), [...ALL].sort());
    t.equal(cert(root).issuer, 'CN=test RSA CA');
  });

  t.test('a given CA whose key is not its own is refused without a word of the key', async (t) => {
    const root = scratch();
    const err = await ensureCertificates(root, { ...REQ, givenCa: { cert: EC_CA.cert, key: RSA_CA.key } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof TlsError);
    t.match((err as Error).message, /^use the given CA: the CA key is not the key of the CA certificate$/);
    t.same(tree(root), [], 'nothing written');
  });
});

t.test('a server certificate near its expiry is re-issued', async (t) => {
  const root = scratch();
  await ensureCertificates(root, REQ);
  const serial = cert(root).serialNumber;
  const later = await ensureCertificates(root, REQ, { now: new Date(Date.now() + 600 * DAY) });
  t.equal(later.changed, false, '130 days left: kept');
  const now = new Date(Date.now() + 710 * DAY);
  const r = await ensureCertificates(root, REQ, { now });
  t.equal(r.changed, true, '20 days left: re-issued');
  t.same([...r.written].sort(), [TLS_PATHS.serverCert, TLS_PATHS.serverKey].sort());
  t.match(r.reasons.join('\n'), /expires .* within 30 days/);
  const leaf = cert(root);
  t.not(leaf.serialNumber, serial, 'a new serial');
  t.ok(
    Math.abs(new Date(leaf.validTo).getTime() - (now.getTime() + 730 * DAY)) < 2000,
    'valid for 2 years from opts.now',
  );
  t.equal((await ensureCertificates(root, REQ, { now })).changed, false, 'and then kept at that time');
});

t.test('damaged server files are re-issued', async (t) => {
  const root = scratch();
  await ensureCertificates(root, REQ);
  const good = read(root, TLS_PATHS.serverCert);
  writeFileSync(
    join(root, TLS_PATHS.serverCert),
    good.replace(/^(-----BEGIN CERTIFICATE-----\n)(.{20})/, '$1AAAAAAAAAAAAAAAAAAAA'),
  );
  const r = await ensureCertificates(root, REQ);
  t.equal(r.changed, true);
  t.match(r.reasons, ['server.crt is not a readable certificate']);
  t.ok(verifies(root, join(root, TLS_PATHS.caCert)));

  writeFileSync(join(root, TLS_PATHS.serverCert), 'not a certificate\n');
  t.equal((await ensureCertificates(root, REQ)).changed, true, 'garbage');
  t.ok(verifies(root, join(root, TLS_PATHS.caCert)));

  writeFileSync(join(root, TLS_PATHS.serverKey), makeCa('ec', 'stray').key);
  const k = await ensureCertificates(root, REQ);
  t.match(k.reasons, ['server.key is not the key of server.crt']);
  t.ok(cert(root).checkPrivateKey(createPrivateKey(read(root, TLS_PATHS.serverKey))));
});

t.test('modes are repaired and hold under a strict umask', async (t) => {
  const root = scratch();
  const old = process.umask(0o077);
  t.teardown(() => process.umask(old));
  await ensureCertificates(root, REQ);
  t.equal(modeOf(root, TLS_PATHS.serverCert), 0o644, 'umask 077 does not narrow a certificate');
  t.equal((await ensureCertificates(root, REQ)).changed, false, 'so the next run sees it unchanged');
  execFileSync('chmod', ['0644', join(root, TLS_PATHS.serverKey)]);
  const r = await ensureCertificates(root, REQ);
  t.same(r.written, [TLS_PATHS.serverKey], 'a widened key mode is put back');
  t.same(r.reasons, [], 'without issuing anything');
  t.equal(modeOf(root, TLS_PATHS.serverKey), 0o600);
});

t.test('secrets stay in the key files', async (t) => {
  const root = scratch();
  await ensureCertificates(root, { ...REQ, givenCa: RSA_CA });
  const files = tree(root)
    .filter((f) => lstatSync(join(root, f)).isFile())
    .map((f) => `/${f}`);
  t.same(files.sort(), [...ALL].sort(), 'the four files and no leftover (no work folder, no temp file)');
  t.ok(
    lstatSync(join(root, SERVER_CRT_KEY_LINK)).isSymbolicLink(),
    'server.crt.key is a link, not a second copy of the key',
  );
  t.equal(readlinkSync(join(root, SERVER_CRT_KEY_LINK)), 'server.key', 'to server.key beside it');
  t.same(tree(root), ['etc', 'etc/haproxy', ...FIRST.map((p) => p.slice(1))].sort());
  const caBody = base64Body(RSA_CA.key);
  const serverBody = base64Body(read(root, TLS_PATHS.serverKey));
  for (const f of files) {
    const text = read(root, f).replace(/\n/g, '');
    if (f !== TLS_PATHS.caKey) t.notOk(text.includes(caBody), `${f} does not hold the CA key`);
    if (f !== TLS_PATHS.serverKey) t.notOk(text.includes(serverBody), `${f} does not hold the server key`);
    if (!f.endsWith('.crt')) t.equal(modeOf(root, f) & 0o077, 0, `${f} is readable by its owner only`);
  }
  t.equal(modeOf(root, '/etc/haproxy') & 0o022, 0);
});

t.test('bad requests and openssl diagnostics', async (t) => {
  const root = scratch();
  await t.rejects(
    ensureCertificates(root, { ips: ['192.0.2.300'], dnsNames: [] }),
    /check the certificate request: "192\.0\.2\.300" is not an IP address/,
  );
  await t.rejects(ensureCertificates(root, { ips: [], dnsNames: ['bad name'] }), /"bad name" is not a DNS name/);
  await t.rejects(ensureCertificates(root, { ips: ['fe80::1%eth0'], dnsNames: [] }), /not an IP address/);
  await t.rejects(ensureCertificates(root, { ips: [], dnsNames: [] }), /no IP address and no DNS name/);
  t.same(tree(root), []);

  const leaked = `unable to load key\n${EC_CA.key}\nand a dump 0a:1b:2c:3d:4e:5f:60:71:82:93:a4\n${base64Body(EC_CA.key)}`;
  const safe = redact(leaked);
  t.match(safe, /^unable to load key/);
  for (const line of EC_CA.key.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----')))
    t.notOk(safe.includes(line), 'no line of the key survives');
  t.notOk(safe.includes('0a:1b:2c:3d'), 'no hex dump survives');
  t.notOk(
    redact(`-----BEGIN PRIVATE KEY-----\n${base64Body(EC_CA.key).slice(0, 20)}`).includes(
      base64Body(EC_CA.key).slice(0, 20),
    ),
    'an unterminated block goes too',
  );
});

t.test(
  'openssl sees file names only, works in a private folder, and its failures are named and redacted',
  async (t) => {
    const real = execFileSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim();
    const bin = scratch();
    const log = join(bin, 'argv.log');
    const oldPath = process.env.PATH;
    t.teardown(() => {
      process.env.PATH = oldPath;
    });
    process.env.PATH = `${bin}:${oldPath}`;
    // A stand-in that records the mode of its working folder and its argv, then runs the real openssl.
    writeFileSync(
      join(bin, 'openssl'),
      `#!/bin/sh\nprintf '%s %s\\n' "$(stat -c %a .)" "$*" >> '${log}'\nexec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
    const root = scratch();
    await ensureCertificates(root, { ...REQ, givenCa: EC_CA });
    await ensureCertificates(root, { ...REQ, dnsNames: ['other.example.test'], givenCa: EC_CA });
    const runs = readFileSync(log, 'utf8').trim().split('\n');
    t.same(
      runs.map((l) => l.split(' ')[1]),
      ['genpkey', 'req', 'ca', 'genpkey', 'req', 'ca'],
      'key, request, signature per issue',
    );
    t.ok(
      runs.every((l) => l.startsWith('700 ')),
      'openssl always runs in a 0700 folder',
    );
    const secrets = [base64Body(EC_CA.key), base64Body(read(root, TLS_PATHS.serverKey))].flatMap(
      (b) => b.match(/.{16}/g) ?? [],
    );
    t.notOk(
      secrets.some((s) => runs.join('\n').includes(s)),
      'no key material in argv',
    );

    // A failing openssl that even prints a key on stderr.
    writeFileSync(join(bin, 'openssl'), `#!/bin/sh\ncat >&2 <<'KEY'\nsomething went wrong\n${EC_CA.key}KEY\nexit 3\n`, {
      mode: 0o755,
    });
    const fresh = scratch();
    const err = await ensureCertificates(fresh, REQ).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof TlsError);
    t.equal((err as TlsError).step, 'generate the CA key');
    t.match(
      (err as Error).message,
      /^generate the CA key: openssl genpkey exited with status 3: something went wrong\n\[PEM block removed\]$/,
    );
    t.same(tree(fresh), ['etc', 'etc/haproxy'], 'the work folder is gone, nothing written');
    const before = snapshot(root);
    await t.rejects(
      ensureCertificates(root, { ...REQ, dnsNames: ['third.example.test'], givenCa: EC_CA }),
      /^sign|^generate the server key/,
    );
    t.same(snapshot(root), before, 'a failed issue leaves the files as they were');

    process.env.PATH = bin; // no openssl at all
    rmSync(join(bin, 'openssl'));
    await t.rejects(ensureCertificates(fresh, REQ), {
      message: 'generate the CA key: the openssl command is not installed',
    });
  },
);
