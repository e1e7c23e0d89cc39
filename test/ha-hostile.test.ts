// Two appliances, hostile input: everything ovactl reads from a peer or from the pair's state file, mangled
// with fixed seeds — a peer's status answer (src/ha/decide.ts parseSide), the active's list of maps and
// certificates (src/ha/storage.ts parseStorageList), the active's raw configuration (src/ha/sync.ts),
// /run/ovactl/ha.json as `ovactl ha status`, the watcher (the status's "ha" block) and doctor read it.
// Per case: no exception, a verdict (a value or one line), nothing outside the contract.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSide } from '../src/ha/decide.js';
import { parseHaReport } from '../src/ha/state.js';
import { isListed, listStorage, parseStorageList, storageChanges } from '../src/ha/storage.js';
import { configVersion, followedConfig } from '../src/ha/sync.js';
import { parseStatus } from '../src/plan/status.js';
import { main } from '../src/cli/main.js';
import type { CommandIO } from '../src/cli/io.js';

const REPO = new URL('..', import.meta.url).pathname;
const RECORDED = join(REPO, 'test/fixtures/dataplaneapi-rewrites');
const dir = mkdtempSync(join(tmpdir(), 'ovactl-ha-hostile-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = [
  '',
  'null',
  '[]',
  '{}',
  '"active"',
  '{"role":"active"}',
  '{"role":"boss","digest":"x"}',
  '{"role":"active","digest":"x","version":1e400}',
  '{"role":"active","digest":"x","version":-1,"activeFrom":"yesterday"}',
  '{"role":"standby","digest":{"a":1}}',
  '{"__proto__":{"role":"active"},"digest":"x"}',
  `{"role":"active","digest":"${'x'.repeat(100_000)}"}`,
  '\u0000\u0001\u0002',
  '{"role":"active","digest":"x"'.repeat(1000),
];

/** Mutations of a valid text: cut, byte flips, a repeated slice, random junk. */
function mutants(text: string, seed: number, n: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (text.length + 1));
    const kind = Math.floor(r() * 4);
    if (kind === 0) out.push(text.slice(0, at));
    else if (kind === 1)
      out.push(text.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x3000)) + text.slice(at + 1));
    else if (kind === 2) out.push(text.slice(0, at) + text.slice(at, at + 40).repeat(50) + text.slice(at));
    else
      out.push(
        Array.from({ length: Math.floor(r() * 200) }, () => String.fromCharCode(Math.floor(r() * 128))).join(''),
      );
  }
  return out;
}

t.test("a peer's status answer: a side or an error, never an exception", async (t) => {
  const valid = JSON.stringify({ role: 'active', version: 7, activeFrom: 1, digest: 'abc', address: '192.0.2.20' });
  let sides = 0;
  for (const body of [...NASTY, ...mutants(valid, 26, 400)]) {
    const r = parseSide(body);
    if ('error' in r) continue;
    sides++;
    if (!['active', 'standby', 'fault'].includes(r.role) || typeof r.digest !== 'string')
      t.fail(`accepted ${JSON.stringify(body).slice(0, 80)}`);
    if (r.version !== undefined && !Number.isFinite(r.version)) t.fail('a version that is no number');
  }
  t.ok(sides > 0, `mangled answers parse to a side only when they are one (${sides} did)`);
  t.same(parseSide(valid), { role: 'active', version: 7, activeFrom: 1, activeTo: undefined, digest: 'abc' });
});

t.test("the active's list of maps and certificates: only plain names and sha256 digests", async (t) => {
  const sha = 'a'.repeat(64);
  const valid = JSON.stringify([
    { dir: 'maps', name: 'hosts.map', sha256: sha },
    { dir: 'ssl', name: 'svc.pem', sha256: sha },
  ]);
  const hostile = JSON.stringify([
    { dir: 'maps', name: '../../etc/shadow', sha256: sha },
    { dir: 'ssl', name: '.hidden', sha256: sha },
    { dir: 'etc', name: 'passwd', sha256: sha },
    { dir: 'maps', name: 'a/b', sha256: sha },
    { dir: 'maps', name: 'ok.map', sha256: 'not-a-digest' },
    { dir: 'maps', name: 'x'.repeat(300), sha256: sha },
  ]);
  t.same(parseStorageList(hostile), [], 'no path, hidden file, other folder, bad digest or long name gets through');
  t.equal(parseStorageList(valid)?.length, 2, 'a valid list is taken');
  const many = JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ dir: 'maps', name: `m${i}`, sha256: sha })));
  t.equal(parseStorageList(many)?.length, 1000, 'at most 1,000 files');
  for (const body of [...NASTY, ...mutants(valid, 27, 400)]) {
    const list = parseStorageList(body);
    if (list === undefined) continue;
    for (const f of list)
      if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/.test(f.name) || f.name.includes('/'))
        t.fail(`a name that is a path: ${f.name}`);
  }
  const { fetch, remove } = storageChanges(parseStorageList(valid)!, [{ dir: 'maps', name: 'old.map', sha256: sha }]);
  t.same(
    [fetch.map((f) => f.name), remove.map((f) => f.name)],
    [['hosts.map', 'svc.pem'], ['old.map']],
    'what differs is fetched, what the active lacks removed',
  );
  // A copy is written only when it is what the list named (listStorage's digest of the file's bytes).
  const dirs = join(dir, 'storage-root');
  mkdirSync(join(dirs, 'etc/haproxy/maps'), { recursive: true });
  writeFileSync(join(dirs, 'etc/haproxy/maps/hosts.map'), 'a.example 1\n');
  const [listed] = listStorage(dirs).filter((f) => f.name === 'hosts.map');
  t.ok(listed && isListed(listed, 'a.example 1\n'), 'the bytes the list named are taken');
  t.notOk(listed && isListed(listed, 'a.example 2\n'), 'a file changed since it was listed is not');
  t.notOk(listed && isListed(listed, ''), 'nor an empty answer');
});

