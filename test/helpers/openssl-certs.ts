// Certificates made by the real openssl CLI for the tests of certificates over time: a CA that ends
// on a chosen day, and a server certificate from the appliance's CA files that ends in N days.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (dir: string, args: string[]): void => {
  const env = { ...process.env, OPENSSL_CONF: '/dev/null' };
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
};

function inScratch<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-openssl-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A self-signed EC CA valid from now for `days` days. */
export function caEndingIn(days: number, cn = 'test CA'): { cert: string; key: string } {
  return inScratch((dir) => {
    run(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      `/CN=${cn}`,
      '-days',
      String(days),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
  });
}

/**
 * Replaces server.crt/server.key under root with a certificate from root's ca.crt/ca.key, for exactly
 * `sans` (e.g. ['DNS:localhost', 'IP:127.0.0.1']) and otherwise as the appliance issues it, valid from
 * now for `days` days: only its end differs from a fresh one.
 */
export function serverEndingIn(root: string, days: number, sans: readonly string[]): void {
  inScratch((dir) => {
    writeFileSync(
      join(dir, 'ext.cnf'),
      [
        '[server]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = serverAuth',
        `subjectAltName = ${sans.join(', ')}`,
        '',
      ].join('\n'),
    );
    run(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'server.key']);
    run(dir, ['req', '-new', '-key', 'server.key', '-subj', '/CN=test server', '-out', 'server.csr']);
    run(dir, [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      join(root, 'etc/haproxy/ca.crt'),
      '-CAkey',
      join(root, 'etc/haproxy/ca.key'),
      '-set_serial',
      '4711',
      '-days',
      String(days),
      '-extfile',
      'ext.cnf',
      '-extensions',
      'server',
      '-out',
      'server.crt',
    ]);
    const ca = readFileSync(join(root, 'etc/haproxy/ca.crt'), 'utf8');
    writeFileSync(join(root, 'etc/haproxy/server.key'), readFileSync(join(dir, 'server.key'), 'utf8'), { mode: 0o600 });
    writeFileSync(join(root, 'etc/haproxy/server.crt'), readFileSync(join(dir, 'server.crt'), 'utf8') + ca);
  });
}
