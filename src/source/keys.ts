import { canonicalKey, type PropertyKey } from '../properties/table.js';

/** Collects raw key/value pairs into canonical keys; later duplicates win, unknown keys are kept aside. */
export class ValueCollector {
  readonly values = new Map<PropertyKey, string | null>();
  readonly unknownKeys: string[] = [];

  add(key: string, value: string | null): void {
    const k = canonicalKey(key);
    if (k) this.values.set(k, value);
    else this.unknownKeys.push(key);
  }
}

/** Finds a field of a JSON object case-insensitively (govc decodes its options file that way). */
export function field(obj: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}
