// The Data Plane API's TLS material on the appliance: a CA (the one given in appliance.ca_cert /
// appliance.ca_cert_key, or one generated here and kept) and a server certificate it signs for the
// management address and hostname. Files are left alone while they still fit the request, so a
// reboot with the same values changes nothing.
//
//   /etc/haproxy/ca.crt      0644  the CA certificate(s): the given PEM (certificate blocks only) or the generated CA
//   /etc/haproxy/ca.key      0600  the CA key
//   /etc/haproxy/server.crt  0644  the server (leaf) certificate FOLLOWED BY ca.crt, so clients that
//                                  trust a root above a given intermediate CA still get a full chain
//   /etc/haproxy/server.key  0600  the server key (EC P-256, new at every issue)
//   /etc/haproxy/server.crt.key     a link to server.key: where haproxy (3.0 as 2.6) looks for the key of
//                                  `crt server.crt` (the metrics frontend), so the key exists once
//
// Over time (lifetime.ts): the server certificate is renewed within 30 days of its end or when its
// start lies in the future; certificates start a day before `now`; a kept CA out of its time is replaced.
//
// Certificates are made by the openssl CLI (genpkey, req, ca) in a private work folder under
// /etc/haproxy; keys only ever travel through files in it (0600 in a 0700 folder), never argv or
// stdio, and are written to their place with atomic 0600 writes. node:crypto only inspects.
import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseIp } from '../net/ip.js';
import { template } from '../render/templates.js';
import { SERVER_CRT_KEY_LINK, TLS_PATHS } from '../appliance/paths.js';
import { pemBlocks } from '../properties/pem.js';
import { currentContent as readRegular, writeFileAtomic } from '../core/atomic-write.js';
import { TlsError, openssl, withWorkDir, writePrivate } from './openssl.js';
import {
  BACKDATE_DAYS,
  DAY_MS,
  GENERATED_CA_CN,
  RENEW_BEFORE_DAYS,
  isGeneratedCa,
  outOfTime,
  renewDue,
} from './lifetime.js';

export { TlsError } from './openssl.js';

export interface CertificateRequest {
  /** SAN IP addresses, e.g. ['192.0.2.10', '127.0.0.1']. */
  readonly ips: readonly string[];
  /** SAN DNS names, e.g. ['haproxy.example.test', 'localhost']. */
  readonly dnsNames: readonly string[];
  /** The CA to sign with (PEM, already validated and repaired); absent: generate one, or keep the one there. */
  readonly givenCa?: { readonly cert: string; readonly key: string };
}

export interface CertificateResult {
  /** Whether any file under root was (re)written. */
  readonly changed: boolean;
  /** PEM of the CA in use (ca.crt), to publish base64 to guestinfo.dataplaneapi.cacert. */
  readonly caCert: string;
  /** Appliance paths written, e.g. '/etc/haproxy/server.crt'. */
  readonly written: readonly string[];
  /** Why certificates were made, for the log (empty when nothing was issued). Never holds key material. */
  readonly reasons: readonly string[];
}

const DAY = DAY_MS;
const CA_DAYS = 3650;
const SERVER_DAYS = 730;
/** notBefore is set this far before `now` (lifetime.ts: a first clock up to a day fast, before NTP). */
const BACKDATE_MS = BACKDATE_DAYS * DAY_MS;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

// ─── the request ──────────────────────────────────────────────────────────────────────────────────

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

interface Names {
  readonly ips: readonly string[]; // canonical text (src/net/ip.ts)
  readonly dns: readonly string[]; // as requested, without case-insensitive duplicates
  /** `IP:<canonical>` and `DNS:<lower case>`: what a certificate's SAN set is compared with. */
  readonly sans: ReadonlySet<string>;
}

