// The vmware-rpctool stand-in (test/standin/vmware-rpctool, test code) the nspawn rig installs: guestinfo
// in files, set and read the way ovactl calls the real one, and never an OVF environment source by accident.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GuestinfoSource } from '../src/source/guestinfo.js';
import { ROOT } from './helpers/values.js';

const TOOL = join(ROOT, 'test/standin/vmware-rpctool');
const dir = mkdtempSync(join(tmpdir(), 'ovactl-rpctool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, OVACTL_TEST_GUESTINFO_DIR: dir };
const rpc = (...args: string[]) => spawnSync('/bin/sh', [TOOL, ...args], { encoding: 'utf8', env });

t.test('info-set KEY VALUE, then info-get KEY prints it (spaces and all)', async (t) => {
  const json = '{"state":"ready","findings":[{"rule":"a b  c"}]}';
  t.equal(rpc(`info-set guestinfo.ovactl.status ${json}`).status, 0);
  const r = rpc('info-get guestinfo.ovactl.status');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `${json}\n`);
  t.equal(rpc('info-set guestinfo.ovactl.status second').status, 0);
  t.equal(rpc('info-get guestinfo.ovactl.status').stdout, 'second\n', 'a second set replaces the value');
});

t.test('info-get of a key never set: "No value found", exit 1, nothing on stdout', async (t) => {
  const r = rpc('info-get guestinfo.ovfEnv');
  t.equal(r.status, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^No value found$/m);
});

t.test('what the real one would not take is refused, and no file escapes the folder', async (t) => {
  for (const args of [
    ['info-set ../escape x'],
    ['info-get'],
    ['info-set guestinfo.x'],
    ['frob guestinfo.x'],
    ['info-set', 'guestinfo.x', 'two args'],
  ]) {
    const r = rpc(...args);
    t.equal(r.status, 1, JSON.stringify(args));
    t.match(r.stderr, /\S/, 'says why');
  }
  t.same(readdirSync(dir).sort(), ['guestinfo.ovactl.status'], 'only the key set above');
  t.same(
    readdirSync(dirname(dir)).filter((f) => f === 'escape'),
    [],
  );
});

t.test("ovactl's guestinfo source finds no OVF environment in it unless one is stored", async (t) => {
  const bin = mkdtempSync(join(tmpdir(), 'ovactl-rpctool-bin-'));
  t.teardown(() => rmSync(bin, { recursive: true, force: true }));
  spawnSync('install', ['-m', '0755', TOOL, join(bin, 'vmware-rpctool')]);
  const saved = { path: process.env.PATH, dir: process.env.OVACTL_TEST_GUESTINFO_DIR };
  process.env.PATH = `${bin}:${saved.path}`;
  process.env.OVACTL_TEST_GUESTINFO_DIR = dir;
  t.teardown(() => {
    process.env.PATH = saved.path;
    if (saved.dir === undefined) delete process.env.OVACTL_TEST_GUESTINFO_DIR;
    else process.env.OVACTL_TEST_GUESTINFO_DIR = saved.dir;
  });
  const none = await new GuestinfoSource(5_000).read();
  t.equal(none.ok, false, 'no document');
  if (!none.ok) t.match(none.error.message, /vmware-rpctool found no guestinfo\.ovfEnv/);
  t.equal(rpc('info-set guestinfo.ovfEnv <Environment/>').status, 0);
  const some = await new GuestinfoSource(5_000).read();
  t.same(some.ok ? some.value.trim() : some.error.message, '<Environment/>', 'a stored one is read');
});
