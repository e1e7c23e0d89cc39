// An admin's mistakes with paths and flags, run on the bundled CLI: each ends in one line on stderr
// that names the flag, the path and the fix, exit 2, no "internal error", in bounded time (a spawn
// timeout: a command that hangs fails here instead of spinning). Real file systems: a small tmpfs
// filled to the brim, a read-only tmpfs, /proc; an unprivileged user (setpriv) for EACCES.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT, withImage } from './helpers/values.js';
import { runCli } from './helpers/cli.js';
import { haveTool, needsRoot, skipUnless } from './helpers/root.js';
import { describeForeign } from '../src/anyip/converge.js';

const EXAMPLE = join(ROOT, 'examples/appliance.json');
const dir = mkdtempSync(join(tmpdir(), 'ovactl-mistakes-'));
chmodSync(dir, 0o755); // the unprivileged user must reach the folders made for it
const mounts: string[] = [];
t.teardown(() => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** The CLI from the scratch folder (relative paths resolve there); `as` runs it as another user. */
const ovactl = (args: string[], opts: { as?: string[] } = {}) => runCli(args, { wrap: opts.as, cwd: dir });

/** The contract of a mistake: exit 2, one line on stderr matching `line`, no internal error, no stack. */
function oneLine(tt: Test, r: ReturnType<typeof ovactl>, line: RegExp, what: string): void {
  tt.equal(r.signal, null, `${what}: ended by itself (not killed by the timeout)`);
  tt.equal(r.code, 2, `${what}: exit 2 (${r.err.trim()})`);
  tt.equal(r.err.split('\n').filter(Boolean).length, 1, `${what}: one line on stderr`);
  tt.match(r.err, line, `${what}: names the flag, the path and the fix`);
  tt.notMatch(r.err, /internal error|\n\s+at /, `${what}: no internal error, no stack trace`);
}

function mountTmpfs(name: string, options: string): string | undefined {
  const m = join(dir, name);
  mkdirSync(m);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', m]);
  if (r.status !== 0) return undefined;
  mounts.push(m);
  return m;
}

/** Every file under `d` (relative paths). */
function filesUnder(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(p, e.name));
      else out.push(relative(d, join(p, e.name)));
    }
  };
  walk(d);
  return out.sort();
}

t.test('--root onto a file, and a path through a file (ENOTDIR)', async (t) => {
  const f = join(dir, 'a-file');
  writeFileSync(f, 'x');
  oneLine(
    t,
    ovactl(['render', '--env', EXAMPLE, '--root', f]),
    /^ovactl [a-z-]+: --root .*a-file: .*a-file is a file, not a folder; fix: give --root a folder/,
    'render',
  );
  oneLine(
    t,
    ovactl(['firstboot', '--env', EXAMPLE, '--root', join(f, 'sub')]),
    /^ovactl [a-z-]+: --root .*a-file\/sub: .*fix: give --root a folder/,
    'firstboot',
  );
  oneLine(t, ovactl(['links', '--root', f]), /^ovactl [a-z-]+: --root .*a-file: .*fix: give --root a folder/, 'links');
  t.equal(readFileSync(f, 'utf8'), 'x', 'the file is untouched');
});

t.test("--root on the kernel's pseudo file systems is refused at once (render --root /proc/x spun)", async (t) => {
  const cases = [
    ['render', '/proc/anything'],
    ['render', '/sys/kernel/x'],
    ['firstboot', '/proc/1/x'],
    ['links', '/proc/x'],
  ] as const;
  for (const [cmd, path] of cases) {
    const args = cmd === 'links' ? [cmd, '--root', path] : [cmd, '--env', EXAMPLE, '--root', path];
    const line = new RegExp(
      `^ovactl [a-z-]+: --root ${path}: /(proc|sys)\\S* is the kernel's (proc|sysfs) file system, ` +
        'not a disk; fix: give --root',
    );
    oneLine(t, ovactl(args), line, `${cmd} --root ${path}`);
  }
});

