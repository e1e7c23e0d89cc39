// The V8 code cache of the bundle's lazy chunks (build/chunk-loader.cjs): written only when asked
// (OVACTL_WRITE_CODE_CACHE=1, as the image recipe does), used when it fits, and harmless when it
// does not — garbage or another Node's cache is rejected by V8 and the chunk compiles from source,
// with the same output. Runs a copy of dist/ovactl.js in a scratch folder (the cache lives beside it).
import t from 'tap';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/values.js';
import { BUNDLE, cliEnv, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-code-cache-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const COPY = join(dir, 'ovactl.js');
copyFileSync(BUNDLE, COPY);
copyFileSync(join(ROOT, 'dist/package.json'), join(dir, 'package.json'));
const values = join(ROOT, 'examples/appliance.json');
const cacheDir = join(dir, 'code-cache');
const env = (write?: boolean) => cliEnv(write ? { OVACTL_WRITE_CODE_CACHE: '1' } : {});

// Password hashes have a random salt: compared as a placeholder.
const salted = (text: string) => text.replace(/\$(?:5|6|y)\$[^\s"']+/g, '$HASH');

let n = 0;
/** ovactl render into a fresh root; the rendered tree as path → content. */
function render(opts: { write?: boolean; node?: string } = {}): {
  code: number | null;
  stderr: string;
  tree: Map<string, string>;
} {
  const root = join(dir, `root-${n++}`);
  const r = runCli(['render', '--env', values, '--root', root], {
    bundle: COPY,
    node: opts.node,
    env: env(opts.write),
    timeoutMs: 60_000,
  });
  const tree = new Map<string, string>();
  if (existsSync(root))
    for (const f of readdirSync(root, { recursive: true }) as string[])
      if (statSync(join(root, f)).isFile()) tree.set(f, salted(readFileSync(join(root, f), 'utf8')));
  return { code: r.code, stderr: r.err, tree };
}
const cacheFiles = () => (existsSync(cacheDir) ? readdirSync(cacheDir) : []);

t.test('no cache unless asked for', async (t) => {
  const r = render();
  t.equal(r.code, 0, 'render works without a cache', { stderr: r.stderr });
  t.ok(r.tree.size > 5, 'and renders the tree');
  t.same(cacheFiles(), [], 'and writes no cache');
  const v = runCli(['validate', values], { bundle: COPY, env: env(true) });
  t.equal(v.code, 0, 'validate (no lazy chunk) works');
  t.same(cacheFiles(), [], 'and has no chunk to cache');
});

t.test('written when asked, then used, then left alone', async (t) => {
  const plain = render();
  const first = render({ write: true });
  t.equal(first.code, 0, 'the writing run works', { stderr: first.stderr });
  const files = cacheFiles();
  t.match(files, [/^commands-[0-9a-f]{16}\.v8$/], 'one cache, for the commands chunk, named by its hash');
  const file = join(cacheDir, files[0]!);
  t.ok(statSync(file).size > 10_000, `it holds compiled code (${statSync(file).size} bytes)`);
  t.equal(statSync(file).mode & 0o777, 0o644, "mode 0644 (the bundle folder is root's)");
  t.same(first.tree, plain.tree, 'the same output as without a cache');

  const before = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  const second = render({ write: true });
  t.equal(second.code, 0, 'a run with the cache works');
  t.same(second.tree, plain.tree, 'with the same output');
  t.ok(
    readFileSync(file).equals(before) && statSync(file).mtimeMs === mtime,
    'V8 took the cache: it is not written again',
  );
});

t.test('a cache V8 refuses is harmless, and replaced when asked', async (t) => {
  const plain = render();
  const file = join(cacheDir, cacheFiles()[0]!);
  writeFileSync(file, Buffer.alloc(4096, 0x5a));
  const r = render();
  t.equal(r.code, 0, 'garbage in the cache: still works', { stderr: r.stderr });
  t.same(r.tree, plain.tree, 'with the same output');
  t.equal(r.stderr, '', 'and says nothing');
  const w = render({ write: true });
  t.equal(w.code, 0);
  t.notOk(readFileSync(file).equals(Buffer.alloc(4096, 0x5a)), 'asked to write: the refused cache is replaced');

  // A cache with one byte of its code changed: its digest no longer matches, it is not used.
  const good = readFileSync(file);
  const bad = Buffer.from(good);
  bad[bad.length - 100] ^= 0xff;
  writeFileSync(file, bad);
  const flipped = render();
  t.equal(flipped.code, 0, 'one byte of the code changed: still works', { stderr: flipped.stderr });
  t.same(flipped.tree, plain.tree, 'with the same output');
  const rewrite = render({ write: true });
  t.equal(rewrite.code, 0);
  t.notOk(readFileSync(file).equals(bad), 'asked to write: the damaged cache is replaced (its digest did not match)');

  // Writable by others: not trusted, not used (and rewritten with 0644 when asked).
  chmodSync(file, 0o666);
  const before = readFileSync(file);
  render({ write: true });
  t.notOk(
    readFileSync(file).equals(before) && (statSync(file).mode & 0o777) === 0o666,
    'a cache others may write is not taken',
  );
  t.equal(statSync(file).mode & 0o777, 0o644, 'the rewritten cache is 0644 again');

  const node18 = process.env.OVACTL_NODE18;
  if (!node18 || !existsSync(node18)) {
    t.comment("no Node 18 binary (test/run.sh provides one): another Node's cache not tried");
    return;
  }
  const other = render({ node: node18 });
  t.equal(other.code, 0, `Node 18 with Node ${process.versions.node}'s cache: works`, { stderr: other.stderr });
  t.same(other.tree, plain.tree, 'with the same output');
});
