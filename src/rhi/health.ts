// Health: haproxy's `show stat` → the state of each frontend and backend → each rule's condition →
// a per-rule state machine with rise/fall counts and a hold-down. Pure: time comes in as a number,
// so the tests drive it with a fake clock.
import type { Aggregate, Ref } from './rules.js';

/** What `show stat` says about one proxy, by `f:name` / `b:name`. */
export type ProxyStates = ReadonlyMap<string, string>;

/**
 * `show stat` CSV → `f:name`/`b:name` → status. Columns are found by the header's names (pxname,
 * svname, status, type), not by position. Type 0 is a frontend, 1 a backend.
 */
export function parseShowStat(csv: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = csv.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error(`unexpected reply from the runtime API: ${JSON.stringify(csv.slice(0, 120))}`);
  const cols = header.slice(2).split(',');
  const px = cols.indexOf('pxname'),
    st = cols.indexOf('status'),
    ty = cols.indexOf('type');
  if (px < 0 || st < 0 || ty < 0) throw new Error('the show stat header lacks pxname, status or type');
  for (const l of lines) {
    if (l === '' || l.startsWith('#')) continue;
    const f = l.split(',');
    const kind = f[ty] === '0' ? 'f' : f[ty] === '1' ? 'b' : undefined;
    if (kind) out.set(`${kind}:${f[px]}`, f[st] ?? '');
  }
  return out;
}

export interface InputState {
  readonly ref: string;
  /** haproxy's status (OPEN, PAUSED, STOP; UP, DOWN, …), `missing`, or `unreachable`. */
  readonly status: string;
  readonly up: boolean;
}

/** A frontend counts as up when OPEN; a backend when UP (at least one usable server). */
export function inputState(ref: Ref, states: ProxyStates | undefined): InputState {
  const key = `${ref.kind}:${ref.name}`;
  if (!states) return { ref: key, status: 'unreachable', up: false };
  const status = states.get(key);
  if (status === undefined) return { ref: key, status: 'missing', up: false };
  return { ref: key, status, up: ref.kind === 'f' ? status === 'OPEN' : /^UP\b/.test(status) };
}

export function evaluate(aggregate: Aggregate, inputs: readonly InputState[]): boolean {
  if (aggregate === 'never') return false;
  if (aggregate === 'any') return inputs.some((i) => i.up);
  return inputs.length > 0 && inputs.every((i) => i.up);
}

/** Why a rule is unhealthy, in words: `b:app DOWN, f:web missing from haproxy`. */
export function whyDown(aggregate: Aggregate, inputs: readonly InputState[]): string {
  if (aggregate === 'never') return 'the rule says never';
  const bad = inputs
    .filter((i) => !i.up)
    .map(
      (i) =>
        `${i.ref} ` +
        (i.status === 'missing'
          ? "is not in haproxy's running configuration"
          : i.status === 'unreachable'
            ? 'unknown (runtime API unreachable)'
            : i.status),
    );
  return aggregate === 'any' ? `none up: ${bad.join(', ')}` : bad.join(', ');
}

export interface Tuning {
  /** Consecutive healthy polls before a route is announced. */
  readonly rise: number;
  /** Consecutive unhealthy polls before it is withdrawn. */
  readonly fall: number;
  /** A withdrawn route is announced again only after this long without an unhealthy poll (ms). */
  readonly holdDownMs: number;
}

export interface RuleState {
  readonly announced: boolean;
  readonly good: number;
  readonly bad: number;
  /** Time of the last unhealthy poll. */
  readonly lastBadAt?: number;
  /** Whether the route has been withdrawn after being announced (then the hold-down applies). */
  readonly withdrawnOnce: boolean;
  /** When `announced` last changed (or the rule appeared). */
  readonly since: number;
}

export const initialState = (now: number): RuleState => ({
  announced: false,
  good: 0,
  bad: 0,
  withdrawnOnce: false,
  since: now,
});

export type Event = 'announce' | 'withdraw' | undefined;

/**
 * One poll. Unhealthy: count towards `fall`, withdraw at `fall`. Healthy: count towards `rise`;
 * announce at `rise` — and, once a route has been withdrawn, only when no poll was unhealthy for
 * the hold-down time, so a backend that flaps stays withdrawn instead of flapping the route.
 */
export function step(s: RuleState, healthy: boolean, now: number, t: Tuning): { state: RuleState; event: Event } {
  if (!healthy) {
    const bad = s.bad + 1;
    if (s.announced && bad >= t.fall) {
      return {
        state: { announced: false, good: 0, bad, lastBadAt: now, withdrawnOnce: true, since: now },
        event: 'withdraw',
      };
    }
    return { state: { ...s, good: 0, bad, lastBadAt: now }, event: undefined };
  }
  const good = s.good + 1;
  if (s.announced) return { state: { ...s, good, bad: 0 }, event: undefined };
  const held = s.withdrawnOnce && s.lastBadAt !== undefined && now - s.lastBadAt < t.holdDownMs;
  if (good >= t.rise && !held)
    return {
      state: {
        announced: true,
        good,
        bad: 0,
        withdrawnOnce: s.withdrawnOnce,
        since: now,
        ...(s.lastBadAt !== undefined ? { lastBadAt: s.lastBadAt } : {}),
      },
      event: 'announce',
    };
  return { state: { ...s, good, bad: 0 }, event: undefined };
}

/** When a held-down route may come back (ms), if it is held down at `now`. */
export function holdDownUntil(s: RuleState, now: number, t: Tuning): number | undefined {
  if (s.announced || !s.withdrawnOnce || s.lastBadAt === undefined) return undefined;
  const until = s.lastBadAt + t.holdDownMs;
  return until > now ? until : undefined;
}
