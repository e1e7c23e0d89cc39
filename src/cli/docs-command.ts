import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-write.js';
import { propertiesMarkdown, replaceSection } from '../docs/reference.js';
import { inputError } from '../core/result.js';
import { onPath } from '../core/fs-error.js';
import { parse, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';

export const spec: CommandSpec = {
  name: 'docs',
  summary: 'Print the property reference and validation rules (Markdown), generated from the property table.',
  usage: 'ovactl docs [--write FILE]',
  help: `
Options:
  --write FILE   replace the generated section of FILE (between its markers) instead of printing
  -h, --help     show this help

Exit status: 0 printed, updated or up to date, 2 usage error or a --write FILE that cannot be read or written.`,
  options: { write: { type: 'string' } },
};

export async function run(argv: string[], io: CommandIO): Promise<number> {
  const args = parse(spec, argv);
  if (args === 'help') return io.help(spec);
  const md = propertiesMarkdown();
  const file = args.values.write as string | undefined;
  if (!file) {
    io.stdout(md + '\n');
    return EXIT.ok;
  }
  const arg = { flag: '--write', path: file };
  const read = await onPath(arg, () => readFile(file, 'utf8'));
  if (!read.ok) return io.inputError(read.error);
  const text = read.value;
  const next = replaceSection(text, md);
  if (next === undefined) {
    const fix = 'add the first and the last line "ovactl docs" prints where the reference goes';
    return io.inputError(inputError(`--write ${file}`, `has no generated-section markers; fix: ${fix}`));
  }
  if (next !== text) {
    // Atomically, with the file's own mode: an interrupted write never leaves half a page.
    const wrote = await onPath(arg, () => writeFileAtomic(file, next, statSync(file).mode & 0o7777));
    if (!wrote.ok) return io.inputError(wrote.error);
  }
  io.stdout(`${file}: ${next === text ? 'up to date' : 'updated'}\n`);
  return EXIT.ok;
}
