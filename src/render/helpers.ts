// Template helpers, registered with the full compiler (development, tests) and with the runtime
// (the bundle) alike.

/** XML text and attribute escaping for the OVF descriptor. */
export const xmlEscape = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** A PowerShell single-quoted string literal. */
export const psString = (v: unknown): string => `'${String(v ?? '').replace(/'/g, "''")}'`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlebars' own HelperDelegate takes any
export function registerHelpers(hb: { registerHelper(name: string, fn: (...args: any[]) => unknown): void }): void {
  hb.registerHelper('x', (v: unknown) => xmlEscape(v));
  hb.registerHelper('ps', (v: unknown) => psString(v));
}
