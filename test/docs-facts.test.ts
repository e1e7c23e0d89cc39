// What the documentation says that the code decides, derived from the code so the docs cannot drift:
// every finding id ovactl can report is in docs/properties.md, every doctor check in docs/commands.md; every appliance path of src/appliance/,
// every file build/install.sh installs and every unit of build/systemd/ is in docs/appliance-files.md,
// with the units the image enables; each page's contents line lists its sections; the README names
// every Debian package test/run.sh installs; the admin's pages speak of the appliance, not of this
// project's issues.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../src/doctor/checks.js';
import { RULES } from '../src/validate/rules.js';
import { docFiles, headings } from './helpers/markdown.js';
import { ROOT } from './helpers/values.js';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
const SRC = tsFiles('src').map((file) => ({ file, text: read(file) }));

/**
 * Every finding id the code can report: the rule table's ids, every `rule: 'namespace.name'` literal, and the first
 * argument of each call to the finding constructors of src/validate/finding.ts (`error`, `warning`,
 * under whatever name a file imports them), a literal or a constant declared in src/.
 */
function findingIds(): Map<string, string> {
  const where = new Map<string, string>(RULES.map((r) => [r.id, 'src/validate/rules.ts']));
  const constants = new Map<string, string>();
  for (const { text } of SRC) {
    for (const m of text.matchAll(/\bconst ([A-Z][A-Z0-9_]*) = '([^']*)'/g)) constants.set(m[1]!, m[2]!);
  }
  for (const { file, text } of SRC) {
    for (const m of text.matchAll(/\brule: '([a-z0-9-]+\.[a-z0-9.-]+)'/g)) where.set(m[1]!, file);
    const imported = /import \{([^}]*)\} from '[./]*(?:validate\/)?finding\.js'/.exec(text)?.[1] ?? '';
    const names = [...imported.matchAll(/\b(error|warning)(?: as (\w+))?/g)].map((m) => m[2] ?? m[1]!);
    if (file === 'src/validate/finding.ts') continue;
    for (const name of names) {
      for (const m of text.matchAll(new RegExp(`\\b${name}\\(\\s*(?:'([^']+)'|([A-Z][A-Z0-9_]*)\\b)`, 'g'))) {
        const id = m[1] ?? constants.get(m[2]!);
        if (id) where.set(id, file);
        else t.fail(`${file}: ${name}(${m[2]}): the constant's value is not a string literal in src/`);
      }
    }
  }
  return where;
}

t.test('every finding id the code can report is documented in docs/properties.md', async (t) => {
  const ids = findingIds();
  const doc = read('docs/properties.md');
  t.ok(ids.size > RULES.length, `the ids reach beyond the rule table (${ids.size} ids, ${RULES.length} rules)`);
  for (const known of ['dataplaneapi.missing', 'dataplaneapi.not-answering', 'certificates.ca-expiring']) {
    t.ok(ids.has(known), `the ids found in src/ include ${known} (the finder still finds what it must)`);
  }
  for (const [id, file] of ids) {
    t.ok(doc.includes(`\`${id}\``), `${id} (${file}) is in docs/properties.md`);
  }
});

t.test("every check of ovactl doctor is described in docs/commands.md's doctor section", async (t) => {
  const doc = read('docs/commands.md');
  const section = /^## ovactl doctor\n([\s\S]*?)\n## /m.exec(doc)?.[1] ?? '';
  t.ok(CHECKS.length > 10, `src/doctor/checks.ts has ${CHECKS.length} checks`);
  for (const c of CHECKS)
    t.ok(section.includes(`\`${c.id}\``), `doctor's ${c.id} is in docs/commands.md#ovactl-doctor`);
});

/** The absolute paths written as string literals in src/appliance/ (the appliance's paths, one spelling). */
function appliancePaths(): string[] {
  const out = new Set<string>();
  for (const { file, text } of SRC) {
    if (!file.startsWith('src/appliance/')) continue;
    for (const m of text.matchAll(/'(\/(?:etc|var|run|usr|opt)\/[^']+)'/g)) out.add(m[1]!);
  }
  return [...out];
}

