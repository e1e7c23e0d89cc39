// First boot's policy, as data: the validated values and the facts the shell gathered → the complete,
// ordered list of steps (plan/steps.ts) and what first boot reports when they run. Three ways a boot
// goes: the values applied before (only certificates age, the status starts again), new values that
// cannot be applied on a serving appliance (the last good configuration keeps serving, whole), and
// new values applied — the whole appliance, or only the management NIC when other values are invalid
// or `haproxy -c` refused the merged haproxy.cfg (then the interpreter's gate plans again).
import { join } from 'node:path';
import { READY_UNIT, DATAPLANEAPI_BIN } from '../appliance/dataplaneapi.js';
import {
  BIRD_BIN,
  HAPROXY_CFG,
  HAPROXY_CHECK_FILES,
  HAPROXY_CHROOT,
  METRICS_CFG,
  METRICS_DIR,
  METRICS_DIR_IN_CHROOT,
  METRICS_LUA,
  SYSTEM_FILES,
} from '../appliance/paths.js';
import { error as errorFinding, type Finding } from '../validate/finding.js';
import type { Report } from '../validate/validate.js';
import { certificateNames, METRICS_PATHS, metricsConfig, plan, servesMetrics } from './plan.js';
import { apiUrl, probeUrl, type ProbeAction } from './probe.js';
import {
  DUPLICATE_ADDRESS,
  NOT_ANSWERING,
  parseStatus,
  statusInForce,
  type Serving,
  type State,
  type Status,
} from './status.js';
import type { BootPlan, Step } from './steps.js';
import type { Facts, FullPlanInput, Plan, Unit } from './types.js';

/** What first boot recorded the last time it applied values (/var/lib/ovactl/state.json). */
export interface PreviousState {
  readonly inputs: string;
  /** ready: applied without an error (READY itself is each boot's probe's to say). */
  readonly state: 'ready' | 'error';
  /** The values in force: the last ones applied as a whole. */
  readonly serving?: Serving | undefined;
}

/** The machine as the shell found it before the first step (apply/facts.ts gathers them). */
export interface BootFacts extends Facts {
  /** Whether commands really run (false under --root). */
  readonly live: boolean;
  /** The tree ('/' on the appliance): `haproxy -c` loads the copies, and the certificate, under it. */
  readonly root: string;
  /** The clock, read once: when these values are applied. */
  readonly now: Date;
  /** The hash of the normalised inputs (apply/facts.ts's inputsHash). */
  readonly inputsHash: string;
  readonly previous?: PreviousState | undefined;
  /** status.json on disk. */
  readonly currentStatus?: string | undefined;
  /** The ranges the ranges file on disk lists (the console's, for a status kept as it is). */
  readonly rangesInForce: readonly string[];
  readonly currentMetricsConfig?: string | undefined;
  /** Whether `haproxy -c` can run here. */
  readonly haproxyCheck: boolean;
  /** The kernel's host name now (live only). */
  readonly runningHostname?: string | undefined;
  /** What the image carries (build-info.json). */
  readonly image?: { readonly dataplaneapi: string } | undefined;
  /** Put the VIP routes in place in this process (live runs). */
  readonly anyip: boolean;
  /** The second plan: what `haproxy -c` said of the first one's haproxy.cfg. */
  readonly haproxyProblem?: string | undefined;
}

export interface BootInput {
  readonly report: Report;
  readonly version: string;
  readonly facts: BootFacts;
}

export function bootPlan(input: BootInput): BootPlan {
  const { report, facts } = input;
  const previous = facts.previous;
  if (previous?.inputs === facts.inputsHash) return unchanged(input, previous);
  const errors: Finding[] = [...report.errors];
  // A serving appliance keeps its last good configuration whole when the new values are invalid.
  const serving = previous?.serving;
  if (!report.valid && serving) return keepServing(input, errors, serving);
  if (report.valid && facts.haproxyProblem !== undefined) {
    const full = plan(fullInput(input, report.values));
    errors.push(configCheckFailed(facts.haproxyProblem, full.haproxy?.kept.length ?? 0));
    if (serving) return keepServing(input, errors, serving);
    return applyValues(input, { scope: 'management-only', errors });
  }
  const scope = report.valid ? 'full' : report.management ? 'management-only' : 'none';
  return applyValues(input, { scope, errors });
}