t.test('a path with a line break or a tab: refused in one line, quoted, nothing written', async (t) => {
  for (const bad of [join(dir, 'a\nb'), join(dir, 'x\ty')]) {
    const shown = JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const [cmd, flag] of [
      ['render', '--root'],
      ['firstboot', '--root'],
      ['export', '--for-successor'],
      ['ovf', '--output'],
      ['docs', '--write'],
      ['doctor', '--collect'],
    ] as const) {
      const args =
        cmd === 'export'
          ? ['export', '--for-successor', bad, '--env', EXAMPLE, '--root', join(dir, 'nowhere')]
          : cmd === 'ovf'
            ? ['ovf', '--output', bad]
            : cmd === 'docs'
              ? ['docs', '--write', bad]
              : cmd === 'doctor'
                ? ['doctor', '--root', dir, '--collect', bad]
                : [cmd, '--env', EXAMPLE, '--root', bad];
      const r = ovactl(args);
      oneLine(
        t,
        r,
        new RegExp(`^ovactl [a-z-]+: ${flag} ${shown}: the path holds a control character; fix: give ${flag} a path`),
        `${cmd} ${flag}`,
      );
      t.notOk(existsSync(bad), `${cmd}: nothing written at it`);
    }
  }
});

t.test('ovf --output onto a folder (EISDIR), docs --write on a missing file (ENOENT)', async (t) => {
  const folder = join(dir, 'out-folder');
  mkdirSync(folder);
  oneLine(
    t,
    ovactl(['ovf', '--output', folder]),
    new RegExp(
      String.raw`^ovactl [a-z-]+: --output .*out-folder: .*out-folder is a folder \(EISDIR\)` +
        String.raw`; fix: give --output a file name, e\.g\.`,
    ),
    'ovf',
  );
  t.same(readdirSync(folder), [], 'nothing written into the folder');
  oneLine(
    t,
    ovactl(['docs', '--write', join(dir, 'NOPE.md')]),
    /^ovactl [a-z-]+: --write .*NOPE\.md: .*NOPE\.md does not exist \(ENOENT\); fix: give --write a path that exists/,
    'docs',
  );
  t.notOk(existsSync(join(dir, 'NOPE.md')), 'docs --write created no file');
});

t.test('rhi check --bird-config on a missing file: a path mistake (exit 2), not a rules error', async (t) => {
  const rules = join(dir, 'ok.rules');
  writeFileSync(rules, '192.0.2.10 = all(f:web)\n');
  const r = ovactl(['rhi', 'check', '--config', rules, '--bird-config', join(dir, 'no-bird.conf')]);
  oneLine(
    t,
    r,
    new RegExp(
      String.raw`^ovactl [a-z-]+: --bird-config .*no-bird\.conf: .*does not exist \(ENOENT\)` +
        String.raw`; fix: give --bird-config a path that exists`,
    ),
    'rhi check',
  );
  t.notMatch(r.err, /ok\.rules: \d+ error/, 'not counted as an error of the rules file');
});

const asRoot = (why: string) => ({ skip: skipUnless(needsRoot(why)) });

t.test('a read-only --root (tmpfs -o ro): one line, nothing written', asRoot('mount'), async (t) => {
  const ro = mountTmpfs('ro', 'ro,size=1m');
  if (!ro) return void t.fail('a tmpfs does not mount here, as root');
  oneLine(
    t,
    ovactl(['render', '--env', EXAMPLE, '--root', join(ro, 'tree')]),
    new RegExp(
      String.raw`^ovactl [a-z-]+: --root .*ro\/tree: .*ro is on a read-only file system \(EROFS\)` +
        String.raw`; fix: remount it read-write, or give --root another path`,
    ),
    'render',
  );
  oneLine(
    t,
    ovactl(['firstboot', '--env', EXAMPLE, '--root', ro]),
    /^ovactl [a-z-]+: --root .*ro: .* read-only file system \(EROFS\)/,
    'firstboot',
  );
  oneLine(
    t,
    ovactl(['doctor', '--root', join(ROOT, 'examples'), '--collect', join(ro, 'b.tgz')]),
    /^ovactl [a-z-]+: --collect .*b\.tgz: .* read-only file system \(EROFS\)/,
    'doctor --collect',
  );
  t.same(readdirSync(ro), [], 'nothing written');
});

