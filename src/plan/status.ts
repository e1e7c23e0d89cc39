// Where the admin looks: the status document (guestinfo.ovactl.status, /var/lib/ovactl/status.json)
// and the console (/etc/issue.d/ovactl.issue, shown by agetty above the login prompt).
import { template } from '../render/templates.js';
import { findingJson, type Finding } from '../validate/finding.js';
import type { Deployment } from '../appliance/nics.js';

/** The READY step's findings: each boot's own, not the values' (a boot with the same values probes again). */
export const NOT_ANSWERING = 'dataplaneapi.not-answering';
/** An address of the appliance's that another host answers for (arping -D, src/net/dad.ts). */
export const DUPLICATE_ADDRESS = 'network.duplicate-address';

/** The values in force on a serving appliance: when they were applied, and their VIP ranges. */
export interface Serving {
  readonly appliedAt: string;
  readonly ranges: readonly string[];
}

/**
 * ready: the values are applied, the Data Plane API answered, and the live checks (ovactl-watch.service)
 * find nothing wrong; starting: applied, and ovactl-ready.service waits for the API's first answer;
 * degraded: serving, with live findings (see `findings`); error: see the errors (or a live finding that
 * nothing is served).
 */
export type State = 'ready' | 'starting' | 'degraded' | 'error';
const STATES: readonly State[] = ['ready', 'starting', 'degraded', 'error'];

export interface Status {
  readonly state: State;
  readonly version: string;
  readonly deployment: Deployment;
  readonly errors: readonly Finding[];
  readonly warnings: readonly Finding[];
  /** What the live checks found (src/live/rules.ts): rewritten by ovactl-watch.service, cleared when fixed. */
  readonly findings?: readonly Finding[];
  readonly apiUrl?: string;
  readonly ranges: readonly string[];
  readonly managementConfigured: boolean;
  /** state error on an appliance that keeps serving its last good values. */
  readonly serving?: Serving;
  /** Console only: haproxy was started although the state is error (e.g. the API does not answer). */
  readonly dataPlaneStarted?: boolean;
  /** What the image carries (build-info.json), when known. */
  readonly image?: { readonly dataplaneapi: string };
  /** Two appliances: this one's role, whom it follows and how far behind (ovactl-ha.service, live). */
  readonly ha?: HaStatus;
}

export interface HaStatus {
  readonly role: 'active' | 'standby' | 'fault';
  /** The floating management address. */
  readonly address: string;
  readonly follows?: string | undefined;
  /** This appliance's configuration version, and the active's as last read. */
  readonly version?: number | undefined;
  readonly activeVersion?: number | undefined;
  readonly behind?: number | undefined;
}

const HA_ROLES: readonly string[] = ['active', 'standby', 'fault'];
const haJson = (h: HaStatus) => ({
  role: h.role,
  address: h.address,
  ...(h.follows !== undefined ? { follows: h.follows } : {}),
  ...(h.version !== undefined ? { version: h.version } : {}),
  ...(h.activeVersion !== undefined ? { activeVersion: h.activeVersion } : {}),
  ...(h.behind !== undefined ? { behind: h.behind } : {}),
});

/** A status's "ha" block (or ha.json's first fields), checked field by field; undefined when it is none. */
export function parseHa(x: unknown): HaStatus | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const o = x as Record<string, unknown>;
  if (!HA_ROLES.includes(o.role as string) || typeof o.address !== 'string') return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
  return {
    role: o.role as HaStatus['role'],
    address: o.address,
    ...(typeof o.follows === 'string' ? { follows: o.follows } : {}),
    ...(num(o.version) !== undefined ? { version: num(o.version) } : {}),
    ...(num(o.activeVersion) !== undefined ? { activeVersion: num(o.activeVersion) } : {}),
    ...(num(o.behind) !== undefined ? { behind: num(o.behind) } : {}),
  };
}

/** The JSON scripts read (govc vm.info -e): no clock of its own (serving.appliedAt is the time the values
 * in force were applied, recorded then), so the same result is the same bytes. */
export function statusJson(s: Status): string {
  return JSON.stringify({
    state: s.state,
    version: s.version,
    deployment: s.deployment,
    ...(s.apiUrl ? { dataplaneapi: s.apiUrl } : {}),
    errors: s.errors.map(findingJson),
    warnings: s.warnings.map(findingJson),
    findings: (s.findings ?? []).map(findingJson),
    ...(s.serving ? { serving: { appliedAt: s.serving.appliedAt, ranges: s.serving.ranges } } : {}),
    ...(s.image ? { image: { dataplaneapi: s.image.dataplaneapi } } : {}),
    ...(s.ha ? { ha: haJson(s.ha) } : {}),
  });
}

