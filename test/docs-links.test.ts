// Every relative link of README.md and docs/*.md resolves: the file exists in the repository and a
// #anchor names a heading of the page it points to (GitHub's anchors).
import t from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { anchors, docFiles, prose } from './helpers/markdown.js';
import { ROOT } from './helpers.js';

const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');

t.test('anchors are made the way GitHub makes them', async (t) => {
  const page = '# ovactl validate\n## What happens when you change vApp properties\n## `ovactl rhi`\n## A\n## A';
  t.same([...anchors(page)],
    ['ovactl-validate', 'what-happens-when-you-change-vapp-properties', 'ovactl-rhi', 'a', 'a-1']);
});

for (const file of docFiles(ROOT)) {
  t.test(file, async (t) => {
    const links = [...prose(text(file)).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
    t.ok(links.length > 0, 'the page links somewhere');
    for (const link of links) {
      if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : normalize(join(dirname(file), path));
      const inside = !relative(ROOT, join(ROOT, target)).startsWith('..');
      if (!t.ok(inside, `${file}: ${link} stays in the repository`)) continue;
      if (!t.ok(existsSync(join(ROOT, target)), `${file}: ${link}: ${target} exists`)) continue;
      if (anchor === undefined) continue;
      const isPage = statSync(join(ROOT, target)).isFile() && target.endsWith('.md');
      t.ok(isPage && anchors(text(target)).has(anchor), `${file}: ${link}: #${anchor} is a heading of ${target}`);
    }
  });
}