t.test('first boot onto a full disk: one line, ENOSPC; files left whole, no temp file', asRoot('mount'), async (t) => {
  const full = mountTmpfs('full', 'size=64k');
  if (!full) return void t.fail('a tmpfs does not mount here, as root');
  const r = ovactl(['firstboot', '--env', EXAMPLE, '--root', full]);
  oneLine(
    t,
    r,
    new RegExp(
      String.raw`^ovactl [a-z-]+: --root .*full: no space left on the file system of .*\(ENOSPC\)` +
        String.raw`; fix: free space there, or give --root another path`,
    ),
    'firstboot',
  );
  // The same run twice on roomy folders: what each file must hold when it is there at all. Files
  // that differ between the two (salted hashes, keys) are compared by their shape: lines and length.
  const [a, b] = ['roomy-a', 'roomy-b'].map((n) => join(dir, n));
  for (const r of [a!, b!])
    t.equal(ovactl(['firstboot', '--env', EXAMPLE, '--root', withImage(r)]).code, 0, 'fine with room');
  const left = filesUnder(full);
  t.ok(left.length > 0, `the full disk got some files before it filled (${left.length})`);
  t.same(
    left.filter((f) => /\.ovactl-/.test(f)),
    [],
    'no temp file left',
  );
  const shape = (text: string) => text.split('\n').map((l) => l.length);
  for (const f of left) {
    const [got, want, again] = [full, a!, b!].map((r) => readFileSync(join(r, f), 'utf8'));
    if (want === again) t.equal(got, want, `${f}: whole, as planned`);
    // A certificate or key is random, its DER a byte longer or shorter from run to run: whole means it parses.
    else if (f.endsWith('.crt'))
      t.doesNotThrow(() => new X509Certificate(got!), `${f}: whole (a certificate that parses)`);
    else if (f.endsWith('.key')) t.doesNotThrow(() => createPrivateKey(got!), `${f}: whole (a key that parses)`);
    else t.same(shape(got!), shape(want!), `${f}: whole (salted: its lines' lengths)`);
  }
  const status = join(full, 'var/lib/ovactl/status.json');
  if (existsSync(status)) t.notMatch(readFileSync(status, 'utf8'), /"state": ?"ready"/, 'the status claims no ready');
});

t.test(
  'first boot on an image too full for the certificates: one line, ENOSPC, exit 2 at any size',
  asRoot('mount'),
  async (t) => {
    // The image's API binary makes the plan whole (certificates first); only its presence counts, so a
    // small file stands in for it. The sizes run the disk out in every openssl step and every write.
    const failed: number[] = [];
    for (let kib = 8; kib <= 120; kib += 8) {
      const full = mountTmpfs(`image-${kib}k`, `size=${kib}k`);
      if (!full) return void t.fail('a tmpfs does not mount here, as root');
      mkdirSync(join(full, 'usr/local/bin'), { recursive: true });
      writeFileSync(join(full, 'usr/local/bin/dataplaneapi'), '#!/bin/sh\n', { mode: 0o755 });
      const r = ovactl(['firstboot', '--env', EXAMPLE, '--root', full]);
      if (r.code === 0) continue;
      failed.push(kib);
      oneLine(
        t,
        r,
        new RegExp(
          String.raw`^ovactl [a-z-]+: --root .*image-${kib}k: no space left on the file system of .*\(ENOSPC\)` +
            String.raw`; fix: free space there, or give --root another path`,
        ),
        `firstboot on ${kib} KiB`,
      );
    }
    t.ok(failed.includes(40) && failed.includes(56), `40 and 56 KiB run out inside openssl (${failed.join(', ')})`);
  },
);

t.test('an unwritable --root, an unreadable doctor --root (EACCES, unprivileged)', asRoot('setpriv'), async (t) => {
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o700 });
  oneLine(
    t,
    ovactl(['render', '--env', EXAMPLE, '--root', join(locked, 'tree')], { as: nobody }),
    new RegExp(
      String.raw`^ovactl [a-z-]+: --root .*locked\/tree: .*locked: permission denied \(EACCES\)` +
        String.raw`; fix: run as root, or give --root a path you may write`,
    ),
    'render',
  );
  oneLine(
    t,
    ovactl(['links', '--root', locked], { as: nobody }),
    /^ovactl [a-z-]+: --root .*locked: .*permission denied \(EACCES\)/,
    'links',
  );
  const r = ovactl(['doctor', '--root', locked], { as: nobody });
  oneLine(t, r, /^ovactl [a-z-]+: --root .*locked: .*permission denied \(EACCES\)/, 'doctor --root');
  t.equal(r.out, '', 'no report of every file "missing"');
  t.same(readdirSync(locked), [], 'nothing written');
});

t.test('doctor --collect is checked before the report: a folder, a missing folder', async (t) => {
  const tree = join(ROOT, 'examples');
  const folder = ovactl(['doctor', '--root', tree, '--collect', dir]);
  oneLine(
    t,
    folder,
    new RegExp(
      String.raw`^ovactl [a-z-]+: --collect .*: .* is a folder \(EISDIR\)` +
        String.raw`; fix: give --collect a file name, e\.g\. \/tmp\/support\.tar\.gz`,
    ),
    'a folder',
  );
  t.equal(folder.out, '', 'no report printed before the refusal');
  t.notMatch(folder.err, /tar \(child\)|tar failed|Cannot open/, "none of tar's errors");
  oneLine(
    t,
    ovactl(['doctor', '--root', tree, '--collect', join(dir, 'no-dir', 'b.tgz')]),
    /^ovactl [a-z-]+: --collect .*b\.tgz: .*no-dir does not exist \(ENOENT\)/,
    'a missing folder',
  );
  t.ok(statSync(dir).isDirectory());
});