const fullInput = (input: BootInput, values: FullPlanInput['properties']): FullPlanInput => ({
  properties: values,
  deployment: input.report.deployment,
  facts: input.facts,
  scope: 'full',
});

/** Units of the data plane: down while the values that configure them are invalid (fail closed). */
const dataPlaneUnits = (facts: Facts): Unit[] => [
  'anyip-routes.service',
  'haproxy.service',
  'dataplaneapi.service',
  'route-tables.service',
  'ovactl-rhi.service',
  ...(facts.birdInstalled ? ['bird.service' as const] : []),
  // A pair member with invalid values must not take the floating address.
  'ovactl-ha.service',
  ...(facts.keepalivedInstalled ? ['keepalived.service' as const] : []),
];
const RHI_UNITS: readonly Unit[] = ['bird.service', 'ovactl-rhi.service'];
const HA_UNITS: readonly Unit[] = ['keepalived.service', 'ovactl-ha.service'];

const configCheckFailed = (problem: string, kept: number): Finding =>
  errorFinding(
    'haproxy.config-check',
    ['loadbalance.haproxy_user'],
    `the merged haproxy.cfg fails "haproxy -c": ${problem}`,
    `the current haproxy.cfg (${kept ? `the control plane's ${kept} sections and ` : ''}its settings) is kept; ` +
      'report this with the output of "ovactl render"',
  );

const keepalivedMissing = (): Finding =>
  errorFinding(
    'ha.keepalived-missing',
    ['ha.address'],
    'ha.address is set, but keepalived is not installed on this appliance: it cannot take part in a pair',
    "use an appliance image with Debian's keepalived, or clear ha.address and ha.peers",
  );

const birdMissing = (): Finding =>
  errorFinding(
    'rhi.bird-missing',
    ['rhi.enabled'],
    `rhi.enabled is True, but BIRD is not installed on this appliance (${BIRD_BIN}): the VIPs are not announced`,
    "use an appliance image with Debian's bird2, or set rhi.enabled to False",
  );

/** dataplaneapi.missing: the image has no Data Plane API; which image, and how to get one that has. */
const apiMissing = (facts: BootFacts): Finding =>
  errorFinding(
    'dataplaneapi.missing',
    ['loadbalance.dataplane_port'],
    `the HAProxy Data Plane API is not installed (${DATAPLANEAPI_BIN}` +
      `${facts.image?.dataplaneapi === 'none' ? ': this image was built with DATAPLANEAPI=none' : ''}): ` +
      'the Supervisor cannot configure this appliance',
    'deploy an OVA built with the Data Plane API (build/image.sh downloads the pinned release, or takes ' +
      'DATAPLANEAPI=PATH to a release tarball); "ovactl --version --long" shows what an image carries',
  );

const image = (facts: BootFacts): Pick<Status, 'image'> => (facts.image ? { image: facts.image } : {});

interface Apply {
  readonly scope: 'full' | 'management-only' | 'none';
  readonly errors: Finding[];
}

