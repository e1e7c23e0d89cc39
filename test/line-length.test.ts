// The style rule the formatter cannot enforce: no line of src/ over 120 characters (Biome wraps code
// at 120, but not a long string, template literal or comment).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/values.js';

const MAX = 120;
const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
t.ok(files.length > 50, 'the sources are found');
const long = files.flatMap((f) =>
  readFileSync(join(ROOT, 'src', f), 'utf8')
    .split('\n')
    .flatMap((line, i) => ([...line].length > MAX ? [`src/${f}:${i + 1}: ${[...line].length} characters`] : [])),
);
t.same(long, [], `no line of src/ over ${MAX} characters`);
