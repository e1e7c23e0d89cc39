// Template helpers, registered with the full compiler (development, tests) and with the runtime
// (the bundle) alike.

/** XML text and attribute escaping for the OVF descriptor. */
export const xmlEscape = (v: unknown): string =>
  String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/** A PowerShell single-quoted string literal. */
// PowerShell takes the typographic single quotes (U+2018–U+201B) as quotes too: each is doubled like '.
export const psString = (v: unknown): string => `'${String(v ?? '').replace(/['\u2018-\u201b]/g, (q) => q + q)}'`;

// biome-ignore lint/suspicious/noExplicitAny: handlebars' own HelperDelegate takes any
export function registerHelpers(hb: { registerHelper(name: string, fn: (...args: any[]) => unknown): void }): void {
  hb.registerHelper('x', (v: unknown) => xmlEscape(v));
  hb.registerHelper('ps', (v: unknown) => psString(v));
}
