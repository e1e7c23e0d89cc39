// OVF environment document (DMTF DSP0243) as vCenter, ESXi or govc produce it. Parsed by namespace
// URI, never by prefix; PlatformSection and ve:EthernetAdapterSection are optional.
// The parser alone: the package index also loads xmlbuilder (67 KB), which only writing XML needs.
import { Parser } from 'xml2js/lib/parser.js';
import { err, inputError, ok, type Result } from '../core/result.js';
import type { Adapter, DeployDocument } from './document.js';
import { ValueCollector } from './keys.js';
import { checkXmlBounds } from './xml-bounds.js';

const ENV_NS = 'http://schemas.dmtf.org/ovf/environment/1';
const VE_NS = 'http://www.vmware.com/schema/ovfenv';

interface XmlAttr {
  value: string;
  local: string;
  uri: string;
}
interface XmlNode {
  $?: Record<string, XmlAttr>;
  $ns?: { local: string; uri: string };
  [child: string]: unknown;
}

function children(node: XmlNode, uri: string, local: string): XmlNode[] {
  const out: XmlNode[] = [];
  for (const [name, v] of Object.entries(node)) {
    if (name === '$' || name === '$ns' || name === '_' || !Array.isArray(v)) continue;
    for (const c of v as unknown[]) {
      if (c && typeof c === 'object') {
        const n = c as XmlNode;
        if (n.$ns?.uri === uri && n.$ns.local === local) out.push(n);
      }
    }
  }
  return out;
}

/** An attribute by local name, in the given namespace or unqualified (some producers omit the prefix). */
function attr(node: XmlNode, uri: string, local: string): string | undefined {
  for (const a of Object.values(node.$ ?? {})) {
    if (a.local === local && (a.uri === uri || a.uri === '')) return a.value;
  }
  return undefined;
}

/**
 * One line out of sax's multi-line message: "Unexpected close tag\nLine: 3\nColumn: 9\nChar: >".
 * Only the words before any ":" are kept: some sax messages go on to quote names or text of the input.
 */
function xmlErrorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const [first, ...rest] = msg.split('\n');
  const pos = Object.fromEntries(rest.map((l) => l.split(': ', 2) as [string, string]));
  const where = pos.Line !== undefined ? ` at line ${Number(pos.Line) + 1}, column ${pos.Column}` : '';
  const what = first!.split(':')[0]!.slice(0, 80).toLowerCase();
  return `malformed XML${where}: ${what}`;
}

/** Thrown from the error listener so sax stops at the first error instead of reading on. */
const STOP = new Error('stop');

/**
 * xml2js's parseString/parseStringPromise settle at the root's end tag and drop what comes after: text
 * after the root, or a second document appended, went unnoticed. Parse synchronously with our own
 * listeners instead, so every sax error counts and a second root element is refused.
 */
function parseXml(text: string): Result<Record<string, XmlNode>, string> {
  const parser = new Parser({ xmlns: true, explicitArray: true, strict: true, async: false });
  let doc: Record<string, XmlNode> | undefined;
  let roots = 0;
  let error: unknown;
  parser.on('end', (result: Record<string, XmlNode>) => {
    roots++;
    doc ??= result;
  });
  parser.on('error', (e: unknown) => {
    error ??= e;
    throw STOP;
  });
  try {
    parser.parseString(text);
  } catch (e) {
    if (e !== STOP) error ??= e;
  }
  if (error !== undefined) return err(xmlErrorLine(error));
  if (roots > 1) return err('malformed XML: there is more than one root element (two documents run together?)');
  return doc ? ok(doc) : err('malformed XML: no root element');
}

export async function parseOvfEnv(text: string, origin: string): Promise<Result<DeployDocument>> {
  // Entity declarations are how billion-laughs and external-entity tricks start; an OVF environment
  // never has one, so refuse before the parser sees it.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    return err(inputError(origin, 'DOCTYPE and ENTITY declarations are not allowed in an OVF environment document'));
  }
  const bounds = checkXmlBounds(text);
  if (!bounds.ok) return err(inputError(origin, bounds.error));
  const parsed = parseXml(text);
  if (!parsed.ok) return err(inputError(origin, parsed.error));
  const doc = parsed.value;
  const root = doc ? Object.values(doc)[0] : undefined;
  if (!root || root.$ns?.uri !== ENV_NS || root.$ns.local !== 'Environment') {
    const got = root?.$ns ? `{${root.$ns.uri}}${root.$ns.local}` : 'nothing';
    return err(
      inputError(
        origin,
        `not an OVF environment: the root element is ${got}, expected Environment in namespace ${ENV_NS}`,
      ),
    );
  }
  const values = new ValueCollector();
  for (const section of children(root, ENV_NS, 'PropertySection')) {
    for (const p of children(section, ENV_NS, 'Property')) {
      const key = attr(p, ENV_NS, 'key');
      if (key === undefined) return err(inputError(origin, 'a Property element has no oe:key attribute'));
      values.add(key, attr(p, ENV_NS, 'value') ?? null);
    }
  }
  let adapters: Adapter[] | undefined;
  for (const section of children(root, VE_NS, 'EthernetAdapterSection')) {
    adapters ??= [];
    for (const a of children(section, VE_NS, 'Adapter')) {
      const unitNumber = attr(a, VE_NS, 'unitNumber');
      adapters.push({
        mac: attr(a, VE_NS, 'mac') ?? '',
        network: attr(a, VE_NS, 'network') ?? '',
        ...(unitNumber ? { unitNumber } : {}),
      });
    }
  }
  return ok({
    format: 'ovf-env',
    origin,
    values: values.values,
    unknownKeys: values.unknownKeys,
    ...(adapters ? { adapters } : {}),
    notes: [],
  });
}
