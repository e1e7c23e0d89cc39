// Two appliances: what ovactl-ha.service does at each look, decided from what it sees. Pure.
//
// keepalived (VRRP) elects the active appliance and moves the floating address; this decides the
// rest: whether this appliance may be active (keepalived's track file), whether a standby follows the
// active, and which side of a split brain gives way. A split brain is two appliances active at the
// same time (each lost sight of the other): when they see each other again, the one with the higher
// configuration version (the Data Plane API's, i.e. more changes from the Supervisor) stays active and
// the other steps down and follows it; with equal versions VRRP's choice stands.
import type { Finding } from '../validate/finding.js';
import type { Status } from '../plan/status.js';

export type Role = 'active' | 'standby' | 'fault';

/** What an appliance says of itself (its status endpoint; this appliance's own the same way). */
export interface Side {
  readonly role: Role;
  /** Its haproxy.cfg's configuration version. */
  readonly version: number | undefined;
  /** When it last became active (ms), and when that ended (undefined: still active, or never). */
  readonly activeFrom: number | undefined;
  readonly activeTo: number | undefined;
  /** Digest of the values the pair must share (src/ha/settings.ts). */
  readonly digest: string;
}

export interface PeerView {
  readonly address: string;
  /** What it said, or why it could not be asked. */
  readonly seen: Side | { readonly error: string };
}

export interface Look {
  readonly now: number;
  readonly self: Side;
  readonly peers: readonly PeerView[];
  /** Why this appliance must not be active now (from its live state), or undefined. */
  readonly unhealthy: string | undefined;
  /** A step-down in force until then (ms), after a lost split brain. */
  readonly stepDownUntil: number | undefined;
}

export interface Decision {
  /** keepalived's track file: false puts this appliance in FAULT. */
  readonly mayBeActive: boolean;
  /** Step down until this time (a split brain lost now). */
  readonly stepDownUntil: number | undefined;
  /** A standby copies the active's configuration. */
  readonly follow: boolean;
  /** Problems to report (rule ids ha.*), without severity: the live rules give it. */
  readonly problems: readonly Pick<Finding, 'rule' | 'message' | 'hint'>[];
}

/** Two active periods overlapping by more than this were a split brain, not a handover. */
const OVERLAP_MS = 1500;
/** How long a loser of a split brain stays out: long enough for the winner to be alone. */
export const STEP_DOWN_MS = 5000;

/** A split brain counts while it lasts and this long after: long enough to settle, then forgotten. */
const SETTLE_MS = 30_000;

const overlap = (a: Side, b: Side, now: number): boolean => {
  if (a.activeFrom === undefined || b.activeFrom === undefined) return false;
  const start = Math.max(a.activeFrom, b.activeFrom);
  const end = Math.min(a.activeTo ?? now, b.activeTo ?? now);
  // An old, settled one says nothing about the versions now (a re-apply may have raised one since).
  return end - start > OVERLAP_MS && now - end < SETTLE_MS;
};

const seenSides = (peers: readonly PeerView[]): { address: string; side: Side }[] =>
  peers.flatMap((p) => ('error' in p.seen ? [] : [{ address: p.address, side: p.seen }]));

const v = (n: number | undefined): number => n ?? -1;

