// ovactl's sections merged into the control plane's haproxy.cfg: every section ovactl does not own
// survives byte for byte and in order, over a corpus of real-looking files and generated ones
// (fixed seeds); ownership is by section kind and name; the Data Plane API's version line is bumped
// on change; the merged files pass real `haproxy -c` (the appliance's haproxy 3.0, from the rig's rootfs).
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeHaproxyConfig } from '../src/haproxy/merge.js';
import { directives, joinSections, splitSections, type Section } from '../src/haproxy/sections.js';
import { haproxyConfigText } from '../src/plan/plan.js';
import { haproxySizing } from '../src/haproxy/maxconn.js';
import { DEFAULT_MEMORY_BYTES } from '../src/appliance/hardware.js';
import { apiFile, seed003Sections } from './helpers/rig/control-plane.js';
import { skipUnless } from './helpers/root.js';
import { ROOT } from './helpers/values.js';
import { appliancePrograms, haproxyCheck } from './helpers/appliance-programs.js';

const RENDERED = haproxyConfigText(DEFAULT_MEMORY_BYTES);
const OURS = splitSections(RENDERED);
const ourGlobal = OURS.sections.find((s) => s.kind === 'global')!;
const ourDefaults = OURS.sections.find((s) => s.kind === 'defaults')!;
const isOwned = (s: Section, i: number, all: readonly Section[]) =>
  (s.kind === 'global' && all.findIndex((x) => x.kind === 'global') === i) ||
  (s.kind === 'defaults' &&
    /^(|unnamed_defaults_\d+)$/.test(s.name) &&
    all.findIndex((x) => x.kind === 'defaults' && /^(|unnamed_defaults_\d+)$/.test(x.name)) === i) ||
  (s.kind === 'userlist' && s.name === 'controller');

