// A value as messages show it: quoted (JSON escapes make a newline or a quote visible), and a long
// one cut, with its length — a 1 MB deploy value or ranges line must not become a 1 MB message.
export const q = (s: string): string =>
  s.length > 80 ? `${JSON.stringify(s.slice(0, 60))}… (${s.length} characters)` : JSON.stringify(s);

/**
 * What a property key looks like (`area.name`, lower case, dotted, as every key of the table and its
 * typos); anything else may be a value a stray quote turned into a key.
 */
const KEY_LIKE = /^(?=.{3,80}$)[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/;

/**
 * A key as messages show it. A key comes from the input's structure, and with mismatched quotes the
 * "key" can be a password or a whole PEM block: only a key-shaped one is quoted, never other text.
 */
export const keyText = (k: string): string =>
  KEY_LIKE.test(k) ? JSON.stringify(k) : `a key of ${k.length} characters (not shown: not a property name)`;