function requestNames(req: CertificateRequest): Names {
  const ips: string[] = [];
  const dns: string[] = [];
  const sans = new Set<string>();
  for (const text of req.ips) {
    const ip = parseIp(text);
    if (!ip) throw new TlsError('check the certificate request', `${JSON.stringify(text)} is not an IP address`);
    if (!sans.has(`IP:${ip.text}`)) ips.push(ip.text);
    sans.add(`IP:${ip.text}`);
  }
  for (const raw of req.dnsNames) {
    const name = raw.trim();
    if (name.length > 253 || !DNS_NAME.test(name))
      throw new TlsError('check the certificate request', `${JSON.stringify(raw)} is not a DNS name`);
    if (!sans.has(`DNS:${name.toLowerCase()}`)) dns.push(name);
    sans.add(`DNS:${name.toLowerCase()}`);
  }
  if (!sans.size)
    throw new TlsError(
      'check the certificate request',
      'no IP address and no DNS name to put in the server certificate',
    );
  return { ips, dns, sans };
}

/**
 * The SAN set of a certificate in the form of Names.sans; entries of other kinds are kept as they are
 * (never equal).
 */
function sansOf(x509: X509Certificate): Set<string> {
  const out = new Set<string>();
  for (const entry of (x509.subjectAltName ?? '').split(', ').filter(Boolean)) {
    if (entry.startsWith('DNS:')) out.add(`DNS:${entry.slice(4).toLowerCase()}`);
    else if (entry.startsWith('IP Address:')) out.add(`IP:${parseIp(entry.slice(11))?.text ?? entry}`);
    else out.add(`other:${entry}`);
  }
  return out;
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  a.size === b.size && [...a].every((x) => b.has(x));

// ─── reading what is there ────────────────────────────────────────────────────────────────────────

interface Ca {
  /** ca.crt: the certificate blocks, canonical PEM; the first is the signing CA. */
  readonly certPem: string;
  /** ca.key: one private key block, canonical PEM. */
  readonly keyPem: string;
  readonly x509: X509Certificate;
}

const certificates = (pem: string): string =>
  pemBlocks(pem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.text)
    .join('');

/** A usable CA from PEM text, or why it is not one (never quoting the key). */
function loadCa(certText: string | undefined, keyText: string | undefined): Ca | string {
  if (certText === undefined) return 'ca.crt is missing';
  if (keyText === undefined) return 'ca.key is missing';
  const certPem = certificates(certText);
  if (!certPem) return 'ca.crt holds no certificate';
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch {
    return 'ca.crt is not a readable certificate';
  }
  if (!x509.ca) return 'ca.crt is not a CA certificate';
  const keyBlock = pemBlocks(keyText).find((b) => KEY_LABELS.has(b.label));
  if (!keyBlock) return 'ca.key holds no unencrypted private key';
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlock.text);
  } catch {
    return 'ca.key is not a readable private key';
  }
  if (!x509.checkPrivateKey(key)) return 'ca.key is not the key of ca.crt';
  return { certPem, keyPem: keyBlock.text, x509 };
}