/** New values applied: the whole appliance, or the management NIC alone so the admin can log in and fix them. */
function applyValues(input: BootInput, a: Apply): BootPlan {
  const { report, facts } = input;
  const { scope, errors } = a;
  const full = scope === 'full' && report.valid ? fullInput(input, report.values) : undefined;
  const p: Plan = full
    ? plan(full)
    : report.management
      ? plan({ properties: report.management, deployment: report.deployment, facts, scope: 'management-only' })
      : { files: [], actions: [] };
  const steps: Step[] = [{ kind: 'remove-files', paths: Object.values(HAPROXY_CHECK_FILES) }];
  const metricsCfg = p.files.find((f) => f.path === METRICS_CFG);
  const cert = p.actions.find((x) => x.kind === 'issue-certificates');
  if (cert?.kind === 'issue-certificates') {
    // Before the check: the metrics frontend's `crt` is one of the files haproxy -c loads.
    const reloads: Unit[] = servesMetrics(metricsCfg?.content) ? ['haproxy.service'] : [];
    const { ips, dnsNames, givenCa } = cert;
    steps.push({ kind: 'issue-certificates', ips, dnsNames, givenCa, restarts: ['dataplaneapi.service'], reloads });
  }
  const cfg = p.files.find((f) => f.path === HAPROXY_CFG);
  if (full && cfg && (cfg.content !== facts.currentHaproxyConfig || metricsCfg?.content !== facts.currentMetricsConfig))
    steps.push(
      facts.haproxyCheck
        ? { kind: 'check-haproxy', cfg: cfg.content, metrics: metricsCheck(full, p, facts.root) }
        : { kind: 'note', line: 'haproxy -c skipped: haproxy is not installed here' },
    );
  if (p.haproxy?.kept.length && cfg && cfg.content !== facts.currentHaproxyConfig)
    steps.push({
      kind: 'note',
      line:
        `haproxy.cfg: ${p.haproxy.changed.join(', ')} merged; ` +
        `kept the control plane's ${p.haproxy.kept.length} sections as they were`,
    });

  // Route health injection needs BIRD, which only the image can provide; the Supervisor needs the API.
  const withoutBird = full !== undefined && full.properties.rhi !== undefined && !facts.birdInstalled;
  if (withoutBird) errors.push(birdMissing());
  // A pair needs keepalived: without it the units of the pair are not enabled (systemctl enable of one
  // missing unit enables none of the others named with it).
  const withoutKeepalived = full !== undefined && full.properties.ha !== undefined && !facts.keepalivedInstalled;
  if (withoutKeepalived) errors.push(keepalivedMissing());
  if (full && !facts.dataplaneapiInstalled) errors.push(apiMissing(facts));

  steps.push({ kind: 'write-files', files: p.files });
  const hostFile = p.files.find((f) => f.path === SYSTEM_FILES.hostname);
  if (hostFile) {
    // The running name too, so this boot's journal, the prompt and the certificate agree.
    const name = hostFile.content.trim();
    steps.push({ kind: 'set-hostname', name, onlyIfWritten: !(facts.live && facts.runningHostname !== name) });
  }

  const probe = p.actions.find((x): x is ProbeAction => x.kind === 'probe-dataplaneapi');
  const state: State = errors.length ? 'error' : probe ? 'starting' : 'ready';
  const url = state !== 'error' && probe ? apiUrl(probe) : undefined;
  const ranges = report.properties['loadbalance.service_ip_range'] ?? [];
  const status: Status = {
    state,
    version: input.version,
    deployment: report.deployment,
    errors,
    warnings: report.warnings,
    ...(url ? { apiUrl: url } : {}),
    ranges,
    managementConfigured: scope !== 'none',
    dataPlaneStarted: scope === 'full',
    ...image(facts),
  };
  // Certificates issued by the first plan, before its check failed, still warn.
  const certified = full !== undefined || facts.haproxyProblem !== undefined;
  steps.push({ kind: 'write-status', status, caWarnings: certified }, { kind: 'boot-metrics' });
  // Metrics switched on while haproxy runs: its unit binds the metrics folder into the chroot only at
  // start, and a reload keeps that namespace, so the folder is bound into the running unit now.
  if (full && facts.previous && servesMetrics(metricsCfg?.content) && !servesMetrics(facts.currentMetricsConfig))
    steps.push({
      kind: 'bind-into-unit',
      unit: 'haproxy.service',
      source: METRICS_DIR,
      target: join(HAPROXY_CHROOT, METRICS_DIR_IN_CHROOT),
    });

  // systemd-sysctl ran before the first boot wrote its drop-in: applied now, before haproxy starts,
  // so a VIP outside the ranges cannot fail its start (ip_nonlocal_bind). Later boots: restart-changed.
  if (!facts.previous && p.files.some((f) => f.path === SYSTEM_FILES.sysctl))
    steps.push({ kind: 'systemctl', args: ['restart', 'systemd-sysctl.service'], bestEffort: true });
  steps.push(...unitSteps({ input, plan: p, scope, errors, withoutBird, withoutKeepalived }));
  // The VIP routes now: the VIPs answer as soon as networkd brings the NICs up.
  if (full && facts.anyip) {
    const { ha, rhi } = full.properties;
    // A pair without route health injection: only the appliance holding the floating address answers.
    const standbyUnless = ha && !rhi ? { standbyUnless: ha.address } : {};
    steps.push({ kind: 'converge-anyip', bestEffort: false, ...standbyUnless });
  }
  if (facts.previous) {
    steps.push({ kind: 'restart-changed', except: full ? [] : dataPlaneUnits(facts) });
    // A running haproxy reloads (master-worker: new workers take the sockets over, old ones finish).
    if (full) steps.push({ kind: 'reload-changed' });
  }
  steps.push({ kind: 'publish-guestinfo', caCert: state === 'error' ? 'none' : 'issued' });
  // READY once the API answers: after the network is up, in ovactl-ready.service (ordered after this unit).
  if (probe && state === 'starting')
    steps.push(
      { kind: 'systemctl', args: ['restart', '--no-block', READY_UNIT] },
      {
        kind: 'note',
        line: `${READY_UNIT} ${facts.live ? 'probes' : 'would probe'} ${probeUrl(probe)} (up to ${
          probe.waitSeconds
        } s)`,
      },
    );
  const applied: Serving | undefined = full ? { appliedAt: facts.now.toISOString(), ranges } : undefined;
  steps.push({
    kind: 'record-state',
    inputs: facts.inputsHash,
    state: state === 'error' ? 'error' : 'ready',
    ...(applied ? { serving: applied } : {}),
  });
  return {
    steps,
    outcome: { state, changed: true, ...(state === 'error' && full ? { dataPlaneStarted: true } : {}) },
    ...(p.haproxy ? { haproxy: p.haproxy } : {}),
  };
}

