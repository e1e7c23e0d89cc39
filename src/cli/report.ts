// How a validation report is printed: the JSON contract for scripts, grouped text for people.
import { findingJson, type Finding } from '../validate/finding.js';
import type { Report } from '../validate/validate.js';
import type { DeployDocument, Format } from '../source/document.js';
import type { Style } from './style.js';

/** The `--json` contract: {valid, deployment, errors: [F], warnings: [F]}. */
export function reportJson(r: Report): string {
  return JSON.stringify(
    {
      valid: r.valid,
      deployment: r.deployment,
      errors: r.errors.map(findingJson),
      warnings: r.warnings.map(findingJson),
    },
    null,
    2,
  );
}

const FORMAT_NAMES: Record<Format, string> = {
  'ovf-env': 'OVF environment',
  govc: 'govc options file',
  json: 'JSON object',
  'python-dict': 'Supervisor log (Python dict)',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Findings grouped for people, each with its rule, keys and fix: validate's text, and first boot's and render's. */
export function findingsText(
  f: { readonly errors: readonly Finding[]; readonly warnings: readonly Finding[] },
  s: Style,
): string[] {
  const out: string[] = [];
  const group = (title: string, mark: string, list: readonly Finding[]) => {
    if (!list.length) return;
    out.push('', s.bold(title));
    for (const x of list) {
      out.push(`  ${mark} ${x.message}`);
      out.push(s.dim(`    rule ${x.rule}${x.keys.length ? ` · ${x.keys.join(', ')}` : ''}`));
      if (x.hint) out.push(`    fix: ${x.hint}`);
    }
  };
  group(`Errors (${f.errors.length}):`, s.red('✗'), f.errors);
  group(`Warnings (${f.warnings.length}):`, s.yellow('!'), f.warnings);
  return out;
}

export function reportText(r: Report, doc: DeployDocument, s: Style): string {
  const out: string[] = [];
  const nics = r.deployment === 'frontend' ? '3 NICs' : '2 NICs';
  out.push(`${doc.origin}: ${FORMAT_NAMES[doc.format]}, deployment "${r.deployment}" (${nics})`);
  out.push(...findingsText(r, s));
  out.push('');
  out.push(
    r.valid
      ? s.green(`✓ valid${r.warnings.length ? ` with ${plural(r.warnings.length, 'warning')}` : ''}`)
      : s.red(
          `✗ invalid: ${plural(r.errors.length, 'error')}` +
            `${r.warnings.length ? `, ${plural(r.warnings.length, 'warning')}` : ''}` +
            '; the appliance would not work with these values',
        ),
  );
  return out.join('\n') + '\n';
}
