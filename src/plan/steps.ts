// The steps of a boot: what first boot does, in order, as data. plan/boot.ts decides them from the
// values and the facts the shell gathered; apply/steps.ts runs them; `ovactl render` prints them.
// No step holds a secret: root's password and the given CA's key travel beside the steps, to the
// interpreter only (apply/steps.ts's Secrets).
import { RANGES_FILE, STATE_FILE, STATUS_FILE } from '../appliance/paths.js';
import type { Plan, PlannedFile, Unit } from './types.js';
import type { Serving, State, Status } from './status.js';

export type Step =
  /** A line for the journal: what was decided and why. */
  | { readonly kind: 'note'; readonly line: string }
  /** Files a killed earlier run may have left (the `haproxy -c` copies). */
  | { readonly kind: 'remove-files'; readonly paths: readonly string[] }
  /**
   * The Data Plane API certificate for these names (the given CA, or the one kept, or a new one);
   * when a file changes, these units restart or reload (the metrics frontend loads the certificate too).
   */
  | {
      readonly kind: 'issue-certificates';
      readonly ips: readonly string[];
      readonly dnsNames: readonly string[];
      readonly givenCa: boolean;
      readonly restarts: readonly Unit[];
      readonly reloads: readonly Unit[];
    }
  /**
   * A boot with the values applied before: the certificate renewed when due, for these names, or for
   * the names it carries (`names` absent). A failure is a line: the certificate in use stays.
   */
  | {
      readonly kind: 'renew-certificates';
      readonly names?: { readonly ips: readonly string[]; readonly dnsNames: readonly string[] };
      readonly givenCa: boolean;
      readonly restarts: readonly Unit[];
    }
  /**
   * `haproxy -c` on the new haproxy.cfg with ovactl-metrics.cfg (as the unit loads them), before they
   * replace the running ones. The gate: when it fails, no later step runs, and first boot plans
   * again with the failure as a fact (plan/boot.ts's BootFacts.haproxyProblem).
   */
  | {
      readonly kind: 'check-haproxy';
      readonly cfg: string;
      readonly metrics?: { readonly cfg: string; readonly lua?: string | undefined } | undefined;
    }
  /**
   * Every planned file, atomically, each only when its content changes;
   * the units of those that did restart or reload. */
  | { readonly kind: 'write-files'; readonly files: readonly PlannedFile[] }
  /** The running host name (`hostname`): always, or only when /etc/hostname was written by this run. */
  | { readonly kind: 'set-hostname'; readonly name: string; readonly onlyIfWritten: boolean }
  /**
   * status.json and the console banner, each only when it changes. caWarnings: this boot's CA
   * warning (the certificate steps found it) replaces the one in `status`.
   */
  | { readonly kind: 'write-status'; readonly status: Status; readonly caWarnings: boolean }
  /** The boot's metrics under /run (new at every boot), from the status just written (or on disk). */
  | { readonly kind: 'boot-metrics' }
  /**
   * A folder bound into a running unit's mount namespace (`systemctl bind`): what the unit's own
   * Bind*Paths= give it only at start. Nothing to do while the unit is not running.
   */
  | {
      readonly kind: 'bind-into-unit';
      readonly unit: Unit;
      readonly source: string;
      readonly target: string;
    }
  /** root's password, given to chpasswd on stdin. */
  | { readonly kind: 'set-root-password' }
  /** One systemctl call. bestEffort: a failure is a line, not a reason to try the whole boot again. */
  | { readonly kind: 'systemctl'; readonly args: readonly string[]; readonly bestEffort?: boolean }
  /**
   * The kernel's local routes made equal to the ranges file now, in this process. `standbyUnless`: a pair
   * member without route health injection keeps no route unless it holds this floating address.
   */
  | { readonly kind: 'converge-anyip'; readonly bestEffort: boolean; readonly standbyUnless?: string }
  /** `systemctl try-restart --no-block` of the units whose files changed in this run, but these. */
  | { readonly kind: 'restart-changed'; readonly except: readonly Unit[]; readonly bestEffort?: boolean }
  /** `systemctl try-reload-or-restart --no-block` of the units to reload that do not restart anyway. */
  | { readonly kind: 'reload-changed' }
  /** guestinfo.ovactl.status (the status just written, or on disk) and the CA certificate: none, the
   * one just issued, or the one on disk. */
  | { readonly kind: 'publish-guestinfo'; readonly caCert: 'none' | 'issued' | 'on-disk' }
  /**
   * The record that these values were applied:
   * the last step, skipped when a step failed (the next boot tries again).
   */
  | {
      readonly kind: 'record-state';
      readonly inputs: string;
      readonly state: 'ready' | 'error';
      readonly serving?: Serving;
    };

