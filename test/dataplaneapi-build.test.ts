// build/dataplaneapi.sh, offline: the pinned release "downloaded" from a file:// release folder
// (curl, the same code path as an online build), verified against checksums.txt or the pinned
// sha256, a local tarball or binary, DATAPLANEAPI=none, and the version gate (2.3 ≤ v < 3). The
// binary here is a stand-in (test code) that prints a version, as `dataplaneapi --version` does.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/values.js';

const SCRIPT = join(ROOT, 'build/dataplaneapi.sh');
const dir = mkdtempSync(join(tmpdir(), 'ovactl-dpapi-build-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const ASSET = 'dataplaneapi_2.9.27_linux_x86_64.tar.gz';

/** A release folder like GitHub's: v<version>/<asset> and checksums.txt, with a stand-in binary. */
function release(
  name: string,
  version: string,
  opts: { badChecksum?: boolean; runs?: boolean } = {},
): { base: string; tgz: string; bin: string } {
  const base = join(dir, name);
  const stage = join(base, 'stage');
  const rel = join(base, 'v2.9.27');
  mkdirSync(stage, { recursive: true });
  mkdirSync(rel, { recursive: true });
  const bin = join(stage, 'dataplaneapi');
  writeFileSync(
    bin,
    opts.runs === false
      ? 'not a program\n'
      : `#!/bin/sh\necho "HAProxy Data Plane API v${version} 1a2b3c4 (a build stand-in)"\n`,
  );
  chmodSync(bin, opts.runs === false ? 0o644 : 0o755);
  writeFileSync(join(stage, 'LICENSE'), 'Apache-2.0\n');
  const tgz = join(rel, ASSET);
  spawnSync('tar', ['-czf', tgz, '-C', stage, 'dataplaneapi', 'LICENSE']);
  writeFileSync(
    join(rel, 'checksums.txt'),
    `${opts.badChecksum ? '0'.repeat(64) : sha(tgz)}  ${ASSET}\nffff  other.tar.gz\n`,
  );
  return { base, tgz, bin };
}

function pin(name: string, base: string, sha256 = ''): string {
  const p = join(dir, `${name}.pin`);
  writeFileSync(
    p,
    `DATAPLANEAPI_VERSION=2.9.27\nDATAPLANEAPI_ASSET=${ASSET}\nDATAPLANEAPI_RELEASES=file://${base}\nDATAPLANEAPI_SHA256=${sha256}\n`,
  );
  return p;
}

function install(name: string, env: Record<string, string>) {
  const root = join(dir, `root-${name}`);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DATAPLANEAPI')));
  const r = spawnSync('bash', [SCRIPT, 'install', root], {
    encoding: 'utf8',
    env: { ...base, ...env } as NodeJS.ProcessEnv,
    timeout: 60_000,
  });
  const bin = join(root, 'usr/local/bin/dataplaneapi');
  const info = join(root, 'usr/lib/ovactl/build-info.json');
  return {
    code: r.status,
    out: `${r.stdout}${r.stderr}`,
    bin,
    installed: existsSync(bin),
    info: existsSync(info) ? JSON.parse(readFileSync(info, 'utf8')) : undefined,
  };
}

t.test('online path: downloaded, verified against checksums.txt, installed 0755, version recorded', async (t) => {
  const r1 = release('ok', '2.9.27');
  const r = install('ok', { DATAPLANEAPI_PIN: pin('ok', r1.base) });
  t.equal(r.code, 0, r.out);
  t.ok(r.installed);
  t.equal(statSync(r.bin).mode & 0o777, 0o755);
  t.same(r.info, { dataplaneapi: '2.9.27', pinned: '2.9.27' });
  t.match(r.out, new RegExp(`pin it: DATAPLANEAPI_SHA256=${sha(r1.tgz)}`), 'says the sha256 to pin');
});

t.test('a tarball that does not match: refused, nothing installed', async (t) => {
  const bad = release('badsum', '2.9.27', { badChecksum: true });
  const r = install('badsum', { DATAPLANEAPI_PIN: pin('badsum', bad.base) });
  t.equal(r.code, 1);
  t.match(r.out, /checksums\.txt says 0{64}/);
  t.notOk(r.installed);
  const pinned = release('pinwins', '2.9.27', { badChecksum: true });
  const ok = install('pinwins', { DATAPLANEAPI_PIN: pin('pinwins', pinned.base, sha(pinned.tgz)) });
  t.equal(ok.code, 0, `a pinned sha256 takes precedence over checksums.txt: ${ok.out}`);
  const wrongPin = install('wrongpin', {
    DATAPLANEAPI_PIN: pin('wrongpin', release('wp', '2.9.27').base, 'a'.repeat(64)),
  });
  t.equal(wrongPin.code, 1, 'a pin that does not match fails even when checksums.txt matches');
  t.match(wrongPin.out, /the pin says a{64}/);
});

t.test('offline: a local tarball (checked against the pin) or the binary; no download', async (t) => {
  const r1 = release('local', '2.9.27');
  const unreachable = pin('local', join(dir, 'no-such-release'));
  t.equal(install('tgz', { DATAPLANEAPI_PIN: unreachable, DATAPLANEAPI: r1.tgz }).code, 0, 'a local tarball');
  t.equal(
    install('tgzpin', { DATAPLANEAPI_PIN: pin('tgzpin', join(dir, 'x'), 'b'.repeat(64)), DATAPLANEAPI: r1.tgz }).code,
    1,
    'a local tarball against a pin that does not match',
  );
  const bin = install('bin', { DATAPLANEAPI_PIN: unreachable, DATAPLANEAPI: r1.bin });
  t.equal(bin.code, 0, bin.out);
  t.equal(readFileSync(bin.bin, 'utf8'), readFileSync(r1.bin, 'utf8'), 'the binary as given');
  const old = install('oldname', { DATAPLANEAPI_PIN: unreachable, DATAPLANEAPI_BIN: r1.bin });
  t.equal(old.code, 0, 'DATAPLANEAPI_BIN (the older name) still works');
  const missing = install('missing', { DATAPLANEAPI_PIN: unreachable });
  t.equal(missing.code, 1, 'no file and no network: the build fails');
  t.match(
    missing.out,
    /could not download .*offline\? give a local file with DATAPLANEAPI=PATH \(or DATAPLANEAPI=none\)/,
  );
  t.notOk(missing.installed);
});

t.test('the version gate: 2.3 ≤ v < 3, and it must run', async (t) => {
  const unreachable = pin('gate', join(dir, 'no-such-release'));
  for (const [version, ok] of [
    ['2.3.0', true],
    ['2.9.27', true],
    ['2.2.9', false],
    ['3.0.1', false],
    ['1.9', false],
  ] as const) {
    const r = install(`v${version}`, {
      DATAPLANEAPI_PIN: unreachable,
      DATAPLANEAPI: release(`v${version}`, version).bin,
    });
    t.equal(r.code === 0, ok, `${version}: ${ok ? 'installed' : 'refused'}`, { out: r.out });
    if (!ok) t.match(r.out, /needs 2\.3 or later and below 3/);
  }
  const broken = install('broken', {
    DATAPLANEAPI_PIN: unreachable,
    DATAPLANEAPI: release('broken', '2.9.27', { runs: false }).bin,
  });
  t.equal(broken.code, 1);
  t.match(broken.out, /does not run/);
});

t.test('DATAPLANEAPI=none: said in the build information, no binary', async (t) => {
  const r = install('none', { DATAPLANEAPI_PIN: pin('none', join(dir, 'x')), DATAPLANEAPI: 'none' });
  t.equal(r.code, 0, r.out);
  t.notOk(r.installed);
  t.same(r.info, { dataplaneapi: 'none', pinned: '2.9.27' });
});

t.test('the pin file names a 2.x version, its asset and a sha256 slot', async (t) => {
  const text = readFileSync(join(ROOT, 'build/dataplaneapi.pin'), 'utf8');
  const v = /^DATAPLANEAPI_VERSION=2\.(\d+)\.\d+$/m.exec(text);
  t.ok(v && Number(v[1]) >= 3, 'a 2.x version ≥ 2.3');
  t.match(text, /^DATAPLANEAPI_ASSET=dataplaneapi_2\.\d+\.\d+_linux_x86_64\.tar\.gz$/m);
  t.match(text, /^DATAPLANEAPI_SHA256=([0-9a-f]{64})?$/m);
});

t.test(
  'the Data Plane API stand-in (test code) installs as the image binary: one file, runs without an extension',
  async (t) => {
    // As the VM test and the nspawn rig use it: DATAPLANEAPI=<the .cjs file>, the repository's own pin. The
    // script runs the copy (extensionless, outside the repository's "type": "module") for its version.
    const root = join(dir, 'root-standin');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DATAPLANEAPI')));
    const r = spawnSync('bash', ['build/dataplaneapi.sh', 'install', root], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...env, DATAPLANEAPI: 'test/standin/dataplaneapi.cjs' } as NodeJS.ProcessEnv,
    });
    t.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const bin = join(root, 'usr/local/bin/dataplaneapi');
    t.equal(statSync(bin).mode & 0o777, 0o755, 'installed 0755');
    t.equal(sha(bin), sha(join(ROOT, 'test/standin/dataplaneapi.cjs')), 'the stand-in itself, one file');
    t.same(JSON.parse(readFileSync(join(root, 'usr/lib/ovactl/build-info.json'), 'utf8')), {
      dataplaneapi: '2.9.27',
      pinned: '2.9.27',
    });
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8', cwd: tmpdir() });
    t.equal(v.status, 0, v.stderr);
    t.match(v.stdout, /^HAProxy Data Plane API v2\.9\.27 stand-in/, 'the installed copy runs by itself');
  },
);
