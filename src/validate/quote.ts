// A value as messages show it: quoted (JSON escapes make a newline or a quote visible), and a long
// one cut, with its length — a 1 MB deploy value or ranges line must not become a 1 MB message.
export const q = (s: string): string => (s.length > 80 ? `${JSON.stringify(s.slice(0, 60))}… (${s.length} characters)` : JSON.stringify(s));
