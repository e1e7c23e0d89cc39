// The property reference and rule list of docs/properties.md, generated from the table and the rule
// catalogue (`npm run docs` writes it; test/table.test.ts fails when the file drifts).
import { RULES } from '../validate/rules.js';
import { PROPERTIES, type PropertySpec } from '../properties/table.js';

const BEGIN = '<!-- generated:properties:begin (ovactl docs --write docs/properties.md) -->';
const END = '<!-- generated:properties:end -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(p: PropertySpec): string {
  const q = p.qualifiers ?? {};
  const range =
    q.minValue !== undefined
      ? ` ${q.minValue}–${q.maxValue}`
      : q.minLen !== undefined
        ? ` ${q.minLen}–${q.maxLen} chars`
        : q.maxLen !== undefined
          ? ` ≤ ${q.maxLen} chars`
          : '';
  return `${p.kind}${range}${p.secret ? ', secret' : ''}`;
}

export function propertiesMarkdown(): string {
  const rows = PROPERTIES.map((p: PropertySpec) => {
    const fallback = p.default !== undefined ? `\`${p.default}\`` : p.required ? '*(required)*' : '';
    const deployment = p.deployment === 'frontend' ? 'frontend' : 'both';
    return `| \`${p.key}\` | ${cell(p.label)} | ${typeOf(p)} | ${fallback} | ${deployment} | ${cell(p.description)} |`;
  });
  const rules = RULES.map((r) => `| \`${r.id}\` | ${r.severity} | ${cell(r.summary)} |`);
  return [
    BEGIN,
    '',
    '| Key | Label (deploy wizard) | Type | Default | Deployment | Meaning |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    'Validation rules (`ovactl validate` reports every finding with its rule id):',
    '',
    '| Rule | Severity | Checks |',
    '|---|---|---|',
    ...rules,
    '',
    END,
  ].join('\n');
}

/** `text` with the generated section replaced; undefined when the markers are missing. */
export function replaceSection(text: string, section: string): string | undefined {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return undefined;
  return text.slice(0, a) + section + text.slice(b + END.length);
}