t.test('docs/appliance-files.md names every path, installed file and unit of the appliance', async (t) => {
  const doc = read('docs/appliance-files.md');
  const paths = appliancePaths();
  t.ok(paths.length > 20, `src/appliance/ names ${paths.length} paths`);
  for (const p of paths) t.ok(doc.includes(p), `${p} (src/appliance/) is in docs/appliance-files.md`);

  const install = read('build/install.sh');
  const installed = [...new Set([...install.matchAll(/"\$root(\/[A-Za-z0-9._/-]+)/g)].map((m) => m[1]!))];
  t.ok(installed.length > 5, `build/install.sh installs into ${installed.length} paths`);
  for (const p of installed) t.ok(doc.includes(p), `${p} (build/install.sh) is in docs/appliance-files.md`);

  const systemd = join(ROOT, 'build/systemd');
  for (const entry of readdirSync(systemd, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      for (const dropin of readdirSync(join(systemd, entry.name))) {
        const p = `${entry.name}/${dropin}`;
        t.ok(doc.includes(p), `the drop-in ${p} (build/systemd/) is in docs/appliance-files.md`);
      }
    } else {
      t.ok(doc.includes(`\`${entry.name}\``), `${entry.name} (build/systemd/) is in docs/appliance-files.md`);
    }
  }
});

t.test('docs/appliance-files.md says which units the image enables, as build/install.sh does', async (t) => {
  const enabled = [...read('build/install.sh').matchAll(/^enable (\S+) \S+$/gm)].map((m) => m[1]!).sort();
  t.ok(enabled.length > 0, `build/install.sh enables ${enabled.join(', ')}`);
  const line = /^Enabled in the image: ([\s\S]*?)(?:;|\n\n)/m.exec(read('docs/appliance-files.md'))?.[1] ?? '';
  const said = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).sort();
  t.same(said, enabled, 'the "Enabled in the image:" line lists exactly the units build/install.sh enables');
});

/** The anchors a page's contents lists: README's "## Contents" list, or a docs page's "Contents:" paragraph. */
function contentsLinks(text: string): string[] | undefined {
  const m = /^## Contents\n([\s\S]*?)\n## /m.exec(text) ?? /^Contents: ([\s\S]*?)(?:\n\s*\n|(?![\s\S]))/m.exec(text);
  return m ? [...m[1]!.matchAll(/\]\(#([^)]+)\)/g)].map((l) => l[1]!) : undefined;
}

t.test("each page's contents lists every section, in order", async (t) => {
  let pages = 0;
  for (const file of docFiles(ROOT)) {
    const text = read(file);
    const listed = contentsLinks(text);
    if (!listed) continue;
    pages++;
    const sections = headings(text)
      .filter((h) => h.level === 2 && h.anchor !== 'contents')
      .map((h) => h.anchor);
    t.same(listed, sections, `${file}: the contents lists its ## sections`);
  }
  t.ok(pages >= 5, `${pages} pages have a contents line`);
});

t.test('the README names every Debian package test/run.sh installs', async (t) => {
  const run = read('test/run.sh');
  const list = /^APT_PACKAGES=\(([^)]*)\)/m.exec(run)?.[1] ?? '';
  const packages = list.split(/\s+/).filter(Boolean);
  const extra = [...run.matchAll(/APT_PACKAGES\+=\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(/\s+/).filter(Boolean));
  t.ok(packages.length > 10, `test/run.sh installs ${packages.length} packages, and ${extra.join(', ')} without node`);
  const readme = read('README.md');
  for (const p of [...packages, ...extra]) t.match(readme, new RegExp(`\\b${p}\\b`), `README.md names ${p}`);
});

// The pages an admin reads speak of the appliance; the developers' pages may cite the project's history.
const DEVELOPER_PAGES = new Set(['docs/development.md', 'docs/architecture.md']);
const INTERNAL = /\bissue \d+|\bseeds? \d{3}\b|this project's (?:machines?|build machine)/i;

t.test("the admin's pages speak of the appliance, not of the project's issues or machines", async (t) => {
  for (const file of docFiles(ROOT).filter((f) => !DEVELOPER_PAGES.has(f))) {
    const lines = read(file).split('\n');
    const hits = lines.flatMap((l, i) => (INTERNAL.test(l) ? [`${file}:${i + 1}: ${l.trim()}`] : []));
    t.same(hits, [], `${file} names no issue, seed or project machine`);
  }
});
