// The support bundle's scrubber: whole values go, by key, whatever their shape. Masking known secret
// strings is not possible here (doctor does not know them), so anything that sits where a secret
// sits is removed: the value of a secret-named key (to the end of its line, or its quoted string
// with escapes, or its YAML block), every private key block (to its END line, or to the end of the
// text when the END line is missing), crypt(3) hashes and HTTP credentials.

/** Key names whose values are secrets (case-insensitive, anywhere in a dotted/underscored key). */
const SECRET_WORD =
  String.raw`(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|credentials?|` +
  String.raw`private[_-]?key|auth(?:orization)?|cookie|session)`;
const KEY = String.raw`[\w.-]*${SECRET_WORD}[\w.-]*`;
const QUOTED = String.raw`"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?`;

/** `"key": "value"` and `'key': 'value'` inside a line (JSON, Python dicts, flow YAML). */
const INLINE = new RegExp(String.raw`(["']${KEY}["']\s*[:=]\s*)(${QUOTED}|[^\s,}\]]+)`, 'gi');
/** `key: value`, `key = value`, `- key: value` at a line's start (YAML, ini, env): the rest of the line. */
const LEADING = new RegExp(String.raw`^(\s*(?:-\s+)?["']?${KEY}["']?\s*[:=])(.*)$`, 'i');
/** `password VALUE`, `insecure-password VALUE` (haproxy), `password "v";` (BIRD): a word, then its value. */
/** `… api_key=v …`, `… password: v` inside a line (journals, command output): the rest of the line. */
const MIDLINE = new RegExp(String.raw`(\b${KEY}\s*[:=])(?!\s*"\[removed\]").*$`, 'i');
const WORD_VALUE = new RegExp(String.raw`\b((?:insecure-)?password|passphrase|secret)(\s+)(${QUOTED}|[^\s;]+)`, 'gi');
const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const PEM_END = /-----END [A-Z0-9 ]*PRIVATE KEY-----/;
const CRYPT = /\$(?:1|2[abxy]?|5|6|y|gy|7|sha1|md5)\$[^\s:"',;]+/g;
const HTTP_AUTH = /\b(Basic|Bearer|Digest)\s+[A-Za-z0-9+/=._~-]{8,}/g;
const indent = (l: string): number => /^\s*/.exec(l)![0].length;

function removeKeys(text: string): string {
  let rest = text;
  const out: string[] = [];
  for (;;) {
    const b = PEM_BEGIN.exec(rest);
    if (!b) return out.join('') + rest;
    out.push(rest.slice(0, b.index), '[private key removed]');
    const after = rest.slice(b.index + b[0].length);
    const e = PEM_END.exec(after);
    if (!e) return out.join(''); // no END line: everything after BEGIN may be key material
    rest = after.slice(e.index + e[0].length);
  }
}

export function scrub(text: string): string {
  const lines = removeKeys(text).split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const lead = LEADING.exec(line);
    if (lead) {
      const value = lead[2]!.trim();
      out.push(`${lead[1]} [removed]`);
      // A YAML block scalar (`|`, `>`), or a value on the following, more indented lines: all of it.
      if (value === '' || /^[|>][+-]?\d*$/.test(value) || (/^["']/.test(value) && !closed(value))) {
        const base = indent(line);
        while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || indent(lines[i + 1]!) > base)) i++;
      }
      continue;
    }
    line = line.replace(INLINE, '$1"[removed]"').replace(MIDLINE, '$1 [removed]').replace(WORD_VALUE, '$1$2[removed]');
    out.push(line.replace(CRYPT, '[hash removed]').replace(HTTP_AUTH, '$1 [removed]'));
  }
  return out.join('\n');
}

/** Whether a quoted YAML value closes on its line (else it continues on the next ones). */
function closed(v: string): boolean {
  const q = v[0]!;
  for (let k = 1; k < v.length; k++) {
    if (v[k] === '\\' && q === '"') k++;
    else if (v[k] === q) {
      if (q === "'" && v[k + 1] === "'") k++;
      else return true;
    }
  }
  return false;
}