/** Why the server certificate must be issued again; empty when it still fits. */
function serverProblems(
  certText: string | undefined,
  keyText: string | undefined,
  ca: Ca,
  names: Names,
  now: Date,
): string[] {
  if (certText === undefined) return ['server.crt is missing'];
  const leafBlock = pemBlocks(certText).find((b) => b.label === 'CERTIFICATE');
  let leaf: X509Certificate;
  try {
    if (!leafBlock) throw new Error('no certificate');
    leaf = new X509Certificate(leafBlock.text);
  } catch {
    return ['server.crt is not a readable certificate'];
  }
  const problems: string[] = [];
  if (!leaf.checkIssued(ca.x509) || !leaf.verify(ca.x509.publicKey))
    problems.push('server.crt is not signed by the CA in use');
  else if (certText !== leafBlock!.text + ca.certPem)
    problems.push('server.crt does not end with the CA certificate in use');
  const has = sansOf(leaf);
  if (!sameSet(has, names.sans))
    problems.push(
      `server.crt names ${[...has].sort().join(', ') || 'nothing'}, the request ${[...names.sans].sort().join(', ')}`,
    );
  const to = new Date(leaf.validTo);
  const from = new Date(leaf.validFrom);
  if (renewDue(leaf, now)) problems.push(`server.crt expires ${to.toISOString()}, within ${RENEW_BEFORE_DAYS} days`);
  if (!(from <= now)) problems.push(`server.crt is not valid before ${from.toISOString()}`);
  if (leaf.ca) problems.push('server.crt is a CA certificate');
  if (!(leaf.keyUsage ?? []).includes(SERVER_AUTH)) problems.push('server.crt is not for serverAuth');
  const keyBlock = keyText === undefined ? undefined : pemBlocks(keyText).find((b) => KEY_LABELS.has(b.label));
  let key: KeyObject | undefined;
  try {
    if (keyBlock && keyText === keyBlock.text) key = createPrivateKey(keyBlock.text);
  } catch {
    key = undefined;
  }
  if (!key) problems.push(keyText === undefined ? 'server.key is missing' : 'server.key is not a readable private key');
  else if (!leaf.checkPrivateKey(key)) problems.push('server.key is not the key of server.crt');
  return problems;
}

// ─── making certificates (openssl) ────────────────────────────────────────────────────────────────

/** openssl's time form, GeneralizedTime (`openssl ca` writes UTCTime before 2050 itself). */
const asn1Time = (d: Date): string =>
  d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');

/** A positive 128-bit serial, hex, as the serial file of `openssl ca` wants it. */
const serialHex = (): string => {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex').toUpperCase();
};

/** The CN of the generated CA: names the appliance (the requested hostname, else the machine's). */
function caCommonName(names: Names): string {
  const host =
    names.dns.find((d) => d.toLowerCase() !== 'localhost' && !d.startsWith('*')) ??
    hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  return `${GENERATED_CA_CN} ${host}`.slice(0, 64).trim();
}

function serverCommonName(names: Names): string {
  return [...names.dns, ...names.ips].find((n) => n.length <= 64) ?? 'ovactl appliance';
}

/**
 * One configuration for `openssl req` (the DN of the request it makes) and `openssl ca` (a throwaway
 * database in the work folder, and the extensions of both certificates). Values are validated names,
 * so nothing here needs quoting.
 */
function config(commonName: string, names: Names): string {
  const numbered = (xs: readonly string[]) => xs.map((name, i) => ({ n: i + 1, name }));
  return template('tls/openssl.cnf')({ commonName, dns: numbered(names.dns), ips: numbered(names.ips) });
}

const ecKey = (out: string): string[] => [
  'genpkey',
  '-algorithm',
  'EC',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-pkeyopt',
  'ec_param_enc:named_curve',
  '-out',
  out,
];

/** `openssl ca`: signs `csr` from `now - BACKDATE_DAYS` to `now + days`, with the extension section `ext`. */
async function sign(
  work: string,
  step: string,
  cnf: string,
  csr: string,
  out: string,
  ext: string,
  now: Date,
  days: number,
  issuer: string[],
): Promise<void> {
  writePrivate(work, 'index.txt', '');
  writePrivate(work, 'serial', `${serialHex()}\n`);
  await openssl(work, step, [
    'ca',
    '-batch',
    '-notext',
    '-config',
    cnf,
    ...issuer,
    '-in',
    csr,
    '-out',
    out,
    '-extensions',
    ext,
    '-md',
    'sha256',
    '-startdate',
    asn1Time(new Date(now.getTime() - BACKDATE_MS)),
    '-enddate',
    asn1Time(new Date(now.getTime() + days * DAY)),
  ]);
  // The database of this one signing goes: the next one starts afresh.
  for (const f of ['index.txt', 'index.txt.attr', 'index.txt.old', 'index.txt.attr.old', 'serial', 'serial.old'])
    rmSync(join(work, f), { force: true });
}

const readWork = (work: string, name: string): string => readFileSync(join(work, name), 'utf8');

