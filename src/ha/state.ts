// /run/ovactl/ha.json as its readers take it (the live state, doctor, `ovactl ha status`): what
// ovactl-ha.service wrote (src/ha/daemon.ts's HaState), checked field by field and bounded, so a
// hand-edited or truncated file is "no state" and never a crash. Pure.
import { parseHa, type HaStatus } from '../plan/status.js';

export interface HaReport extends HaStatus {
  /** This appliance's own management address (undefined when the file lacks it). */
  readonly own: string | undefined;
  /** A standby without route health injection: the AnyIP routes are withheld on purpose. */
  readonly withheld: boolean;
  /** A standby's Data Plane API is stopped on purpose. */
  readonly apiStopped: boolean;
  readonly peers: readonly { readonly address: string; readonly role?: string; readonly error?: string }[];
  readonly problems: readonly { readonly rule: string; readonly message: string; readonly hint?: string }[];
}

/** Addresses, roles, rule ids and errors; a finding's message and hint; peers and problems. */
const MAX_TEXT = 200;
const MAX_MESSAGE = 1000;
const MAX_LIST = 50;
const text = (x: unknown, max = MAX_TEXT) => (typeof x === 'string' ? x.slice(0, max) : undefined);
const records = (x: unknown): Record<string, unknown>[] =>
  Array.isArray(x)
    ? x
        .slice(0, MAX_LIST)
        .flatMap((r: unknown) => (typeof r === 'object' && r !== null ? [r as Record<string, unknown>] : []))
    : [];

/** ha.json's text, or undefined when it is not ovactl-ha's state (not JSON, no role or address). */
export function parseHaReport(json: string): HaReport | undefined {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    return undefined;
  }
  const pair = parseHa(o);
  if (!pair) return undefined;
  const r = o as Record<string, unknown>;
  return {
    ...pair,
    address: pair.address.slice(0, MAX_TEXT),
    ...(pair.follows !== undefined ? { follows: pair.follows.slice(0, MAX_TEXT) } : {}),
    own: text(r.own),
    withheld: r.withheld === true,
    apiStopped: r.apiStopped === true,
    peers: records(r.peers).flatMap((p) => {
      const address = text(p.address);
      return address ? [{ address, role: text(p.role), error: text(p.error) }] : [];
    }),
    problems: records(r.problems).flatMap((p) => {
      const rule = text(p.rule);
      const message = text(p.message, MAX_MESSAGE);
      const hint = text(p.hint, MAX_MESSAGE);
      return rule && message ? [{ rule, message, ...(hint ? { hint } : {}) }] : [];
    }),
  };
}
