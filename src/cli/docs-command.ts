import { readFile, writeFile } from 'node:fs/promises';
import { propertiesMarkdown, replaceSection } from '../properties/docs.js';
import { inputError } from '../core/result.js';
import { parse, type CommandSpec } from './usage.js';
import { EXIT, type CommandIO } from './io.js';

export const spec: CommandSpec = {
  name: 'docs',
  summary: 'Print the property reference and validation rules (Markdown), generated from the property table.',
  usage: 'ovactl docs [--write FILE]',
  help: `
Options:
  --write FILE   replace the generated section of FILE (between its markers) instead of printing
  -h, --help     show this help`,
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
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return io.inputError(inputError(file, `cannot read: ${(e as Error).message}`));
  }
  const next = replaceSection(text, md);
  if (next === undefined) return io.inputError(inputError(file, 'has no generated-section markers'));
  if (next !== text) await writeFile(file, next);
  io.stdout(`${file}: ${next === text ? 'up to date' : 'updated'}\n`);
  return EXIT.ok;
}