t.test('did you mean: -json, misspelt flags and commands; --deployment that swallowed INPUT', async (t) => {
  const govc = ovactl(['validate', '-json', EXAMPLE]);
  oneLine(t, govc, /^ovactl validate: unknown option "-json"; did you mean --json\?/, '-json');
  oneLine(t, ovactl(['validate', '--jsno', EXAMPLE]), /unknown option "--jsno"; did you mean --json\?/, 'a swap');
  oneLine(
    t,
    ovactl(['render', '--rot', dir, '--env', EXAMPLE]),
    /unknown option "--rot"; did you mean --root\?/,
    'render --rot',
  );
  oneLine(t, ovactl(['doctor', '-collect', 'x']), /did you mean --collect\?/, 'doctor -collect');
  const far = ovactl(['validate', '--frobnicate', EXAMPLE]);
  oneLine(t, far, /unknown option "--frobnicate"/, 'a flag near nothing');
  t.notMatch(far.err, /did you mean/, 'no far-fetched suggestion');
  oneLine(t, ovactl(['valdate', EXAMPLE]), /^ovactl: unknown command "valdate"; did you mean validate\?/, 'a command');
  oneLine(t, ovactl(['-version']), /did you mean --version\?/, '-version');
  oneLine(
    t,
    ovactl(['validate', '--deployment', 'examples/appliance.json']),
    /--deployment needs a value \(default\|frontend\)/,
    'validate --deployment FILE',
  );
});

t.test("help: --version in the main help, exit status in every command's, foreign in anyip's", async (t) => {
  t.match(ovactl(['--help']).out, /^ {2}--version +print the version/m);
  for (const c of ['validate', 'render', 'firstboot', 'anyip', 'rhi', 'doctor', 'ovf', 'spec', 'links', 'docs']) {
    t.match(ovactl([c, '--help']).out, /^Exit status: 0 /m, `${c} --help has an exit status line`);
  }
  const anyip = ovactl(['anyip', '--help']).out;
  t.match(anyip, /"foreign": \[\.\.\.\]/);
  t.match(anyip, /foreign: listed ranges/);
});

t.test('rhi prepare that creates nothing says why', async (t) => {
  const conf = join(dir, 'bare-bird.conf');
  writeFileSync(conf, 'router id 192.0.2.1;\nprotocol device {}\n');
  const r = ovactl(['rhi', 'prepare', '--bird-config', conf, '--routes-dir', join(dir, 'routes')]);
  t.equal(r.code, 0);
  t.match(r.out, /^rhi prepare: nothing to create: .*bare-bird\.conf includes no route file from .*routes/);
});

t.test('rhi check with a bird.conf of no protocol says what to add, not "use one of (none)"', async (t) => {
  const conf = join(dir, 'no-proto-bird.conf');
  writeFileSync(conf, 'router id 192.0.2.1;\n');
  const rules = join(dir, 'one.rules');
  writeFileSync(rules, '192.0.2.10 = all(f:web)\n');
  const r = ovactl(['rhi', 'check', '--config', rules, '--bird-config', conf, '--routes-dir', '/run/x']);
  t.equal(r.code, 1, 'a rules error: the rule names a protocol bird.conf lacks');
  t.match(r.err, /fix: add protocol static rhi \{ ipv4; include "\/run\/x\/rhi\.conf"; \} to .*no-proto-bird\.conf/);
  t.notMatch(r.err, /\(none\)/);
});

t.test('anyip: the hand-over hint names the ranges; status text agrees with its exit status', async (t) => {
  const one = describeForeign({ add: [], remove: [], kept: [], foreign: ['192.0.2.0/28'] });
  t.match(one, /To hand it over: ip route del local 192\.0\.2\.0\/28 table local, then systemctl restart anyip-routes/);
  t.notMatch(one, /RANGE/);
  const four = ['192.0.2.0/28', '192.0.2.16/28', '192.0.2.32/28', '192.0.2.48/28'];
  const many = describeForeign({ add: [], remove: [], kept: [], foreign: four });
  t.match(many, /ip route del local 192\.0\.2\.0\/28 table local \(and so on for each\)/);
});