/** What first boot tells when the steps have run without a failure. */
export interface Outcome {
  readonly state: State;
  /** The deploy values were new (false: the ones applied before). */
  readonly changed: boolean;
  /** The new values were not applied and the last good configuration keeps serving. */
  readonly serving?: boolean;
  /** state error, but haproxy was started with the values (e.g. the image lacks the Data Plane API). */
  readonly dataPlaneStarted?: boolean;
}

export interface BootPlan {
  readonly steps: readonly Step[];
  readonly outcome: Outcome;
  /** How ovactl's haproxy.cfg sections meet the control plane's (when haproxy.cfg is written). */
  readonly haproxy?: Plan['haproxy'];
}

const units = (us: readonly string[]): string => (us.length ? us.join(' ') : 'none');
const sans = (n: { readonly ips: readonly string[]; readonly dnsNames: readonly string[] }): string =>
  [...n.ips, ...n.dnsNames].join(', ');

type Describe<K extends Step['kind']> = (s: Extract<Step, { kind: K }>) => string;

const DESCRIBE: { readonly [K in Step['kind']]: Describe<K> } = {
  note: (s) => `say: ${s.line}`,
  'remove-files': (s) => `remove ${s.paths.join(' ')} (left by an interrupted check)`,
  'issue-certificates': (s) =>
    `issue the Data Plane API certificate (${s.givenCa ? 'given CA' : 'generated CA'}; SANs ${sans(s)}); ` +
    `when it changes: restart ${units(s.restarts)}, reload ${units(s.reloads)}`,
  'renew-certificates': (s) =>
    `renew the Data Plane API certificate when due (${s.names ? `SANs ${sans(s.names)}` : 'its names'}); ` +
    `when it changes: restart ${units(s.restarts)}`,
  'check-haproxy': (s) =>
    `haproxy -c on the new haproxy.cfg${s.metrics ? ' and ovactl-metrics.cfg' : ''}; ` +
    'when it fails, nothing below runs and first boot plans again',
  'write-files': (s) => `write the ${s.files.length} planned files, atomically, each only when it changes`,
  'set-hostname': (s) => `hostname ${s.name}${s.onlyIfWritten ? ' (when /etc/hostname changes)' : ''}`,
  'write-status': (s) =>
    `write ${STATUS_FILE} and the console banner: state ${s.status.state}, ${s.status.errors.length} errors`,
  'boot-metrics': () => "write the boot's metrics (when appliance.metrics_port is on)",
  'bind-into-unit': (s) => `systemctl bind --read-only --mkdir ${s.unit} ${s.source} ${s.target} (when it runs)`,
  'set-root-password': () => 'chpasswd (root password, on stdin)',
  systemctl: (s) => `systemctl ${s.args.join(' ')}`,
  'converge-anyip': () => `the kernel's local routes to ${RANGES_FILE} (as anyip-routes does)`,
  'restart-changed': (s) =>
    `systemctl try-restart --no-block the units whose files changed${s.except.length ? ', but the data plane' : ''}`,
  'reload-changed': () =>
    'systemctl try-reload-or-restart --no-block the units to reload (haproxy) that do not restart',
  'publish-guestinfo': (s) => `publish the status to guestinfo${s.caCert === 'none' ? '' : ' with the CA certificate'}`,
  'record-state': (s) => `record the values as applied in ${STATE_FILE}: ${s.state} (unless a step failed)`,
};

/** One line per step, as `ovactl render` prints them: what apply will do, never a secret. */
export const describeStep = (s: Step): string => (DESCRIBE[s.kind] as (s: Step) => string)(s);
