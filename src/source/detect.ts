// Auto-detection of the input format from the text itself, so `ovactl validate FILE` takes whatever
// the admin has: an ovf-env.xml, a govc options file, a flat JSON object, or the Supervisor log form.
import { err, inputError, type Result } from '../core/result.js';
import type { DeployDocument } from './document.js';
import { fromPythonPairs, isGovcOptions, isObject, parseJsonAsWritten, parseFlatObject, parseGovc } from './json.js';
import { parsePythonDict } from './python-literal.js';

/**
 * JSON.parse's message reduced to what went wrong and where (line and column, which Node 18 does not
 * give). The engine quotes a slice of the input in some messages, which may hold a password: drop it.
 */
function jsonMessage(e: unknown, text: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  // A fixed list of what went wrong: the engine's own wording may quote a slice of the input.
  const what = WHAT.find(([re]) => re.test(msg))?.[1] ?? 'syntax error';
  const pos = /at position (\d+)/.exec(msg);
  if (!pos) return what;
  const at = Math.min(Number(pos[1]), text.length);
  let line = 1;
  let start = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < at; k = text.indexOf('\n', k + 1)) {
    line++;
    start = k + 1;
  }
  return `${what} at line ${line}, column ${at - start + 1}`;
}

const WHAT: readonly [RegExp, string][] = [
  [/^Unexpected end of JSON input/, 'unexpected end of input'],
  [/^Unterminated string/, 'unterminated string'],
  [/^Bad control character/, 'bad control character in string literal'],
  [/^Bad escaped character/, 'bad escaped character in string literal'],
  [/^Bad Unicode escape/, 'bad Unicode escape'],
  [/^Expected property name/, "expected property name or '}'"],
  [/^Expected ',' or '}'/, "expected ',' or '}' after property value"],
  [/^Expected ',' or ']'/, "expected ',' or ']' after array element"],
  [/^Expected ':'/, "expected ':' after property name"],
  [/^Unexpected non-whitespace character after JSON/, 'unexpected text after the JSON value'],
  [/^Unexpected number/, 'unexpected number'],
  [/^Unexpected string/, 'unexpected string'],
  [/^(Unexpected token|.*is not valid JSON)/, 'unexpected token'],
];

/**
 * The most keys a deploy document may hold: the appliance has under 30 properties, so a thousand is
 * already absurd, and refusing more keeps validation's time and output bounded.
 */
const MAX_KEYS = 1_000;

export async function parseDocument(text: string, origin: string): Promise<Result<DeployDocument>> {
  const doc = await parseAny(text, origin);
  if (!doc.ok) return doc;
  const keys = doc.value.values.size + doc.value.unknownKeys.length;
  if (keys <= MAX_KEYS) return doc;
  return err(
    inputError(
      origin,
      `holds ${keys.toLocaleString('en-US')} keys; at most ${MAX_KEYS.toLocaleString('en-US')} are read ` +
        "(the appliance's properties are listed by ovactl docs); fix: give only the appliance's properties",
    ),
  );
}

async function parseAny(text: string, origin: string): Promise<Result<DeployDocument>> {
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body === '') return err(inputError(origin, 'the input is empty'));
  if (body.startsWith('<')) {
    const { parseOvfEnv } = await import('./ovf-env.js'); // xml2js loads only for XML input
    return parseOvfEnv(body, origin);
  }
  if (body.startsWith('{') || body.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = parseJsonAsWritten(body);
    } catch (jsonError) {
      const py = parsePythonDict(body);
      if (py.ok) return { ok: true, value: fromPythonPairs(py.value, origin) };
      // Tell the parse error of the form the text most resembles.
      const looksPython = /'\s*:/.test(body);
      return err(
        inputError(
          origin,
          looksPython ? `malformed Python-style dict: ${py.error}` : `malformed JSON: ${jsonMessage(jsonError, body)}`,
        ),
      );
    }
    if (!isObject(parsed))
      return err(inputError(origin, `expected a JSON object, not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`));
    return isGovcOptions(parsed) ? parseGovc(parsed, origin) : parseFlatObject(parsed, origin);
  }
  return err(
    inputError(
      origin,
      'unsupported input: expected an OVF environment (XML), a govc options file (JSON) or a JSON object of ' +
        'property keys',
    ),
  );
}
