import type { PropertyKey } from '../properties/table.js';

export type Severity = 'error' | 'warning';

/** At most this many findings per rule, then one that counts the rest: output stays readable. */
export const MAX_FINDINGS_PER_RULE = 20;

/** What a rule's check yields: the keys, the message and the fix; the rule adds its id and severity. */
export interface Problem {
  readonly keys: readonly PropertyKey[];
  readonly message: string;
  readonly hint?: string;
}

/** One problem with the deploy values. The JSON output contract is {rule, keys, message, hint?}. */
export interface Finding {
  readonly severity: Severity;
  readonly rule: string;
  readonly keys: readonly PropertyKey[];
  readonly message: string;
  readonly hint?: string;
}

export const error = (rule: string, keys: readonly PropertyKey[], message: string, hint?: string): Finding =>
  hint === undefined ? { severity: 'error', rule, keys, message } : { severity: 'error', rule, keys, message, hint };

export const warning = (rule: string, keys: readonly PropertyKey[], message: string, hint?: string): Finding =>
  hint === undefined
    ? { severity: 'warning', rule, keys, message }
    : { severity: 'warning', rule, keys, message, hint };

/** A finding as scripts see it (validate --json, the first-boot status): {rule, keys, message, hint?}. */
export const findingJson = (x: Finding) => ({
  rule: x.rule,
  keys: [...x.keys],
  message: x.message,
  ...(x.hint !== undefined ? { hint: x.hint } : {}),
});
