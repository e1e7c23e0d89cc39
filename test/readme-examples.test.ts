// Every shell example of README.md and docs/*.md, run as written: in a copy of the repository (its
// tracked files, no node_modules, no dist), one command line after another, README.md first — its
// install steps (npm ci, npm run build, npm link) are what puts `ovactl` on the PATH for the rest.
// A command must exit 0 and print every `# …` line written under it, in order. Blocks marked
// `sh appliance` (need the appliance, vSphere or govc) or `sh system` (install packages, build the
// image, run the whole suite) are not run; their ovactl commands must still exist.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { docFiles, fences, firstMissing, steps, type Fence } from './helpers/markdown.js';
import { ROOT } from './helpers/values.js';
import { runCli } from './helpers/cli.js';

t.setTimeout(600_000);

const MARKERS = new Set(['', 'appliance', 'system']);
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-docs-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const repo = join(scratch, 'ovactl');
const prefix = join(scratch, 'npm-prefix'); // where `npm link` puts ovactl: not the system's /usr/local
const tmp = join(scratch, 'tmp'); // the examples' `mktemp -d` folders, removed with the scratch folder

// The files a fresh clone has (tracked, plus new files not ignored, so uncommitted pages count).
const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: ROOT,
  encoding: 'utf8',
});
const copied = listed.stdout.split('\0').filter(Boolean);
for (const f of copied) {
  mkdirSync(dirname(join(repo, f)), { recursive: true });
  try {
    copyFileSync(join(ROOT, f), join(repo, f));
  } catch {
    /* deleted in the work tree */
  }
}
mkdirSync(join(prefix, 'bin'), { recursive: true });
mkdirSync(tmp);

// tap's loader options must not reach the commands; no colour, as in a script.
const env: Record<string, string> = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && e[0] !== 'NODE_OPTIONS' && !/tap/i.test(e[0]),
    ),
  ),
  PATH: `${join(prefix, 'bin')}:${process.env.PATH}`,
  npm_config_prefix: prefix,
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  NO_COLOR: '1',
  TMPDIR: tmp,
};

function run(command: string) {
  const r = spawnSync('bash', ['-c', `exec 2>&1\n${command}`], {
    cwd: repo,
    env,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, output: r.stdout ?? '' };
}

const commands = (() => {
  const help = runCli(['--help'], { env });
  return new Set([...help.out.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!));
})();

const shellFence = (f: Fence) => ['sh', 'bash', 'shell', 'console', 'shell-session'].includes(f.lang);

for (const file of docFiles(ROOT)) {
  t.test(file, async (t) => {
    const blocks = fences(readFileSync(join(ROOT, file), 'utf8')).filter(shellFence);
    for (const b of blocks) {
      const where = `${file}:${b.line}`;
      if (b.lang !== 'sh' || !MARKERS.has(b.marker)) {
        t.fail(`${where}: \`\`\`${b.lang} ${b.marker}: write \`\`\`sh, \`\`\`sh appliance or \`\`\`sh system`);
        continue;
      }
      if (b.marker !== '') {
        for (const s of steps(b)) {
          for (const m of s.command.matchAll(/(?:^|[\s|;&(])ovactl\s+([a-z][a-z-]*)/g)) {
            t.ok(commands.has(m[1]!), `${file}:${s.line}: ovactl ${m[1]} is a command`);
          }
        }
        continue;
      }
      for (const s of steps(b)) {
        const r = run(s.command);
        const at = `${file}:${s.line}: ${s.command.split('\n')[0]}`;
        if (!t.equal(r.code, 0, `${at} exits 0`)) t.comment(r.output.slice(-4000));
        const missing = firstMissing(s.expected, r.output);
        if (!t.equal(missing, undefined, `${at} prints what the text says`)) t.comment(r.output.slice(-4000));
      }
    }
    if (file === 'README.md') t.ok(blocks.length > 0, 'the README has examples');
    else t.comment(`${blocks.length} shell blocks`);
  });
}

t.test('what the examples leave in the checkout is ignored by git', async (t) => {
  // After every example ran in the copy: its top-level entries that a clone does not have.
  const tracked = new Set(copied.map((f) => f.split('/')[0]!));
  const left = readdirSync(repo).filter((n) => !tracked.has(n) && n !== 'node_modules' && n !== 'dist');
  t.ok(left.length > 0, `the examples leave something to ignore (${left.join(', ')})`);
  for (const n of left) {
    const path = statSync(join(repo, n)).isDirectory() ? `${n}/` : n; // git matches "dir/" patterns so
    const r = spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: ROOT });
    t.equal(r.status, 0, `${n}: ignored by .gitignore`);
  }
});