t.test("the active's raw configuration, mangled: a file or nothing, in bounded work", async (t) => {
  const active = readFileSync(join(RECORDED, '04-api-third-service-one-request-each.cfg'), 'utf8');
  const current = readFileSync(join(RECORDED, '00-ovactl-first-boot.cfg'), 'utf8');
  let written = 0;
  for (const raw of [
    ...mutants(active, 28, 300),
    'global\n'.repeat(50_000),
    `${'frontend x\n  bind :1\n'.repeat(20_000)}`,
  ]) {
    const r = followedConfig({ activeRaw: raw, activeVersion: configVersion(raw) ?? 1, current });
    if (r) {
      written++;
      if (!r.content.startsWith('# _md5hash=')) t.fail('a followed file without its md5 line');
    }
  }
  t.ok(written > 0, `every mangled configuration gave a file or nothing (${written} files)`);
});

function capture(): CommandIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
  } as CommandIO & { out: string; err: string };
  return io;
}

t.test('ha.json mangled: `ovactl ha status` says one line; the status drops a bad "ha" block', async (t) => {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'run/ovactl'), { recursive: true });
  const valid = JSON.stringify({
    role: 'standby',
    address: '192.0.2.20',
    own: '192.0.2.12',
    follows: '192.0.2.20',
    version: 4,
    activeVersion: 4,
    behind: 0,
    peers: [{ address: '192.0.2.11', role: 'active' }],
    problems: [],
  });
  writeFileSync(join(root, 'run/ovactl/ha.json'), valid);
  const good = capture();
  const code = await main(['ha', 'status', '--root', root], good);
  t.equal(code, 0, 'a standby: exit 0');
  t.match(
    parseHaReport(JSON.stringify({ ...JSON.parse(valid), withheld: true, apiStopped: true })),
    { role: 'standby', own: '192.0.2.12', withheld: true, apiStopped: true, peers: [{ address: '192.0.2.11' }] },
    "ha.json's fields as its readers take them",
  );
  t.equal(parseHaReport(JSON.stringify({ role: 'standby', own: '192.0.2.12' })), undefined, 'no address: no state');
  t.match(
    good.out,
    /^role standby: floating address 192\.0\.2\.20, this appliance 192\.0\.2\.12\nfollows 192\.0\.2\.20: version 4 of 4 \(0 behind\)\npeer 192\.0\.2\.11: active\n$/,
  );
  const json = capture();
  await main(['ha', 'status', '--root', root, '--json'], json);
  t.same(Object.keys(JSON.parse(json.out)).sort(), [
    'activeVersion',
    'address',
    'behind',
    'follows',
    'own',
    'peers',
    'problems',
    'role',
    'version',
  ]);
  let lines = 0;
  for (const text of [...NASTY, ...mutants(valid, 29, 300)]) {
    writeFileSync(join(root, 'run/ovactl/ha.json'), text);
    const io = capture();
    const c = await main(['ha', 'status', '--root', root], io);
    if (![0, 1, 2].includes(c)) t.fail(`exit ${c}`);
    if (/\n\s+at /.test(io.err)) t.fail(`a stack trace for ${JSON.stringify(text).slice(0, 60)}`);
    if (io.err) {
      lines++;
      if (io.err.trim().split('\n').length !== 1) t.fail(`more than one line: ${io.err}`);
    }
    if (io.out.length > 20_000) t.fail('output not bounded');
    // The one reader of ha.json (the live state, doctor and this command): bounded, never a throw.
    const r = parseHaReport(text);
    if (r && (r.peers.length > 50 || r.problems.length > 50 || r.problems.some((p) => p.message.length > 1000)))
      t.fail(`ha.json read beyond its bounds: ${JSON.stringify(text).slice(0, 60)}`);
    const status = parseStatus(
      JSON.stringify({
        state: 'ready',
        version: '1',
        deployment: 'default',
        errors: [],
        warnings: [],
        ha: (() => {
          try {
            return JSON.parse(text);
          } catch {
            return text;
          }
        })(),
      }),
      { ranges: [], managementConfigured: true },
    );
    if (!status) t.fail('a bad "ha" block made the whole status unreadable');
    else if (status.ha && !['active', 'standby', 'fault'].includes(status.ha.role)) t.fail('a bad role got through');
  }
  t.ok(lines > 0, `mangled files are one line each on stderr (${lines})`);
  rmSync(join(root, 'run/ovactl/ha.json'));
  const none = capture();
  t.equal(await main(['ha', 'status', '--root', root], none), 1, 'no state file: exit 1');
  t.match(none.err, /^ovactl ha: no \/run\/ovactl\/ha\.json: ovactl-ha\.service does not run/);
});