interface Units {
  readonly input: BootInput;
  readonly plan: Plan;
  readonly scope: Apply['scope'];
  readonly errors: readonly Finding[];
  readonly withoutBird: boolean;
  readonly withoutKeepalived: boolean;
}

/**
 * root's password and the units: the data plane down while its values are invalid, the units the
 * values switch off stopped, the others started. During boot this unit is ordered before them: the
 * jobs are queued (--no-block), never waited for; the units are loaded, so enabling needs no
 * daemon-reload (half a second at boot).
 */
function unitSteps(u: Units): Step[] {
  const { input, plan: p, scope, errors, withoutBird, withoutKeepalived } = u;
  const steps: Step[] = [];
  const setPassword = p.actions.some((x) => x.kind === 'set-root-password');
  const passwordOk = !errors.some((f) => f.keys.includes('appliance.root_pwd'));
  if (setPassword && input.report.properties['appliance.root_pwd'] !== undefined && passwordOk)
    steps.push({ kind: 'set-root-password' });
  const stops = p.actions.flatMap((x) => (x.kind === 'disable-stop' ? x.units : []));
  const starts = p.actions.flatMap((x) =>
    x.kind === 'enable-start' &&
    !(withoutBird && RHI_UNITS.includes(x.unit)) &&
    !(withoutKeepalived && HA_UNITS.includes(x.unit))
      ? [x.unit]
      : [],
  );
  const both = (units: readonly Unit[], verbs: [string, string], flags: [string, string]): Step[] =>
    units.length
      ? [
          { kind: 'systemctl', args: [verbs[0], flags[0], ...units] },
          { kind: 'systemctl', args: [verbs[1], flags[1], ...units] },
        ]
      : [];
  // Invalid values on an appliance that never served: the data plane stays down.
  if (scope !== 'full')
    steps.push(...both(dataPlaneUnits(input.facts), ['disable', 'stop'], ['--no-reload', '--no-block']));
  steps.push(...both(stops, ['disable', 'stop'], ['--no-reload', '--no-block']));
  steps.push(...both(starts, ['enable', 'start'], ['--no-reload', '--no-block']));
  return steps;
}

/** ovactl-metrics.cfg as `haproxy -c` loads it: the planned text, pointing at the copies under the tree. */
function metricsCheck(full: FullPlanInput, p: Plan, root: string): { cfg: string; lua?: string } | undefined {
  if (!p.files.some((f) => f.path === METRICS_CFG)) return undefined;
  const lua = p.files.find((f) => f.path === METRICS_LUA)?.content;
  const paths = { luaFile: join(root, HAPROXY_CHECK_FILES.lua), serverCert: join(root, METRICS_PATHS.serverCert) };
  return { cfg: metricsConfig(full, paths).cfg, lua };
}

/**
 * New values that cannot be applied as a whole, on an appliance that serves: no file of the running
 * data plane is rewritten, no unit stopped, disabled or restarted, no route changed. Only the status
 * changes, so the admin sees the findings and which values are still in force.
 */
