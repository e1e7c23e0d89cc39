// Certificates over time (src/tls/lifetime.ts, renewal in src/tls/certificates.ts), with certificates
// made by the real openssl CLI: a server certificate that ends in 5 days is renewed from the same CA,
// one whose start lies in the future is re-issued, new ones start a day back, and a CA near its end
// is a warning that says how to replace it.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificates, renewCertificates, type CertificateRequest } from '../src/tls/certificates.js';
import { TLS_PATHS } from '../src/appliance/paths.js';
import { CA_EXPIRING, CA_WARN_DAYS, caFinding, isGeneratedCa, RENEW_BEFORE_DAYS } from '../src/tls/lifetime.js';
import { caEndingIn, serverEndingIn } from './helpers/openssl-certs.js';

const DAY = 86_400_000;
const REQ: CertificateRequest = { ips: ['192.0.2.10', '127.0.0.1'], dnsNames: ['haproxy.example.test', 'localhost'] };
const SANS = ['DNS:haproxy.example.test', 'DNS:localhost', 'IP:192.0.2.10', 'IP:127.0.0.1'];
const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-lifetime-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const read = (root: string, p: string): string => readFileSync(join(root, p), 'utf8');
const leaf = (root: string): X509Certificate => new X509Certificate(read(root, TLS_PATHS.serverCert));
const sans = (x: X509Certificate): string[] => (x.subjectAltName ?? '').split(', ').sort();
const days = (iso: string, from = Date.now()): number => (Date.parse(iso) - from) / DAY;

t.test('the thresholds are the documented ones', async (t) => {
  t.equal(RENEW_BEFORE_DAYS, 30);
  t.equal(CA_WARN_DAYS, 60);
});

t.test('new certificates start a day back (a first clock up to a day fast)', async (t) => {
  const root = scratch();
  const before = Date.now();
  await ensureCertificates(root, REQ);
  const ca = new X509Certificate(read(root, TLS_PATHS.caCert));
  for (const [name, x] of [
    ['server', leaf(root)],
    ['CA', ca],
  ] as const) {
    const back = days(x.validFrom, before);
    t.ok(back <= -0.99 && back >= -1.01, `${name} notBefore is a day before now (${back.toFixed(3)} days)`);
  }
  t.ok(isGeneratedCa(ca), 'the generated CA is recognised by its name');
  t.notOk(isGeneratedCa(new X509Certificate(caEndingIn(365).cert)), 'a given CA is not');
});