/** The preamble without the API's md5 and version lines, which merging drops and raises. */
const headerless = (preamble: readonly string[]) => preamble.filter((l) => !/^# _(md5hash|version)=/.test(l)).join('');

/** A file's end as merging leaves it: haproxy needs the last line's line end, so a missing one is added. */
const ended = (cfg: string) => (cfg === '' || cfg.endsWith('\n') ? cfg : `${cfg}\n`);

/** The control plane's sections (not ovactl's) of a file, as text, in order. */
const controlPlane = (cfg: string): string[] => {
  const all = splitSections(cfg).sections;
  return all.filter((s, i) => !isOwned(s, i, all)).map((s) => s.core.join('') + (s.gap.join('') || ''));
};
const controlPlaneCores = (cfg: string): string[] => {
  const all = splitSections(ended(cfg)).sections;
  return all.filter((s, i) => !isOwned(s, i, all)).map((s) => s.core.join(''));
};

const OLD_GLOBAL = 'global\n    log /dev/log local0\n    maxconn 4000\n    master-worker\n\n';
const OLD_DEFAULTS =
  'defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 50s\n    timeout server 50s\n\n';
const OLD_USERLIST =
  '# The Data Plane API authenticates against this userlist.\nuserlist controller\n    user wcp password $6$abc$def\n';

const CORPUS: Record<string, string> = {
  'first boot of ovactl 0.1, then seed 003 added by the API': `${apiFile(7, '')}${OLD_GLOBAL}${OLD_DEFAULTS}${OLD_USERLIST}\n${seed003Sections()}`,
  'no version line': `${OLD_GLOBAL}${OLD_DEFAULTS}${seed003Sections()}`,
  'client-native rewrite: unnamed_defaults_1 and from':
    `${apiFile(12, '')}\nglobal\n  log /dev/log local0\n  maxconn 4000\n\ndefaults unnamed_defaults_1\n  mode tcp\n  timeout client 50s\n\n` +
    seed003Sections().replace(/^(frontend \S+)$/m, '$1 from unnamed_defaults_1'),
  'listen, extra userlists, peers, resolvers, named defaults, comments between':
    `${apiFile(3, '')}${OLD_GLOBAL}${OLD_DEFAULTS}` +
    '# a comment of the control plane, between sections\n\n' +
    'userlist supervisor-extra\n  user ops insecure-password x\n\n' +
    'peers mypeers\n  peer haproxy1 127.0.0.1:10000\n\n' +
    'resolvers dns1\n  nameserver ns1 127.0.0.1:53\n  # inside a section\n  hold valid 10s\n\n' +
    'defaults tcp-named\n  mode tcp\n  timeout client 1h\n\n' +
    'listen stats-like from tcp-named\n  bind 127.0.0.1:9999\n  server s1 127.0.0.1:80\n\n' +
    seed003Sections() +
    '\n# trailing comment\n',
  'CRLF line ends': `${apiFile(4, '')}${OLD_GLOBAL}${OLD_DEFAULTS}${seed003Sections()}`.replace(/\n/g, '\r\n'),
  'missing final newline': `${OLD_GLOBAL}${OLD_DEFAULTS}${seed003Sections().trimEnd()}`,
  'no global, no defaults (hand-made)': `${apiFile(2, '')}${seed003Sections()}`,
  'global missing, defaults present': `${OLD_DEFAULTS}${seed003Sections()}`,
  "sections named like ovactl's": `${OLD_GLOBAL}${OLD_DEFAULTS}backend global\n  mode tcp\n  server a 127.0.0.1:1\n\nfrontend defaults\n  bind 127.0.0.2:80\n  default_backend global\n\nuserlist controller2\n  user a insecure-password b\n`,
  "values that look like ovactl's text": `${OLD_GLOBAL}${OLD_DEFAULTS}backend b1\n  # maxconn 20000\n  # Written by ovactl at first boot.\n  mode tcp\n  server s 127.0.0.1:80 maxconn 20000\n`,
  'already merged': `${apiFile(9, '')}${RENDERED}\n${seed003Sections()}`,
};

t.test("the control plane's sections survive byte for byte and in order", async (t) => {
  for (const [name, cfg] of Object.entries(CORPUS)) {
    const m = mergeHaproxyConfig(cfg, RENDERED);
    t.same(controlPlaneCores(m.content), controlPlaneCores(cfg), `${name}: every control-plane section, in order`);
    const before = controlPlane(cfg);
    for (const s of before)
      t.ok(m.content.includes(s), `${name}: ${JSON.stringify(s.split(/\r?\n/)[0])} kept with its comments`);
    t.equal(
      headerless(splitSections(m.content).preamble),
      headerless(splitSections(cfg).preamble),
      `${name}: the preamble kept`,
    );
    if (m.changed.length) t.notMatch(m.content, /^# _md5hash=/m, `${name}: no md5 line left (the API must re-read it)`);
    else t.equal(m.content, cfg, `${name}: nothing to change, not a byte`);
    const merged = splitSections(m.content).sections;
    const g = merged.find((s) => s.kind === 'global')!;
    t.equal(directives(g), directives(ourGlobal), `${name}: ovactl's global`);
    const d = merged.find((s) => s.kind === 'defaults' && /^(|unnamed_defaults_\d+)$/.test(s.name))!;
    t.equal(
      directives({ ...d, core: [d.core[0]!.replace(/ unnamed_defaults_\d+/, ''), ...d.core.slice(1)] }),
      directives(ourDefaults),
      `${name}: ovactl's defaults`,
    );
    t.notOk(
      merged.some((s) => s.kind === 'userlist' && s.name === 'controller'),
      `${name}: no users left in haproxy.cfg`,
    );
    t.equal(
      merged.findIndex((s) => s.kind === 'global'),
      0,
      `${name}: global first`,
    );
    t.equal(mergeHaproxyConfig(m.content, RENDERED).content, m.content, `${name}: merging again changes nothing`);
    t.same(mergeHaproxyConfig(m.content, RENDERED).changed, [], `${name}: and says so`);
  }
});

t.test('client-native\'s name for the anonymous defaults is kept, so "from" still resolves', async (t) => {
  const m = mergeHaproxyConfig(CORPUS['client-native rewrite: unnamed_defaults_1 and from'], RENDERED);
  t.match(m.content, /^defaults unnamed_defaults_1\n/m);
  t.equal(
    splitSections(m.content).sections.filter((s) => s.kind === 'defaults').length,
    1,
    'one defaults section, not a second one',
  );
});

t.test("a file the API re-indented still holds ovactl's values: nothing to change", async (t) => {
  const reindented = apiFile(
    5,
    RENDERED.replace(/^ {4}/gm, '  ').replace(/^# Written by.*\n(#.*\n)*/m, '') + seed003Sections(),
  );
  const m = mergeHaproxyConfig(reindented, RENDERED);
  t.equal(m.content, reindented, 'the same bytes');
  t.same(m.changed, []);
  t.match(m.content, /^# _version=5$/m, 'the version is not bumped');
});

t.test("ovactl's sections by meaning: the parser's order, indentation and comments do not count", async (t) => {
  const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/dataplaneapi-rewrites', name), 'utf8');
  const ours = splitSections(fixture('00-ovactl-first-boot.cfg')).sections;
  const api = splitSections(fixture('06-api-watch-after-external-edit.cfg')).sections;
  for (const kind of ['global', 'defaults']) {
    const a = ours.find((s) => s.kind === kind)!;
    const b = api.find((s) => s.kind === kind)!;
    t.not(a.core.join(''), b.core.join(''), `${kind}: other text`);
    t.equal(directives(b), directives(a), `${kind}: the same directives`);
  }
  const global = ours.find((s) => s.kind === 'global')!;
  const logs = global.core.flatMap((l, i) => (/^\s*log /.test(l) ? [i] : []));
  t.equal(logs.length, 2, 'two log lines');
  const swapped = [...global.core];
  [swapped[logs[0]!], swapped[logs[1]!]] = [global.core[logs[1]!]!, global.core[logs[0]!]!];
  t.not(directives({ ...global, core: swapped }), directives(global), 'the order of two log lines counts');
  const changed = global.core.map((l) => l.replace('maxconn 29000', 'maxconn 50'));
  t.not(directives({ ...global, core: changed }), directives(global), 'a value counts');
  for (const name of readdirSync(join(ROOT, 'test/fixtures/dataplaneapi-rewrites')).filter((f) => f.endsWith('.cfg'))) {
    const m = mergeHaproxyConfig(fixture(name), RENDERED);
    t.same(m.changed, [], `${name}: ovactl's values already there`);
    t.equal(m.content, fixture(name), `${name}: not a byte changed`);
  }
});

t.test('the header: md5 line dropped and version raised on change, kept otherwise, never added', async (t) => {
  const m = mergeHaproxyConfig(CORPUS['first boot of ovactl 0.1, then seed 003 added by the API'], RENDERED);
  t.match(m.content, /^# _version=8\n# Dataplaneapi managed File\n/);
  const crlf = mergeHaproxyConfig(CORPUS['CRLF line ends'], RENDERED);
  t.match(crlf.content, /^# _version=5\r\n/);
  t.notMatch(mergeHaproxyConfig(CORPUS['no version line'], RENDERED).content, /_version/);
  t.equal(
    mergeHaproxyConfig(`# _version=99999999999999999999\n${OLD_GLOBAL}`, RENDERED).content.split('\n')[0],
    '# _version=100000000000000000000',
  );
});

t.test('no file, or a file without sections: the rendered file', async (t) => {
  t.equal(mergeHaproxyConfig(undefined, RENDERED).content, RENDERED);
  t.equal(mergeHaproxyConfig('', RENDERED).content, RENDERED);
  t.equal(mergeHaproxyConfig('# only a comment\n', RENDERED).content, RENDERED);
});

t.test('the splitter is lossless', async (t) => {
  for (const [name, cfg] of Object.entries(CORPUS)) t.equal(joinSections(splitSections(cfg)), cfg, name);
});

// Generated files: sections from a pool, random comments, indentation and line ends (seeded).
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
}
const POOL = [
  OLD_GLOBAL,
  OLD_DEFAULTS,
  OLD_USERLIST,
  'defaults\n  mode http\n',
  'defaults other\n  mode tcp\n',
  'frontend f%\n  bind 127.0.0.%:80\n  default_backend b%\n',
  'backend b%\n  server s 127.0.0.1:8%\n',
  'listen l%\n  bind 127.0.1.%:81\n',
  'userlist u%\n  user x insecure-password y\n',
  '# comment %\n',
  '\n',
  'peers p%\n  peer x 127.0.0.1:100%\n',
  'global\n  maxconn 10\n',
];
t.test('generated files keep every control-plane section (500 files, seed 11)', async (t) => {
  const r = rng(11);
  let failures = 0;
  for (let n = 0; n < 500; n++) {
    const parts: string[] = r() < 0.5 ? [apiFile(Math.floor(r() * 100), '')] : [];
    const count = 1 + Math.floor(r() * 12);
    for (let i = 0; i < count; i++) {
      let s = POOL[Math.floor(r() * POOL.length)]!.replaceAll('%', String((n % 200) + i));
      if (r() < 0.3) s = s.replace(/^ {2,4}/gm, '\t');
      parts.push(s);
    }
    let cfg = parts.join('');
    if (r() < 0.2) cfg = cfg.replace(/\n/g, '\r\n');
    if (r() < 0.2) cfg = cfg.replace(/\s+$/, '');
    const m = mergeHaproxyConfig(cfg, RENDERED);
    const checks = {
      order: JSON.stringify(controlPlaneCores(m.content)) === JSON.stringify(controlPlaneCores(cfg)),
      bytes: controlPlane(cfg).every((s) => m.content.includes(s)),
      lossless: joinSections(splitSections(cfg)) === cfg,
      idempotent: mergeHaproxyConfig(m.content, RENDERED).content === m.content,
    };
    const failed = Object.entries(checks)
      .filter(([, v]) => !v)
      .map(([k]) => k);
    if (failed.length && failures++ < 3)
      t.fail(`generated file ${n}: ${failed.join(', ')}`, { cfg, merged: m.content });
  }
  t.equal(failures, 0, 'no generated file lost, changed or reordered a control-plane section');
});

const noHaproxy = await appliancePrograms();
t.test("merged files pass the appliance's haproxy -c", { skip: skipUnless(noHaproxy) }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovactl-merge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of [
    'first boot of ovactl 0.1, then seed 003 added by the API',
    'client-native rewrite: unnamed_defaults_1 and from',
    'CRLF line ends',
    'missing final newline',
    'no global, no defaults (hand-made)',
  ]) {
    const path = join(dir, 'haproxy.cfg');
    // chroot and the log socket are the appliance's; the check needs neither.
    writeFileSync(path, mergeHaproxyConfig(CORPUS[name], RENDERED).content);
    const check = haproxyCheck([path]);
    t.ok(check.valid, `${name}: haproxy -c accepts the merged file`, { stderr: check.stderr });
  }
});

t.test("maxconn follows the VM's memory, in whole thousands, within the descriptor limit", async (t) => {
  t.equal(haproxySizing(2048 * 2 ** 20).maxconn, 29000, "the descriptor's 2 GiB");
  t.equal(haproxySizing(2050 * 2 ** 20).maxconn, 29000, 'a few MiB more change nothing');
  t.equal(haproxySizing(8 * 2 ** 30).maxconn, 116000);
  t.equal(haproxySizing(64 * 2 ** 20).maxconn, 1000, 'never below 1000');
  t.equal(haproxySizing(2 ** 40).maxconn, 523000, 'never more than the descriptors allow (2 a connection)');
});

t.test('a section name of a hostile length is named cut, with its length; the section itself is kept', async (t) => {
  const name = 'b'.repeat(1_000_000);
  const cfg = `${OLD_GLOBAL}${OLD_DEFAULTS}backend ${name}\n  server s 127.0.0.1:80\n`;
  const m = mergeHaproxyConfig(cfg, RENDERED);
  t.same(m.kept, [`backend ${'b'.repeat(60)}… (1000000 characters)`]);
  t.ok(m.content.endsWith(`backend ${name}\n  server s 127.0.0.1:80\n`), 'kept byte for byte');
});
