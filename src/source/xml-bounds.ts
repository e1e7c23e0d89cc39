// Bounds an OVF environment document must keep, checked by one linear scan before sax sees it. sax
// with xmlns copies namespace scopes per element and xml2js builds the whole tree: deep nesting,
// thousands of namespaces or huge names cost time far out of proportion to the input's size. An OVF
// environment is about five levels deep with a few dozen elements, so these limits are generous.
import { err, ok, type Result } from '../core/result.js';

export const XML_LIMITS = {
  /**
   * sax reads about 3 MB/s: a 4 MiB document would take over a second. The largest real environment
   * (a 64 KiB CA certificate and key, escaped, plus ~25 short values) is under 200 KiB.
   */
  documentBytes: 1024 * 1024,
  depth: 16,
  elements: 2_000,
  attributesPerElement: 16,
  namespacesPerElement: 8,
  nameLength: 256,
  /** A property value is at most 64 KiB; escaping (&#10; …) can make it several times longer. */
  attributeValueLength: 512 * 1024,
} as const;

const NAME_END = /[\s/>=]/y;

/** The first bound the text breaks, with its line; the XML syntax itself is left to sax. */
export function checkXmlBounds(text: string): Result<void, string> {
  if (text.length > XML_LIMITS.documentBytes) {
    return err(
      `an OVF environment document is at most ${XML_LIMITS.documentBytes / 1024 / 1024} MiB; ` +
        `this one has ${(text.length / 1024 / 1024).toFixed(1)} MiB of text`,
    );
  }
  let depth = 0;
  let elements = 0;
  let i = 0;
  const fail = (what: string, at: number) => err(`malformed XML at line ${lineAt(text, at)}: ${what}`);
  while ((i = text.indexOf('<', i)) !== -1) {
    const start = i;
    if (text.startsWith('<!--', i)) {
      i = skipTo(text, '-->', i);
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      i = skipTo(text, ']]>', i);
      continue;
    }
    if (text[i + 1] === '?' || text[i + 1] === '!') {
      i = skipTo(text, '>', i);
      continue;
    }
    if (text[i + 1] === '/') {
      depth--;
      i = skipTo(text, '>', i);
      continue;
    }
    i++;
    const nameEnd = scanName(text, i);
    if (nameEnd - i > XML_LIMITS.nameLength)
      return fail(`an element name is longer than ${XML_LIMITS.nameLength} characters`, start);
    i = nameEnd;
    if (++elements > XML_LIMITS.elements) return fail(`more than ${XML_LIMITS.elements} elements`, start);
    let attributes = 0;
    let namespaces = 0;
    let selfClosing = false;
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      const c = text[i];
      if (c === undefined) return ok(undefined); // unterminated: sax reports it
      if (c === '>') {
        i++;
        break;
      }
      if (c === '/') {
        selfClosing = true;
        i++;
        continue;
      }
      const attrStart = i;
      i = Math.max(scanName(text, i), i + 1);
      if (i - attrStart > XML_LIMITS.nameLength)
        return fail(`an attribute name is longer than ${XML_LIMITS.nameLength} characters`, attrStart);
      const name = text.slice(attrStart, i);
      if (++attributes > XML_LIMITS.attributesPerElement)
        return fail(`an element has more than ${XML_LIMITS.attributesPerElement} attributes`, start);
      if ((name === 'xmlns' || name.startsWith('xmlns:')) && ++namespaces > XML_LIMITS.namespacesPerElement) {
        return fail(`an element declares more than ${XML_LIMITS.namespacesPerElement} namespaces`, start);
      }
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text[i] !== '=') continue;
      i++;
      while (i < text.length && /\s/.test(text[i]!)) i++;
      const quote = text[i];
      if (quote !== '"' && quote !== "'") continue; // sax reports an unquoted value
      const end = text.indexOf(quote, i + 1);
      if (end === -1) return ok(undefined);
      if (end - i - 1 > XML_LIMITS.attributeValueLength)
        return fail(`an attribute value is longer than ${XML_LIMITS.attributeValueLength / 1024} KiB`, attrStart);
      i = end + 1;
    }
    if (!selfClosing && ++depth > XML_LIMITS.depth)
      return fail(`elements are nested more than ${XML_LIMITS.depth} deep`, start);
  }
  return ok(undefined);
}

function scanName(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    NAME_END.lastIndex = i;
    if (NAME_END.test(text)) break;
    i++;
  }
  return i;
}

function skipTo(text: string, end: string, from: number): number {
  const k = text.indexOf(end, from + 1);
  return k === -1 ? text.length : k + end.length;
}

function lineAt(text: string, at: number): number {
  let n = 1;
  for (let k = text.indexOf('\n'); k !== -1 && k < at; k = text.indexOf('\n', k + 1)) n++;
  return n;
}
