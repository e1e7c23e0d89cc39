// How the docs tests read Markdown (fences, expected output, anchors), and: every relative link of
// README.md and docs/*.md resolves — the file exists in the repository and a #anchor names a heading
// of the page it points to (GitHub's anchors).
import t from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { anchors, docFiles, fences, firstMissing, prose, steps } from './helpers/markdown.js';
import { ROOT } from './helpers/values.js';

const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');

t.test('anchors are made the way GitHub makes them', async (t) => {
  const page = '# ovactl validate\n## What happens when you change vApp properties\n## `ovactl rhi`\n## A\n## A';
  t.same(
    [...anchors(page)],
    ['ovactl-validate', 'what-happens-when-you-change-vapp-properties', 'ovactl-rhi', 'a', 'a-1'],
  );
});

t.test('the reader of shell examples', async (t) => {
  const page = [
    'Marked in the fence: ```` ```sh appliance ```` is prose, not a fence; see [x](#a).',
    '```sh appliance',
    'govc about',
    '```',
    '````sh',
    '# a comment for the reader',
    'ovactl validate x; echo "exit $?"',
    '# ✓ valid',
    '# exit …',
    '',
    '# another comment',
    'ls \\',
    '  -l',
    '```',
    'still inside',
    '````',
  ].join('\n');
  const f = fences(page);
  t.same(
    f.map((b) => [b.lang, b.marker, b.line]),
    [
      ['sh', 'appliance', 2],
      ['sh', '', 5],
    ],
  );
  const s = steps(f[1]!);
  t.same(
    s.map((x) => [x.command, x.expected]),
    [
      ['ovactl validate x; echo "exit $?"', ['✓ valid', 'exit …']],
      ['ls \n  -l', []],
      ['```', []], // a shorter fence inside a longer one is text
      ['still inside', []],
    ],
  );
  const output = 'x: JSON\n  ✓ valid\nexit 1\n';
  t.equal(firstMissing(['✓ valid', 'exit …'], output), undefined, 'in order, trimmed, … for anything');
  t.equal(firstMissing(['exit …', '✓ valid'], '✓ valid\nexit 1\n'), '✓ valid', 'order counts');
  t.equal(firstMissing(['valid'], '✓ valid\n'), 'valid', 'whole lines only');
  t.same(
    [...prose(page).matchAll(/\]\(([^)]*)\)/g)].map((m) => m[1]),
    ['#a'],
    'links outside code only',
  );
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
