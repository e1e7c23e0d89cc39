// ovactl over haproxy.cfg as the real Data Plane API rewrote it (test/fixtures/dataplaneapi-rewrites/,
// recordings of client-native v5.1.27's parser inside dataplaneapi v2.9.27): `ovactl firstboot --root`
// (the bundle) on a root whose haproxy.cfg is each recorded file.
//  - Values that leave ovactl's sections meaning the same (a nameserver changed): haproxy.cfg is not
//    written (same bytes, same inode and mtime), its version not raised, haproxy not reloaded.
//  - Values after which ovactl must write (an admin changed ovactl's global by hand): every control-plane
//    section byte for byte, the md5 line gone (so the running API takes the new file), the version
//    raised, a reload of haproxy, and real `haproxy -c` accepts the result.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitSections } from '../src/haproxy/sections.js';
import { runCli } from './helpers/cli.js';
import { ROOT, withImage } from './helpers/values.js';

const FIXTURES = join(ROOT, 'test/fixtures/dataplaneapi-rewrites');
const RECORDED = readdirSync(FIXTURES).filter((f) => f.endsWith('.cfg'));
const ENV = readFileSync(join(ROOT, 'examples/ovf-env.xml'), 'utf8');
const NAMESERVERS = /oe:key="network\.nameservers" oe:value="[^"]*"/;

const dir = mkdtempSync(join(tmpdir(), 'ovactl-api-rewrites-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
/** examples/ovf-env.xml with other nameservers: new values, none of them about haproxy.cfg. */
function envWith(nameservers: string): string {
  const file = join(dir, `ovf-env-${nameservers.replace(/\W/g, '_')}.xml`);
  writeFileSync(file, ENV.replace(NAMESERVERS, `oe:key="network.nameservers" oe:value="${nameservers}"`));
  return file;
}
const firstboot = (root: string, env: string) =>
  runCli(['firstboot', '--root', root, '--env', env], { timeoutMs: 60_000 });
const HAPROXY_RELOAD = /systemctl (try-reload-or-restart|reload|restart|try-restart) .*haproxy\.service/;
const versionOf = (cfg: string) => /^# _version=(\d+)$/m.exec(cfg)?.[1];
const OWNED = new Set(['global', 'defaults']);
/** The control plane's sections (all but ovactl's global and defaults), each as its text. */
const controlPlane = (cfg: string) =>
  splitSections(cfg)
    .sections.filter((s) => !OWNED.has(s.kind))
    .map((s) => s.core.join(''));

t.test('examples/ovf-env.xml has the nameservers this test changes', async (t) => {
  t.match(ENV, NAMESERVERS);
});

for (const name of RECORDED) {
  t.test(name, async (t) => {
    const root = withImage(mkdtempSync(join(dir, 'root-')));
    const first = firstboot(root, envWith('192.0.2.53, 192.0.2.54'));
    t.equal(first.code, 0, `first boot ${first.err}`);
    const cfgPath = join(root, 'etc/haproxy/haproxy.cfg');
    const recorded = readFileSync(join(FIXTURES, name), 'utf8');
    writeFileSync(cfgPath, recorded, { mode: 0o644 });
    const before = statSync(cfgPath);

    const same = firstboot(root, envWith('192.0.2.54'));
    t.equal(same.code, 0, `re-apply with a changed nameserver ${same.err}`);
    t.match(same.out, /wrote \/etc\/systemd\/network\//, 'the values were applied (the network file)');
    t.notMatch(same.out, /wrote \/etc\/haproxy\/haproxy\.cfg/, 'haproxy.cfg not written');
    t.notMatch(same.out, HAPROXY_RELOAD, 'haproxy not reloaded');
    const after = statSync(cfgPath);
    t.equal(readFileSync(cfgPath, 'utf8'), recorded, 'the same bytes');
    t.same([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'the same file, untouched');

    // An admin's edit of ovactl's global section: the next apply must put ovactl's values back.
    const edited = recorded.replace(/^( +)maxconn \d+$/m, '$1maxconn 50');
    t.not(edited, recorded, 'maxconn edited');
    writeFileSync(cfgPath, edited);
    const fix = firstboot(root, envWith('192.0.2.53'));
    t.equal(fix.code, 0, `re-apply after the edit ${fix.err}`);
    t.match(fix.out, /wrote \/etc\/haproxy\/haproxy\.cfg/, 'haproxy.cfg written');
    t.match(fix.out, HAPROXY_RELOAD, 'haproxy reloaded');
    const fixed = readFileSync(cfgPath, 'utf8');
    t.match(fixed, /^ +maxconn 29000$/m, "ovactl's maxconn back");
    t.same(controlPlane(fixed), controlPlane(recorded), 'every control-plane section, byte for byte, in order');
    t.ok(controlPlane(recorded).length >= (/^0[2-6]/.test(name) ? 2 : 0), 'sections to keep (from 02 on)');
    t.notMatch(fixed, /^# _md5hash=/m, 'no md5 line: the running API takes the new file');
    const v = versionOf(recorded);
    if (v) t.equal(versionOf(fixed), String(Number(v) + 1), `version ${v} → ${Number(v) + 1}`);
    else t.equal(versionOf(fixed), undefined, 'no version line added');
    t.equal(statSync(cfgPath).mode & 0o777, 0o644, 'mode 0644, as the API leaves it');
    const check = spawnSync('/usr/sbin/haproxy', ['-c', '-f', cfgPath], { encoding: 'utf8' });
    t.equal(check.status, 0, `haproxy -c accepts it ${check.stderr}`);

    const again = firstboot(root, envWith('192.0.2.53, 192.0.2.54'));
    t.notMatch(again.out, /wrote \/etc\/haproxy\/haproxy\.cfg/, 'and the next re-apply writes nothing');
  });
}
