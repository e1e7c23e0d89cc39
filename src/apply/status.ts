// Where the admin looks: the status document (guestinfo.ovactl.status, /var/lib/ovactl/status.json)
// and the console (/etc/issue.d/ovactl.issue, shown by agetty above the login prompt).
import { template } from '../render/templates.js';
import { findingJson, type Finding } from '../validate/finding.js';
import type { Deployment } from '../validate/context.js';

export const STATUS_FILE = '/var/lib/ovactl/status.json';
export const ISSUE_FILE = '/etc/issue.d/ovactl.issue';
export const STATUS_GUESTINFO = 'guestinfo.ovactl.status';
export const CACERT_GUESTINFO = 'guestinfo.dataplaneapi.cacert';

/** The values in force on a serving appliance: when they were applied, and their VIP ranges. */
export interface Serving {
  readonly appliedAt: string;
  readonly ranges: readonly string[];
}

export interface Status {
  readonly state: 'ready' | 'error';
  readonly version: string;
  readonly deployment: Deployment;
  readonly errors: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly apiUrl?: string;
  readonly ranges: readonly string[];
  readonly managementConfigured: boolean;
  /** state error on an appliance that keeps serving its last good values. */
  readonly serving?: Serving;
  /** What the image carries (build-info.json), when known. */
  readonly image?: { readonly dataplaneapi: string };
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
    ...(s.serving ? { serving: { appliedAt: s.serving.appliedAt, ranges: s.serving.ranges } } : {}),
    ...(s.image ? { image: { dataplaneapi: s.image.dataplaneapi } } : {}),
  });
}

export function issueText(s: Status): string {
  const f = (x: Finding) => ({ ...findingJson(x), keys: x.keys.join(', '), hint: x.hint ?? null });
  return template('status/issue')({
    ready: s.state === 'ready',
    deployment: s.deployment,
    apiUrl: s.apiUrl ?? '',
    ranges: s.ranges.join(', '),
    managementConfigured: s.managementConfigured,
    serving: s.serving ? { appliedAt: s.serving.appliedAt, ranges: s.serving.ranges.join(', ') } : null,
    errors: s.errors.map(f),
    warnings: s.warnings.map(f),
  });
}
