// The test command on a machine whose only node is Debian 12's Node 18.20 (issue: tap needs Node 19+).
// test/toolchain.sh — what test/run.sh sources before npm ci — runs here under a PATH whose only node
// is the appliance's Node 18 (OVACTL_NODE18): every folder of this PATH, linked into one, without
// node; CI's machine carries a Node 20 that must not count. It must put a Node 20+ node, npm and npx
// first, and tap must then run a test. Not re-run here: npm ci and the suite itself (the run that
// started this test already did them, once). The first run fetches .cache/node20 (~170 MB, half a
// minute); later runs reuse it, as test/run.sh does.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from './helpers/root.js';
import { ROOT } from './helpers/values.js';

t.setTimeout(300_000);

const cached = join(ROOT, '.cache/node18/node_modules/.bin/node');
const node18 = process.env.OVACTL_NODE18 ?? (existsSync(cached) ? cached : undefined);
const skip = skipUnless(!node18 && 'no Node 18 binary (test/run.sh fetches it into .cache/node18: OVACTL_NODE18)');

const FIXTURE = 'test/fixtures/toolchain/runs.ts';
const NODE_NAMES = new Set(['node', 'nodejs']);

/** One folder of links to every program on this PATH except node, plus `node` → Node 18. */
function pathWithOnlyNode18(node: string): string {
  const bin = mkdtempSync(join(tmpdir(), 'ovactl-node18-path-'));
  const inRepo = [realpathSync(ROOT), realpathSync(join(ROOT, '.cache'))];
  for (const dir of (process.env.PATH ?? '').split(':')) {
    let real: string;
    let names: string[];
    try {
      real = realpathSync(dir);
      names = readdirSync(real);
    } catch {
      continue;
    }
    if (inRepo.some((r) => real === r || real.startsWith(`${r}/`))) continue; // node_modules/.bin, .cache/node20
    for (const name of names) {
      if (NODE_NAMES.has(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(real, name), join(bin, name));
    }
  }
  symlinkSync(node, join(bin, 'node'));
  return bin;
}

// tap's own variables and loader options must not reach the inner tap; the PATH is the Node 18 one.
function envWith(path: string): Record<string, string> {
  const kept = Object.entries(process.env).filter(
    (e): e is [string, string] => e[1] !== undefined && e[0] !== 'NODE_OPTIONS' && !/tap/i.test(e[0]),
  );
  return { ...Object.fromEntries(kept), PATH: path, NO_COLOR: '1' };
}

function bash(script: string, path: string) {
  const r = spawnSync('bash', ['-c', `set -euo pipefail\n${script}`], {
    cwd: ROOT,
    env: envWith(path),
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

const major = (version: string) => Number(/^v?(\d+)\./.exec(version.trim())?.[1] ?? Number.NaN);

t.test('a PATH whose only node is Node 18: test/toolchain.sh brings Node 20+ and tap runs', { skip }, async (t) => {
  const path = pathWithOnlyNode18(node18!);
  t.teardown(() => rmSync(path, { recursive: true, force: true }));

  const before = bash('type -ap node; node --version', path);
  const [where, version] = before.out.trim().split('\n');
  t.equal(where, join(path, 'node'), 'the only node on that PATH is the linked one');
  t.equal(major(version ?? ''), 18, `that node is Node 18 (${version})`);
  const bare = bash(`node_modules/.bin/tap --reporter=tap --disable-coverage ${FIXTURE}`, path);
  t.not(bare.code, 0, 'tap alone on Node 18 fails (why test/toolchain.sh exists)');

  const r = bash(
    [
      'source test/toolchain.sh >&2',
      'echo "node $(node --version)"',
      `echo "npm on $(npm version --json | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).node')"`,
      'echo "bundle on $("$OVACTL_NODE18" --version)"',
      `npx tap --reporter=tap --disable-coverage ${FIXTURE}`,
    ].join('\n'),
    path,
  );
  if (!t.equal(r.code, 0, 'test/toolchain.sh, then npx tap, exit 0')) t.comment(`${r.err}\n${r.out}`.slice(-4000));
  const line = (what: string) => new RegExp(`^${what} (\\S+)$`, 'm').exec(r.out)?.[1] ?? '';
  t.ok(major(line('node')) >= 20, `node on the PATH after it is 20 or newer (${line('node')})`);
  t.ok(major(line('npm on')) >= 20, `npm runs on it, so npm ci checks engines against it (${line('npm on')})`);
  t.equal(major(line('bundle on')), 18, `OVACTL_NODE18 still names the appliance's Node 18 (${line('bundle on')})`);
  const summary = /^# \{ total: (\d+), pass: (\d+) \}$/m.exec(r.out);
  t.ok(summary && Number(summary[1]) > 0 && summary[1] === summary[2], `every assertion of ${FIXTURE} passed`);
});