const FINDING_RULE = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/**
 * A status.json written by statusJson, read back (by `ovactl ready` and a boot that changes nothing).
 * The console's fields that the JSON does not carry come from the caller's deploy values.
 */
export function parseStatus(
  text: string | undefined,
  console: Pick<Status, 'ranges' | 'managementConfigured' | 'dataPlaneStarted'>,
): Status | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const state = o.state;
  if (!STATES.includes(state as State)) return undefined;
  if (o.deployment !== 'default' && o.deployment !== 'frontend') return undefined;
  const findings = (x: unknown, severity: Finding['severity']): Finding[] | undefined => {
    if (!Array.isArray(x)) return undefined;
    const out: Finding[] = [];
    for (const f of x as Record<string, unknown>[]) {
      if (typeof f?.rule !== 'string' || !FINDING_RULE.test(f.rule) || typeof f.message !== 'string') return undefined;
      if (!Array.isArray(f.keys) || !f.keys.every((k) => typeof k === 'string')) return undefined;
      const hint = typeof f.hint === 'string' ? { hint: f.hint } : {};
      out.push({ severity, rule: f.rule, keys: f.keys as Finding['keys'], message: f.message, ...hint });
    }
    return out;
  };
  const errors = findings(o.errors, 'error');
  const warnings = findings(o.warnings, 'warning');
  // Older status files have no findings list. A live finding's severity is what the state says.
  const live = o.findings === undefined ? [] : findings(o.findings, state === 'error' ? 'error' : 'warning');
  if (!errors || !warnings || !live || typeof o.version !== 'string') return undefined;
  const strings = (x: unknown): string[] | undefined =>
    Array.isArray(x) && x.every((r) => typeof r === 'string') ? (x as string[]) : undefined;
  const sv = o.serving as Record<string, unknown> | undefined;
  const serving =
    sv && typeof sv.appliedAt === 'string' && strings(sv.ranges)
      ? { serving: { appliedAt: sv.appliedAt, ranges: strings(sv.ranges)! } }
      : {};
  const image = o.image as Record<string, unknown> | undefined;
  return {
    state: state as State,
    version: o.version,
    deployment: o.deployment,
    errors,
    warnings,
    findings: live,
    ...(typeof o.dataplaneapi === 'string' ? { apiUrl: o.dataplaneapi } : {}),
    ...console,
    ...serving,
    ...(typeof image?.dataplaneapi === 'string' ? { image: { dataplaneapi: image.dataplaneapi } } : {}),
    ...(parseHa(o.ha) ? { ha: parseHa(o.ha)! } : {}),
  };
}

/**
 * The status on disk of an appliance whose values are in force — applied (ready, starting) or serving
 * its last good values — with the ranges its ranges file lists; undefined for any other (values that
 * never applied, or no readable status). Its CA warning is what first boot and the timer refresh.
 */
export function statusInForce(text: string | undefined, ranges: readonly string[]): Status | undefined {
  const s = parseStatus(text, { ranges, managementConfigured: true, dataPlaneStarted: true });
  return s && (s.state !== 'error' || s.serving) ? s : undefined;
}

export function issueText(s: Status): string {
  const f = (x: Finding) => ({ ...findingJson(x), keys: x.keys.join(', '), hint: x.hint ?? null });
  return template('status/issue')({
    ready: s.state === 'ready',
    starting: s.state === 'starting',
    degraded: s.state === 'degraded',
    // Error from the live checks alone (haproxy gone): the values were fine.
    liveError: s.state === 'error' && s.errors.length === 0 && (s.findings ?? []).length > 0,
    conflict: s.errors.some((e) => e.rule === DUPLICATE_ADDRESS),
    deployment: s.deployment,
    apiUrl: s.apiUrl ?? '',
    ranges: s.ranges.join(', '),
    managementConfigured: s.managementConfigured,
    dataPlaneStarted: s.dataPlaneStarted === true,
    serving: s.serving ? { appliedAt: s.serving.appliedAt, ranges: s.serving.ranges.join(', ') } : null,
    errors: s.errors.map(f),
    warnings: s.warnings.map(f),
    findings: (s.findings ?? []).map(f),
    ha: s.ha
      ? {
          ...s.ha,
          active: s.ha.role === 'active',
          fault: s.ha.role === 'fault',
          follows: s.ha.follows ?? null,
          version: s.ha.version ?? '?',
          activeVersion: s.ha.activeVersion ?? '?',
          behind: s.ha.behind ?? '?',
        }
      : null,
  });
}