/** A new CA in the work folder (ca.key, ca.crt): EC P-256, self-signed, 10 years. */
async function generateCa(work: string, names: Names, now: Date): Promise<Ca> {
  writePrivate(work, 'ca.cnf', config(caCommonName(names), names));
  await openssl(work, 'generate the CA key', ecKey('ca.key'));
  await openssl(work, 'make the CA certificate request', [
    'req',
    '-new',
    '-config',
    'ca.cnf',
    '-key',
    'ca.key',
    '-out',
    'ca.csr',
  ]);
  await sign(work, 'self-sign the CA certificate', 'ca.cnf', 'ca.csr', 'ca.crt', 'ca_ext', now, CA_DAYS, [
    '-selfsign',
    '-keyfile',
    'ca.key',
  ]);
  const ca = loadCa(readWork(work, 'ca.crt'), readWork(work, 'ca.key'));
  if (typeof ca === 'string') throw new TlsError('self-sign the CA certificate', `openssl made an unusable CA (${ca})`);
  return ca;
}

/**
 * A new server key and certificate signed by `ca` (whose key and first certificate are ca.key and
 * ca.crt in `work`).
 */
async function issueServer(work: string, ca: Ca, names: Names, now: Date): Promise<{ cert: string; key: string }> {
  writePrivate(work, 'server.cnf', config(serverCommonName(names), names));
  await openssl(work, 'generate the server key', ecKey('server.key'));
  await openssl(work, 'make the server certificate request', [
    'req',
    '-new',
    '-config',
    'server.cnf',
    '-key',
    'server.key',
    '-out',
    'server.csr',
  ]);
  await sign(
    work,
    'sign the server certificate',
    'server.cnf',
    'server.csr',
    'server.crt',
    'server_ext',
    now,
    SERVER_DAYS,
    ['-cert', 'ca.crt', '-keyfile', 'ca.key'],
  );
  const leaf = pemBlocks(readWork(work, 'server.crt')).find((b) => b.label === 'CERTIFICATE');
  const key = pemBlocks(readWork(work, 'server.key')).find((b) => KEY_LABELS.has(b.label));
  if (!leaf || !key) throw new TlsError('sign the server certificate', 'openssl wrote no certificate or no key');
  return { cert: leaf.text + ca.certPem, key: key.text };
}

// ─── the whole ────────────────────────────────────────────────────────────────────────────────────

/** server.crt.key → server.key (relative), replaced atomically when it is anything else. Returns whether it changed. */
function linkKeyForHaproxy(link: string): boolean {
  try {
    if (readlinkSync(link) === 'server.key') return false;
  } catch {
    // missing, or not a link: (re)made below
  }
  const tmp = `${link}.ovactl-new`;
  rmSync(tmp, { force: true });
  symlinkSync('server.key', tmp);
  renameSync(tmp, link);
  return true;
}

/**
 * Makes the four files under `root` fit `req`: the CA (given, else the one there when it is usable,
 * else a new one) and a server certificate signed by it for exactly the requested names, issued
 * again only when missing, unreadable, signed by another CA, naming other names, for another key,
 * not yet valid, or expiring within 30 days. `opts.now` is the clock for both the checks and the
 * validity of new certificates. Throws a TlsError (request not usable, given CA unusable, an openssl
 * step failed) whose message never holds key material; on a throw no file has been changed.
 */