t.test('a server certificate that ends in 5 days is renewed: same CA, same key type, new validity', async (t) => {
  const root = scratch();
  await ensureCertificates(root, REQ);
  const ca = read(root, TLS_PATHS.caCert),
    caKey = read(root, TLS_PATHS.caKey);
  serverEndingIn(root, 5, SANS);
  const old = leaf(root);
  t.ok(days(old.validTo) > 4 && days(old.validTo) < 5.1, 'openssl made it end in 5 days');

  const r = await renewCertificates(root);
  if (typeof r === 'string') throw new Error(r);
  t.equal(r.changed, true);
  t.same([...r.written].sort(), [TLS_PATHS.serverCert, TLS_PATHS.serverKey].sort(), 'only the server files');
  t.same(r.reasons, [`server.crt expires ${new Date(old.validTo).toISOString()}, within 30 days`]);
  const renewed = leaf(root);
  t.equal(read(root, TLS_PATHS.caCert), ca, 'the same CA certificate');
  t.equal(read(root, TLS_PATHS.caKey), caKey, 'the same CA key');
  const caX509 = new X509Certificate(ca);
  t.ok(renewed.checkIssued(caX509) && renewed.verify(caX509.publicKey), 'signed by it');
  t.same(sans(renewed), sans(old), 'the same names');
  t.equal(renewed.publicKey.asymmetricKeyType, old.publicKey.asymmetricKeyType, 'the same key type (EC)');
  t.equal(renewed.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const left = days(renewed.validTo);
  t.ok(left > 728 && left < 730, `valid for 730 days (${left.toFixed(1)})`);

  const again = await renewCertificates(root);
  t.match(again, { changed: false, written: [] }, 'then not due');
});

t.test('a certificate whose start lies in the future is re-issued (the clock was corrected)', async (t) => {
  t.test('generated CA: the CA too, which no client could use yet', async (t) => {
    const root = scratch();
    // The first boot's clock was 3 days fast: both start 2 days after the real now.
    await ensureCertificates(root, REQ, { now: new Date(Date.now() + 3 * DAY) });
    t.ok(days(leaf(root).validFrom) > 1.9, 'made to start in the future');
    const oldCa = read(root, TLS_PATHS.caCert);
    const r = await renewCertificates(root);
    if (typeof r === 'string') throw new Error(r);
    t.equal(r.changed, true);
    t.match(r.reasons, [/^new CA: ca\.crt is not valid before /]);
    t.not(read(root, TLS_PATHS.caCert), oldCa);
    t.ok(days(leaf(root).validFrom) < 0, 'the new certificate is valid now');
    t.ok(days(new X509Certificate(read(root, TLS_PATHS.caCert)).validFrom) < 0, 'and so is the new CA');
  });
  t.test('given CA: kept, the server certificate re-issued from it', async (t) => {
    const root = scratch();
    const given = caEndingIn(365, 'given CA');
    await ensureCertificates(root, { ...REQ, givenCa: given });
    rmSync(join(root, TLS_PATHS.serverCert));
    await ensureCertificates(root, { ...REQ, givenCa: given }, { now: new Date(Date.now() + 3 * DAY) });
    t.ok(days(leaf(root).validFrom) > 1.9, 'made to start in the future');
    const r = await renewCertificates(root);
    if (typeof r === 'string') throw new Error(r);
    t.same(r.written, [TLS_PATHS.serverKey, TLS_PATHS.serverCert]);
    t.match(r.reasons, [/^server\.crt is not valid before /]);
    t.equal(read(root, TLS_PATHS.caCert), given.cert, 'the given CA stays');
    t.ok(days(leaf(root).validFrom) < 0);
  });
});

t.test('a CA near its end: a warning from 60 days before, with how to replace it', async (t) => {
  const seventy = new X509Certificate(caEndingIn(70).cert);
  const fifty = new X509Certificate(caEndingIn(50, 'Corp CA').cert);
  // A minute after they were made: "in 49 days" whatever the time openssl took (a clock read before it
  // made them, on a loaded machine, put the end more than 50 whole days ahead).
  let now = new Date(Date.now() + 60_000);
  t.equal(caFinding(seventy, now), undefined, '70 days left: nothing');
  const given = caFinding(fifty, now);
  t.match(given, { severity: 'warning', rule: CA_EXPIRING, keys: ['appliance.ca_cert'] });
  t.match(given?.message, /^the given CA \(appliance\.ca_cert, CN=Corp CA\) ends on \d{4}-\d\d-\d\d, in 49 days/);
  t.match(given?.hint, /appliance\.ca_cert and appliance\.ca_cert_key/);
  t.match(given?.hint, /power it on/);
  t.match(given?.hint, /the Supervisor must then be given the new CA/);

  // The generated CA lives 3650 days: made 3600 days ago, it has 50 left.
  const root = scratch();
  await ensureCertificates(root, REQ, { now: new Date(Date.now() - 3600 * DAY) });
  now = new Date(Date.now() + 60_000);
  const generated = caFinding(new X509Certificate(read(root, TLS_PATHS.caCert)), now);
  t.match(generated, { rule: CA_EXPIRING, keys: [] });
  t.match(generated?.message, /the CA the appliance generated \(\/etc\/haproxy\/ca\.crt\) ends on .*in 49 days/);
  t.match(generated?.hint, /remove \/etc\/haproxy\/ca\.crt and ca\.key and reboot/);
  const kept = await renewCertificates(root);
  t.match(kept, { written: [TLS_PATHS.serverKey, TLS_PATHS.serverCert] }, 'its server certificate (ended) is renewed');
  t.match(
    caFinding(new X509Certificate(read(root, TLS_PATHS.caCert)), now),
    { rule: CA_EXPIRING },
    'the generated CA is not replaced before its end',
  );

  t.test('once ended, a generated CA is replaced', async (t) => {
    const r = await renewCertificates(root, { now: new Date(Date.now() + 60 * DAY) });
    if (typeof r === 'string') throw new Error(r);
    t.match(r.reasons, [/^new CA: ca\.crt is expired /]);
    t.equal(caFinding(new X509Certificate(read(root, TLS_PATHS.caCert)), new Date(Date.now() + 60 * DAY)), undefined);
  });
});

t.test('nothing to renew without a server certificate', async (t) => {
  t.equal(await renewCertificates(scratch()), '/etc/haproxy/server.crt is missing');
});