function keepServing(input: BootInput, errors: Finding[], serving: Serving): BootPlan {
  const { report, facts } = input;
  const status: Status = {
    state: 'error',
    version: input.version,
    deployment: report.deployment,
    errors,
    warnings: report.warnings,
    ranges: serving.ranges,
    managementConfigured: true,
    serving,
    ...image(facts),
  };
  const steps: Step[] = [
    { kind: 'write-status', status, caWarnings: false },
    { kind: 'boot-metrics' },
    {
      kind: 'note',
      line:
        `not applied: the last good configuration (applied ${serving.appliedAt}) keeps serving; ` +
        'nothing else was changed',
    },
  ];
  // At boot the kernel has no VIP routes yet: the ranges in force back at once, as a good boot does.
  if (facts.anyip) steps.push({ kind: 'converge-anyip', bestEffort: true });
  steps.push(
    { kind: 'publish-guestinfo', caCert: 'none' },
    { kind: 'record-state', inputs: facts.inputsHash, state: 'error', serving },
  );
  return { steps, outcome: { state: 'error', changed: true, serving: true } };
}

/**
 * A boot with the values applied before: nothing is written but what ages (the certificate, renewed
 * when due) and the status: READY was the last boot's finding, not this one's, so an applied
 * appliance goes back to "starting" until ovactl-ready.service says again.
 */
function unchanged(input: BootInput, previous: PreviousState): BootPlan {
  const { report, facts } = input;
  const applied = previous.state === 'ready';
  const steps: Step[] = [
    { kind: 'note', line: `no changes: the deploy values are the ones applied before (${previous.state})` },
  ];
  if (applied || previous.serving) {
    // A DHCP management address is route-tables.service's to put in the certificate (the lease comes
    // after this unit): renewed for the names the certificate carries, or the leased SAN would be dropped.
    const props = report.properties;
    const dhcp = props['network.management_ip'] === undefined;
    const givenCa = props['appliance.ca_cert'] !== undefined && props['appliance.ca_cert_key'] !== undefined;
    const names = applied && !dhcp && report.management ? certificateNames(report.management) : undefined;
    steps.push({
      kind: 'renew-certificates',
      ...(names ? { names } : {}),
      givenCa: names !== undefined && givenCa,
      restarts: ['dataplaneapi.service'],
    });
  }
  const again = applied ? startingAgain(input) : undefined;
  if (again) steps.push({ kind: 'write-status', status: again, caWarnings: true });
  else if (!applied && previous.serving) {
    // The last good values serve: the status on disk, with this boot's CA warning.
    const kept = statusInForce(facts.currentStatus, facts.rangesInForce);
    if (kept) steps.push({ kind: 'write-status', status: kept, caWarnings: true });
  }
  if (facts.live) steps.push({ kind: 'publish-guestinfo', caCert: applied ? 'on-disk' : 'none' });
  // /run is new at every boot: the appliance's metrics again.
  steps.push({ kind: 'boot-metrics' });
  steps.push({ kind: 'restart-changed', except: [], bestEffort: true });
  const starting = again?.state === 'starting';
  if (starting) steps.push({ kind: 'systemctl', args: ['restart', '--no-block', READY_UNIT], bestEffort: true });
  // The last good values serve (a refused change), or these values serve with an error of the image's.
  const held = !again && servingIn(facts.currentStatus);
  const started = !held && previous.state === 'error' && previous.serving !== undefined;
  return {
    steps,
    outcome: {
      state: starting ? 'starting' : previous.state,
      changed: false,
      ...(held ? { serving: true } : {}),
      ...(started ? { dataPlaneStarted: true } : {}),
    },
  };
}

/**
 * The status of an applied appliance at a boot with the same values: the READY step's findings
 * dropped (each boot probes again) and the state back to "starting" — unless other errors remain.
 * undefined: nothing to write (no readable status, or one that serves the last good values).
 */
function startingAgain(input: BootInput): Status | undefined {
  const { report, facts } = input;
  const ranges = report.properties['loadbalance.service_ip_range'] ?? [];
  const parsed = parseStatus(facts.currentStatus, { ranges, managementConfigured: true, dataPlaneStarted: true });
  if (!parsed || parsed.serving) return undefined;
  const errors = parsed.errors.filter((e) => e.rule !== NOT_ANSWERING && e.rule !== DUPLICATE_ADDRESS);
  if (errors.length || parsed.state === 'starting') return parsed;
  return { ...parsed, state: 'starting', errors, findings: [] };
}

/** Whether a status document says the last good configuration keeps serving. */
function servingIn(text: string | undefined): boolean {
  try {
    return (JSON.parse(text ?? '') as { serving?: unknown }).serving !== undefined;
  } catch {
    return false;
  }
}
