// The atomic writer (src/core/atomic-write.ts): exact modes whatever the umask, unchanged files left alone,
// no temp files left, and a batch that fails while staging changes no target at all (renames come
// last). The crash test in test/firstboot.test.ts kills whole runs; this one checks the edges.
import t from 'tap';
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
import { join } from 'node:path';
import { writeFileAtomic, writeFilesAtomic } from '../src/core/atomic-write.js';

const dir = mkdtempSync(join(tmpdir(), 'ovactl-write-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o7777;
const temps = (d: string) =>
  readdirSync(d, { recursive: true })
    .map(String)
    .filter((f) => /~ovactl|\.tmp/.test(f) || f.split('/').pop()!.startsWith('.'));

t.test('a batch: every file with its exact mode, in new folders, no temp files', async (t) => {
  const old = process.umask(0o077);
  t.teardown(() => process.umask(old));
  const root = join(dir, 'batch');
  const files = [
    { target: join(root, 'etc/a.conf'), content: 'a\n', mode: 0o644 },
    { target: join(root, 'etc/secret'), content: 's\n', mode: 0o600 },
    { target: join(root, 'usr/bin/tool'), content: '#!/bin/sh\n', mode: 0o755 },
  ];
  t.same(await writeFilesAtomic(files), [true, true, true], 'all written');
  for (const f of files) {
    t.equal(readFileSync(f.target, 'utf8'), f.content, `${f.target}: content`);
    t.equal(mode(f.target), f.mode, `${f.target}: mode ${f.mode.toString(8)} despite umask 077`);
  }
  t.same(temps(root), [], 'no temp files left');
  t.same(await writeFilesAtomic(files), [false, false, false], 'the same batch again writes nothing');
  chmodSync(files[0]!.target, 0o666);
  t.same(await writeFilesAtomic(files), [true, false, false], 'a changed mode is put back');
  t.equal(mode(files[0]!.target), 0o644);
});

t.test('a batch that fails while staging changes no target', async (t) => {
  const root = join(dir, 'fail');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'keep.conf'), 'old\n');
  writeFileSync(join(root, 'blocker'), 'a file where a folder must go\n');
  await t.rejects(
    writeFilesAtomic([
      { target: join(root, 'keep.conf'), content: 'new\n', mode: 0o644 },
      { target: join(root, 'blocker/x.conf'), content: 'x\n', mode: 0o644 },
    ]),
    'the batch fails (a folder cannot be made)',
  );
  t.equal(
    readFileSync(join(root, 'keep.conf'), 'utf8'),
    'old\n',
    'the file staged before the failure still has its old content',
  );
  mkdirSync(join(root, 'dir.conf'));
  await t.rejects(
    writeFilesAtomic([
      { target: join(root, 'keep.conf'), content: 'new\n', mode: 0o644 },
      { target: join(root, 'dir.conf'), content: 'x\n', mode: 0o644 },
    ]),
    /dir\.conf is a folder, not a file/,
    'a folder where a file must go: refused before any rename',
  );
  t.equal(readFileSync(join(root, 'keep.conf'), 'utf8'), 'old\n', 'and the other file is untouched');
  t.same(temps(root), [], 'and its temp file is gone');
  await t.rejects(
    writeFilesAtomic([
      { target: join(root, 'y'), content: '', mode: 0o644 },
      { target: join(root, 'y'), content: '', mode: 0o644 },
    ]),
    /twice/,
    'the same file twice in a batch is refused',
  );
  t.notOk(existsSync(join(root, 'y')), 'and nothing written');
});

t.test('one file: as the batch', async (t) => {
  const p = join(dir, 'one/file');
  t.equal(writeFileAtomic(p, 'x', 0o640), true);
  t.equal(writeFileAtomic(p, 'x', 0o640), false, 'unchanged: not written');
  t.equal(mode(p), 0o640);
  t.same(temps(join(dir, 'one')), []);
});
