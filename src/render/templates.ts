// Templates from templates/*.hbs, by name ("haproxy/haproxy.cfg"). This file compiles them from disk
// (tests, development); `npm run build` swaps it for a module holding the same templates precompiled
// against handlebars' runtime, so dist/ovactl.js carries them and not the template compiler.
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { registerHelpers } from './helpers.js';

export type Template = (view: object) => string;

/** Config files are not HTML: no escaping. Strict: a field the view lacks is an error, not "". */
const COMPILE_OPTIONS = { noEscape: true, strict: true } as const;

const cache = new Map<string, Template>();
registerHelpers(Handlebars);

export function template(name: string): Template {
  let t = cache.get(name);
  if (!t) {
    const text = readFileSync(new URL(`../../templates/${name}.hbs`, import.meta.url), 'utf8');
    t = Handlebars.compile(text, COMPILE_OPTIONS) as Template;
    cache.set(name, t);
  }
  return t;
}