export function decide(l: Look): Decision {
  const problems: Decision['problems'][number][] = [];
  const sides = seenSides(l.peers);
  for (const p of sides)
    if (p.side.digest !== l.self.digest)
      problems.push({
        rule: 'ha.values-differ',
        message:
          `peer ${p.address} was deployed with other pair values ` + '(VIP ranges, port, user, CA, ha.address or vrid)',
        hint:
          'deploy every appliance of the pair with the same values but its own addresses; ' +
          'compare with "ovactl doctor"',
      });

  let stepDownUntil = l.stepDownUntil !== undefined && l.stepDownUntil > l.now ? l.stepDownUntil : undefined;
  // Both active at once, or were: the higher version wins.
  const rivals = sides.filter((p) => overlap(l.self, p.side, l.now));
  for (const p of rivals) {
    const theirs = v(p.side.version);
    const mine = v(l.self.version);
    const what =
      `split brain: this appliance and ${p.address} were both active ` +
      `(configuration versions ${mine} and ${theirs})`;
    if (l.self.role === 'active' && theirs > mine) {
      stepDownUntil = l.now + STEP_DOWN_MS;
      problems.push({
        rule: 'ha.split-brain',
        message: `${what}: this one steps down and follows ${p.address}`,
        hint: `changes the Supervisor made here during the split are lost; it makes them again on ${p.address}`,
      });
    } else if (l.self.role !== 'active' && mine > theirs && p.side.role === 'active') {
      problems.push({
        rule: 'ha.split-brain',
        message: `${what}: this one holds the newer configuration and waits for ${p.address} to step down`,
        hint: `if it does not within seconds, check "ovactl doctor" on ${p.address}`,
      });
    } else if (p.side.role === 'active' && l.self.role === 'active') {
      problems.push({
        rule: 'ha.split-brain',
        // The newer configuration stays (the other steps down); with equal versions VRRP's choice stands.
        message:
          mine > theirs
            ? `${what}: this one holds the newer configuration and stays active; ${p.address} steps down`
            : `${what}: VRRP decides which one stays active`,
        hint: 'check that VRRP (IP protocol 112) passes between the appliances on the management network',
      });
    }
  }
  const holdsNewer = rivals.some((p) => p.side.role === 'active' && v(l.self.version) > v(p.side.version));
  return {
    mayBeActive: l.unhealthy === undefined && stepDownUntil === undefined,
    stepDownUntil,
    follow: l.self.role !== 'active' && !holdsNewer,
    problems,
  };
}

/** A peer's status endpoint answer (JSON), or why it is not one. Never throws. */
export function parseSide(body: string): Side | { error: string } {
  try {
    const o = JSON.parse(body) as Record<string, unknown>;
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
    if (!['active', 'standby', 'fault'].includes(o.role as string) || typeof o.digest !== 'string')
      return { error: 'its status is not an ovactl pair status' };
    return {
      role: o.role as Role,
      version: num(o.version),
      activeFrom: num(o.activeFrom),
      activeTo: num(o.activeTo),
      digest: o.digest,
    };
  } catch {
    return { error: 'its status is not JSON' };
  }
}

/** Rules whose problems keep this appliance from being active (its live state, src/live/rules.ts). */
const DISQUALIFYING = ['haproxy.not-running', 'dataplaneapi.not-answering'];
/**
 * The Data Plane API silent this long before it counts: a takeover restarts it (a second or two), and the
 * new active must not hand the address on for that.
 */
export const API_GRACE_MS = 10_000;

export interface Health {
  readonly status: Status | undefined;
  /** How long the status has said the API does not answer (ms); 0 when it does not say so. */
  readonly apiSilentMs: number;
  /** This appliance's API is stopped on purpose (a standby): its silence is no reason. */
  readonly apiStopped: boolean;
}

/** The boot's errors and the live findings, where the watcher's rules land. */
const findingsOf = (status: Status) => [...status.errors, ...(status.findings ?? [])];

/** Whether the status says the Data Plane API does not answer. */
export const apiSilent = (status: Status | undefined): boolean =>
  !!status && findingsOf(status).some((f) => f.rule === 'dataplaneapi.not-answering');

/** Why this appliance must not be active, from the status the watcher keeps; undefined: it may be. */
export function unhealthyReason(h: Health): string | undefined {
  const { status } = h;
  if (!status) return 'no status yet';
  if (status.state === 'starting') return 'still starting';
  // An error with nothing in force serves nothing (e.g. another host answers for its addresses: it took none).
  const first = status.errors[0];
  if (status.state === 'error' && !status.serving && first && !DISQUALIFYING.includes(first.rule)) return first.message;
  const apiCounts = !h.apiStopped && h.apiSilentMs >= API_GRACE_MS;
  const bad = findingsOf(status).find(
    (f) => DISQUALIFYING.includes(f.rule) && (f.rule !== 'dataplaneapi.not-answering' || apiCounts),
  );
  return bad ? bad.message : undefined;
}