export async function ensureCertificates(
  root: string,
  req: CertificateRequest,
  opts: { now?: Date } = {},
): Promise<CertificateResult> {
  const now = opts.now ?? new Date();
  const names = requestNames(req);
  const at = (p: string): string => join(root, p);
  const current = {
    caCert: readRegular(at(TLS_PATHS.caCert)),
    caKey: readRegular(at(TLS_PATHS.caKey)),
    serverCert: readRegular(at(TLS_PATHS.serverCert)),
    serverKey: readRegular(at(TLS_PATHS.serverKey)),
  };
  const reasons: string[] = [];

  let ca: Ca | undefined;
  if (req.givenCa) {
    const given = loadCa(req.givenCa.cert, req.givenCa.key);
    if (typeof given === 'string')
      throw new TlsError(
        'use the given CA',
        given.replace(/ca\.crt/g, 'the CA certificate').replace(/ca\.key/g, 'the CA key'),
      );
    ca = given;
  } else {
    const kept = loadCa(current.caCert, current.caKey);
    // A kept CA out of its time serves no client: a new one (lifetime.ts says why not before its end).
    const late = typeof kept === 'string' ? undefined : outOfTime(kept.x509, now);
    if (typeof kept === 'string') reasons.push(`new CA: ${kept}`);
    else if (late) reasons.push(`new CA: ca.crt is ${late}`);
    else ca = kept;
  }

  let server = { cert: current.serverCert ?? '', key: current.serverKey ?? '' };
  if (ca) reasons.push(...serverProblems(current.serverCert, current.serverKey, ca, names, now));
  if (!ca || reasons.length) {
    [ca, server] = await withWorkDir(at('/etc/haproxy'), async (work) => {
      let signer = ca;
      if (signer) {
        writePrivate(work, 'ca.key', signer.keyPem);
        writePrivate(work, 'ca.crt', pemBlocks(signer.certPem)[0]!.text);
      } else {
        signer = await generateCa(work, names, now);
      }
      return [signer, await issueServer(work, signer, names, now)] as const;
    });
  }

  // Keys before their certificates: a crash in between leaves a pair that does not match, which the
  // next run sees and repairs.
  const files: [string, string, number][] = [
    [TLS_PATHS.caKey, ca.keyPem, 0o600],
    [TLS_PATHS.caCert, ca.certPem, 0o644],
    [TLS_PATHS.serverKey, server.key, 0o600],
    [TLS_PATHS.serverCert, server.cert, 0o644],
  ];
  const written = files
    .filter(([path, content, mode]) => writeFileAtomic(at(path), content, mode))
    .map(([path]) => path);
  if (linkKeyForHaproxy(at(SERVER_CRT_KEY_LINK))) written.push(SERVER_CRT_KEY_LINK);
  return { changed: written.length > 0, caCert: ca.certPem, written, reasons };
}

/**
 * The timer's renewal (ovactl certificates renew): the certificate in use again, for the names it
 * carries and from the CA in use, when ensureCertificates would re-issue it (within 30 days of its
 * end, not yet valid, damaged key). The CA on disk is kept as given unless the appliance generated
 * it (isGeneratedCa), which is then treated as first boot treats it. Reads no deploy values: the
 * values applied at the last boot are the ones on disk. A string: why there is no certificate to renew.
 */
export async function renewCertificates(root: string, opts: { now?: Date } = {}): Promise<CertificateResult | string> {
  const at = (p: string): string => join(root, p);
  const certText = readRegular(at(TLS_PATHS.serverCert));
  const block = certText === undefined ? undefined : pemBlocks(certText).find((b) => b.label === 'CERTIFICATE');
  let leaf: X509Certificate;
  try {
    if (!block) throw new Error('none');
    leaf = new X509Certificate(block.text);
  } catch {
    return `${TLS_PATHS.serverCert} is ${certText === undefined ? 'missing' : 'not a readable certificate'}`;
  }
  const ips: string[] = [];
  const dnsNames: string[] = [];
  for (const san of sansOf(leaf)) {
    if (san.startsWith('IP:')) ips.push(san.slice(3));
    else if (san.startsWith('DNS:')) dnsNames.push(san.slice(4));
  }
  const ca = loadCa(readRegular(at(TLS_PATHS.caCert)), readRegular(at(TLS_PATHS.caKey)));
  const givenCa = typeof ca !== 'string' && !isGeneratedCa(ca.x509) ? { cert: ca.certPem, key: ca.keyPem } : undefined;
  return ensureCertificates(root, { ips, dnsNames, ...(givenCa ? { givenCa } : {}) }, opts);
}
