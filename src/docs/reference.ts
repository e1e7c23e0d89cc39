// The property reference and rule list of docs/properties.md, generated from the table and the rule
// catalogue (`npm run docs` writes it; test/table.test.ts fails when the file drifts).
import { RULES } from '../validate/rules.js';
import { liveRuleDocs } from '../live/rules.js';
import { PROPERTIES, type PropertySpec } from '../properties/table.js';
import { template } from '../render/templates.js';

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
  const rows = PROPERTIES.map((p: PropertySpec) => ({
    key: p.key,
    label: cell(p.label),
    type: typeOf(p),
    fallback: p.default !== undefined ? `\`${p.default}\`` : p.required ? '*(required)*' : '',
    deployment: p.deployment === 'frontend' ? 'frontend' : 'both',
    description: cell(p.description),
  }));
  const rules = RULES.map((r) => ({ id: r.id, severity: r.severity, summary: cell(r.summary) }));
  const live = liveRuleDocs().map((r) => ({ ...r, summary: cell(r.summary) }));
  return template('docs/properties.md')({ begin: BEGIN, end: END, rows, rules, live });
}

/** `text` with the generated section replaced; undefined when the markers are missing. */
export function replaceSection(text: string, section: string): string | undefined {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return undefined;
  return text.slice(0, a) + section + text.slice(b + END.length);
}