t.test(
  'anyip status with only bad lines: exit 1, the line named, no "in sync"',
  { skip: skipUnless(!haveTool('ip', '-V') && 'iproute2 is not installed (test/run.sh installs it)') },
  async (t) => {
    // Only bad lines: no range to compare, so the routes match, but the skipped line makes exit 1.
    const cfg = join(dir, 'bad-ranges.cfg');
    writeFileSync(cfg, '10.10.18.18/28\n');
    const r = ovactl(['anyip', 'status', '--config', cfg]);
    t.equal(r.code, 1, 'exit 1: a line was skipped', { err: r.err });
    t.match(r.err, /bad-ranges\.cfg:1: .*host bits/);
    t.notMatch(r.out, /in sync/, 'no "in sync" with exit 1');
    t.match(r.out, /1 line\(s\) were skipped/);
  },
);

t.test('one prefix rule: a mistake is "ovactl <command>: …"; only a line of no command says "ovactl: …"', async (t) => {
  const nope = join(dir, 'does-not-exist.json');
  const cases: [string, string[]][] = [
    ['validate', ['validate', nope]],
    ['render', ['render', '--env', nope, '--root', join(dir, 'prefix-render')]],
    ['firstboot', ['firstboot', '--env', nope, '--root', join(dir, 'prefix-firstboot')]],
    ['ready', ['ready', '--env', nope, '--root', join(dir, 'prefix-ready')]],
    ['export', ['export', '--for-successor', join(dir, 'x.json'), '--env', nope]],
    ['anyip', ['anyip', 'status', '--config', nope]],
    ['doctor', ['doctor', '--root', nope]],
    ['validate', ['validate', '--jsn', EXAMPLE]],
    ['render', ['render', EXAMPLE]],
  ];
  for (const [c, args] of cases) {
    const r = ovactl(args);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.err, new RegExp(`^ovactl ${c}: `), `${args.join(' ')}: "ovactl ${c}:" (${r.err.trim()})`);
  }
  t.match(ovactl(['frobnicate']).err, /^ovactl: unknown command/, 'no command: "ovactl:"');
});

t.test("help COMMAND is the command's help; help tables stay aligned", async (t) => {
  const h = ovactl(['help', 'validate']);
  t.equal(h.code, 0);
  t.equal(h.out, ovactl(['validate', '--help']).out, 'ovactl help validate = ovactl validate --help');
  t.equal(ovactl(['help', 'nope']).code, 2, 'help of no command: a usage error');
  const main = ovactl(['--help']).out;
  for (const c of [...main.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!)) {
    const help = ovactl([c, '--help']).out;
    // Each option row: its description starts in the same column as the other rows'.
    const columns = [...help.matchAll(/^( {2}-\S.*?\S {2,})\S/gm)].map((m) => m[1]!.length);
    t.equal(new Set(columns).size <= 1, true, `${c}: option descriptions in one column (${columns.join(' ')})`);
    const body = help.split('\n\n').slice(2).join('\n\n');
    t.notMatch(body, /^-/m, `${c}: no row lost its indentation`);
  }
});

t.test('arguments in the wrong place name the fix', async (t) => {
  oneLine(
    t,
    ovactl(['render', 'examples/ovf-env.xml', '--root', join(dir, 'r')]),
    /^ovactl render: unexpected argument "examples\/ovf-env\.xml"; did you mean --env "examples\/ovf-env\.xml"\?/,
    'render FILE',
  );
  oneLine(t, ovactl(['firstboot', EXAMPLE]), /^ovactl firstboot: unexpected argument .*; did you mean --env /, 'fb');
  oneLine(
    t,
    ovactl(['validate', dir]),
    /^ovactl validate: .*: is a directory, not a regular file; fix: name a file in it, not the folder$/m,
    'validate DIR',
  );
});

t.test(
  'doctor off an appliance says so in one line, exit 2',
  {
    skip: existsSync('/etc/vmware/anyip-routes.cfg') || existsSync('/var/lib/ovactl') ? 'this is an appliance' : false,
  },
  async (t) => {
    oneLine(
      t,
      ovactl(['doctor']),
      new RegExp(
        String.raw`^ovactl doctor: this machine is not an ovactl appliance \(it has none of ` +
          String.raw`/etc/vmware/anyip-routes\.cfg, /var/lib/ovactl\); fix: run it on the appliance, or give --root DIR`,
      ),
      'doctor',
    );
    t.equal(ovactl(['doctor', '--json']).out, '', 'no JSON report either');
  },
);
