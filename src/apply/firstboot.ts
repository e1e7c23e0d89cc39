// The boot-time job: validated values → plan → files, certificates, services, status. Crash-safe and
// idempotent: every file is written atomically and only when its content changes, the "done" state
// (a hash of the normalised inputs) is recorded last, so a run killed at any point and run again
// converges to the files of an uninterrupted run, and the same inputs again change nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname as osHostname, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { DEFAULT_MEMORY_BYTES } from '../appliance/hardware.js';
import { readBuildInfo } from '../appliance/build-info.js';
import { RSYSLOGD } from '../appliance/syslog.js';
import { execa } from 'execa';
import { METRICS_PATHS, certificateNames, metricsConfig, plan } from '../plan/plan.js';
import { APPLIANCE_PCI_PATHS, type FullPlanInput, type Plan, type PlannedFile, type Unit } from '../plan/types.js';
import type { Report } from '../validate/validate.js';
import { error as errorFinding, type Finding } from '../validate/finding.js';
import { ensureCertificates, renewCertificates } from '../tls/certificates.js';
import { caFindings, DATAPLANEAPI_UNIT, describeRenewal, refreshStatus, withCaFindings } from './certificates.js';
import { converge, describeChange, describeForeign } from '../anyip/converge.js';
import { parseRangesFile, RANGES_FILE } from '../anyip/ranges-file.js';
import { DATAPLANEAPI_USERS, HAPROXY_CFG, METRICS_CFG, METRICS_LUA, STATUS_FILE } from '../appliance/paths.js';
import { writeBootMetrics } from './metrics.js';
import { haproxyPasswordHash } from './password-hash.js';
import { parseStatus, statusJson, type Serving, type State as Verdict, type Status } from './status.js';
import { publishGuestinfo, writeStatus } from './publish.js';
import { DATAPLANEAPI_BIN, READY_UNIT } from '../appliance/dataplaneapi.js';
import { apiUrl, probeUrl, type ProbeAction } from '../plan/probe.js';
import { NOT_ANSWERING } from './ready.js';
import { DUPLICATE_ADDRESS } from '../net/dad.js';
import { TLS_PATHS } from '../tls/certificates.js';
import { managementLease } from './lease.js';
import type { System } from './system.js';
import { currentContent, idsFrom, under, writeAllAtomic, writeAtomic } from '../core/atomic-write.js';

export const STATE_FILE = '/var/lib/ovactl/state.json';
const CHECK_FILE = '/etc/haproxy/.haproxy.cfg.ovactl-check';
const CHECK_METRICS = '/etc/haproxy/.ovactl-metrics.cfg.ovactl-check';
const CHECK_LUA = '/etc/haproxy/.ovactl-metrics.lua.ovactl-check';
const STATE_VERSION = 2;

export interface FirstbootInput {
  readonly report: Report;
  readonly root: string;
  readonly system: System;
  readonly version: string;
  /** haproxy used for `haproxy -c`; the check is skipped (and said so) when it is missing. */
  readonly haproxyBin?: string | undefined;
  /** Put the VIP routes in place (live runs; default true). */
  readonly anyip?: boolean;
  /** The clock, read by the shell: when values are applied (status "serving.appliedAt"). */
  readonly now?: Date;
}

export interface FirstbootResult {
  /** starting: applied; ovactl-ready.service says READY once the Data Plane API answers. */
  readonly state: Verdict;
  /** The new values were not applied and the last good configuration keeps serving. */
  readonly serving?: boolean;
  /** state error, but haproxy was started with the new values (e.g. the image lacks the Data Plane API). */
  readonly dataPlaneStarted?: boolean;
  readonly changed: boolean;
  readonly lines: readonly string[];
}

interface State {
  readonly version: number;
  readonly inputs: string;
  /** ready: these values were applied without an error (READY itself is each boot's probe's to say). */
  readonly state: 'ready' | 'error';
  /** The values in force: the last ones applied as a whole (absent until a first full apply). */
  readonly serving?: Serving;
}

const file = (path: string, content: string, mode = 0o644): PlannedFile => ({
  path,
  mode,
  owner: 'root',
  group: 'root',
  content,
  restarts: [],
  reloads: [],
});

export function inputsHash(report: Report, version: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ STATE_VERSION, version, deployment: report.deployment, properties: report.properties }))
    .digest('hex');
}

function readState(root: string): State | undefined {
  const path = under(root, STATE_FILE);
  try {
    const s = JSON.parse(currentContent(path) ?? '') as State;
    if (s.version === STATE_VERSION) return s;
    // ovactl 0.1's state (no "serving"): a ready appliance serves the ranges its ranges file lists.
    if (s.version !== 1 || s.state !== 'ready') return undefined;
    const ranges = parseRangesFile(currentContent(under(root, RANGES_FILE)) ?? '').ranges.map((r) => r.text);
    return { ...s, serving: { appliedAt: statSync(path).mtime.toISOString(), ranges } };
  } catch {
    return undefined;
  }
}

/**
 * What first boot recorded as applied: the hash of the values (inputsHash) and whether they were
 * applied without an error ("ready"). For `ovactl export`, which must hand on the values in force only.
 */
export function appliedState(root: string): { inputs: string; state: 'ready' | 'error' } | undefined {
  const s = readState(root);
  return s ? { inputs: s.inputs, state: s.state } : undefined;
}

/** `haproxy -c` on the new text before it replaces the running configuration. */
interface MetricsCheck {
  readonly cfg: string;
  readonly lua?: string | undefined;
}

/**
 * ovactl-metrics.cfg as the check loads it: the planned text, with its Lua file and certificate
 * under `root` (the same text on the appliance, where root is /).
 */
function metricsCheck(root: string, p: Plan, input: FullPlanInput): MetricsCheck | undefined {
  if (!p.files.some((f) => f.path === METRICS_CFG)) return undefined;
  const lua = p.files.find((f) => f.path === METRICS_LUA)?.content;
  const paths = { luaFile: under(root, CHECK_LUA), serverCert: under(root, METRICS_PATHS.serverCert) };
  return { cfg: metricsConfig(input, paths).cfg, lua };
}

const quoteRe = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g');

/** `haproxy -c` on the new text before it replaces the running configuration, with ovactl-metrics.cfg. */
async function haproxyCheck(
  root: string,
  content: string,
  metrics: MetricsCheck | undefined,
  bin: string | undefined,
): Promise<string | undefined> {
  if (!bin || !existsSync(bin)) return undefined;
  const tmp = under(root, CHECK_FILE);
  const tmpMetrics = under(root, CHECK_METRICS);
  const tmpLua = under(root, CHECK_LUA);
  mkdirSync(dirname(tmp), { recursive: true, mode: 0o755 });
  writeFileSync(tmp, content, { mode: 0o600 });
  if (metrics) writeFileSync(tmpMetrics, metrics.cfg, { mode: 0o600 });
  if (metrics?.lua !== undefined) writeFileSync(tmpLua, metrics.lua, { mode: 0o600 });
  try {
    const r = await execa(bin, ['-c', '-f', tmp, ...(metrics ? ['-f', tmpMetrics] : [])], {
      reject: false,
      timeout: 30_000,
    });
    if (r.exitCode === 0) return undefined;
    const text = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => /ALERT|error/i.test(l))
      .join(' ');
    return (
      text.replace(quoteRe(tmp), 'haproxy.cfg').replace(quoteRe(tmpMetrics), 'ovactl-metrics.cfg').slice(0, 500) ||
      `exit ${r.exitCode}`
    );
  } finally {
    for (const f of [tmp, tmpMetrics, tmpLua]) rmSync(f, { force: true });
  }
}

export async function runFirstboot(input: FirstbootInput): Promise<FirstbootResult> {
  const { report, root, system } = input;
  const props = report.properties;
  const lines: string[] = [];
  const errors: Finding[] = [...report.errors];
  let scope: 'full' | 'management-only' | 'none' = report.valid
    ? 'full'
    : report.management
      ? 'management-only'
      : 'none';

  const hash = inputsHash(report, input.version);
  const previous = readState(root);
  if (previous?.inputs === hash) {
    lines.push(`no changes: the deploy values are the ones applied before (${previous.state})`);
    const applied = previous.state === 'ready';
    // Certificates age although the values do not: renewed here when due (and daily by the timer).
    const tls = applied || previous.serving ? await bootRenewal(input, applied, lines) : undefined;
    const now = applied ? startingAgain(input, lines, tls?.findings ?? []) : undefined;
    const refreshed = !applied && tls ? refreshStatus(root, tls.findings, lines) : undefined;
    const statusText = now?.json ?? refreshed ?? currentContent(under(root, STATUS_FILE));
    const ca = applied ? currentContent(under(root, TLS_PATHS.caCert)) : undefined;
    if (system.live) await publishGuestinfo({ system, json: statusText, caCert: ca, lines });
    // /run is new at every boot: the appliance's metrics again.
    writeBootMetrics({ root, statusText, now: input.now ?? new Date(), lines });
    if (tls?.changed) await system.run('systemctl', ['try-restart', '--no-block', DATAPLANEAPI_UNIT]);
    if (now?.status.state === 'starting') await system.run('systemctl', ['restart', '--no-block', READY_UNIT]);
    if (!system.live) lines.push(...system.ran.map((c) => `would run: ${c}`));
    // The last good values serve (a refused change), or these values serve with an error of the image's.
    const held = statusServing(statusText);
    const started = !held && previous.state === 'error' && previous.serving !== undefined;
    return {
      state: now?.status.state ?? previous.state,
      changed: false,
      lines,
      ...(held ? { serving: true } : {}),
      ...(started ? { dataPlaneStarted: true } : {}),
    };
  }
  // A serving appliance keeps its last good configuration whole when the new values are invalid.
  const serving = previous?.serving;
  if (!report.valid && serving) return keepServing({ input, errors, serving, hash, lines });

  // Plan. The password hash is the only input the shell computes (openssl), and it is reused while it matches.
  const currentCfg = currentContent(under(root, HAPROXY_CFG));
  const currentUsers = currentContent(under(root, DATAPLANEAPI_USERS)) ?? currentCfg;
  const facts = {
    pciPaths: APPLIANCE_PCI_PATHS,
    dataplaneapiInstalled: existsSync(under(root, DATAPLANEAPI_BIN)),
    birdInstalled: existsSync(under(root, '/usr/sbin/bird')),
    rsyslogInstalled: existsSync(under(root, RSYSLOGD)),
    haproxyPasswordHash: report.valid
      ? await haproxyPasswordHash(report.values['loadbalance.haproxy_pwd'], currentUsers)
      : '',
    currentHaproxyConfig: currentCfg,
    // The VM's own memory on the appliance; the descriptor's for a tree under --root.
    memoryBytes: root === '/' ? totalmem() : DEFAULT_MEMORY_BYTES,
    // With DHCP on the management NIC: its lease, when networkd has one already.
    managementLease:
      report.valid && system.live && !report.values['network.management_ip'] ? await managementLease() : undefined,
  };
  const full: FullPlanInput | undefined = report.valid
    ? { properties: report.values, deployment: report.deployment, facts, scope: 'full' }
    : undefined;
  // Only the management NIC's values when the others have errors (or haproxy -c refused them).
  const managementOnly = (): Plan =>
    report.management
      ? plan({ properties: report.management, deployment: report.deployment, facts, scope: 'management-only' })
      : { files: [], actions: [] };
  let p: Plan = full ? plan(full) : managementOnly();

  // Certificates for the Data Plane API (and the metrics frontend, whose `crt` the check below loads).
  const clock = input.now ?? new Date();
  const certWarnings: Finding[] = [];
  let caCert: string | undefined;
  let certsChanged = false;
  const certLines: string[] = [];
  const certAction = p.actions.find((a) => a.kind === 'issue-certificates');
  if (certAction && certAction.kind === 'issue-certificates') {
    // Only a full plan issues certificates: its values are there.
    const cert = full?.properties['appliance.ca_cert'];
    const key = full?.properties['appliance.ca_cert_key'];
    const given = cert !== undefined && key !== undefined ? { cert, key } : undefined;
    const req = { ips: certAction.ips, dnsNames: certAction.dnsNames, ...(given ? { givenCa: given } : {}) };
    const tls = await ensureCertificates(root, req, { now: clock });
    caCert = tls.caCert;
    certWarnings.push(...caFindings(root, clock));
    for (const w of tls.written) certLines.push(`wrote ${w}`);
    certsChanged = tls.changed;
  }

  // The merged haproxy.cfg must pass `haproxy -c` before it replaces the running one, together with
  // ovactl-metrics.cfg (the unit loads both). When the control plane's sections fail with the new
  // global/defaults, nothing is dropped to make it pass.
  for (const f of [CHECK_FILE, CHECK_METRICS, CHECK_LUA]) rmSync(under(root, f), { force: true }); // left by a run killed mid-check
  const cfg = p.files.find((f) => f.path === HAPROXY_CFG);
  const metricsCfg = p.files.find((f) => f.path === METRICS_CFG);
  if (
    cfg &&
    full &&
    (cfg.content !== currentCfg || (metricsCfg && metricsCfg.content !== currentContent(under(root, METRICS_CFG))))
  ) {
    const problem = await haproxyCheck(root, cfg.content, metricsCheck(root, p, full), input.haproxyBin);
    if (problem !== undefined) {
      const kept = p.haproxy?.kept.length ? `the control plane's ${p.haproxy.kept.length} sections and ` : '';
      errors.push(
        errorFinding(
          'haproxy.config-check',
          ['loadbalance.haproxy_user'],
          `the merged haproxy.cfg fails "haproxy -c": ${problem}`,
          `the current haproxy.cfg (${kept}its settings) is kept; report this with the output of "ovactl render"`,
        ),
      );
      if (serving) return keepServing({ input, errors, serving, hash, lines });
      scope = 'management-only';
      p = managementOnly();
    } else if (!input.haproxyBin || !existsSync(input.haproxyBin))
      lines.push('haproxy -c skipped: haproxy is not installed here');
  }
  if (p.haproxy?.kept.length && cfg && cfg.content !== currentCfg) {
    lines.push(
      `haproxy.cfg: ${p.haproxy.changed.join(', ')} merged; kept the control plane's ${p.haproxy.kept.length} sections as they were`,
    );
  }

  // Route health injection needs BIRD, which only the image can provide.
  const rhiUnits: readonly Unit[] = ['bird.service', 'ovactl-rhi.service'];
  const withoutBird = scope === 'full' && full?.properties.rhi !== undefined && !facts.birdInstalled;
  if (withoutBird)
    errors.push(
      errorFinding(
        'rhi.bird-missing',
        ['rhi.enabled'],
        'rhi.enabled is True, but BIRD is not installed on this appliance (/usr/sbin/bird): the VIPs are not announced',
        "use an appliance image with Debian's bird2, or set rhi.enabled to False",
      ),
    );

  // Without the Data Plane API the Supervisor cannot configure the appliance: never READY.
  if (scope === 'full' && !facts.dataplaneapiInstalled) errors.push(apiMissing(root));

  // Files.
  const ids = process.getuid?.() === 0 ? idsFrom(root) : undefined;
  const restart = new Set<Unit>();
  const reload = new Set<Unit>();
  const wrote = await writeAllAtomic(root, p.files, ids);
  p.files.forEach((f, i) => {
    if (!wrote[i]) return;
    lines.push(`wrote ${f.path}`);
    for (const u of f.restarts) restart.add(u);
    for (const u of f.reloads) reload.add(u);
  });
  lines.push(...certLines);
  if (certsChanged) {
    restart.add('dataplaneapi.service');
    // haproxy loaded the old certificate for the metrics frontend: a reload takes the new one.
    if (metricsCfg?.content.includes('frontend ovactl_metrics')) reload.add('haproxy.service');
  }

  // The running host name, so this boot's journal, the prompt and the certificate agree (the kernel's
  // name is the image's until the next boot reads /etc/hostname). `hostname` (Debian: essential).
  const hostFile = p.files.findIndex((f) => f.path === '/etc/hostname');
  const hostName = hostFile < 0 ? undefined : p.files[hostFile]!.content.trim();
  const setHostname = hostName !== undefined && (wrote[hostFile] || (system.live && osHostname() !== hostName));
  const failures: string[] = [];
  const run = async (cmd: string, args: string[], opts: { input?: string } = {}) => {
    const r = await system.run(cmd, args, opts);
    if (r.exitCode !== 0) failures.push(`${cmd} ${args[0] ?? ''}: ${r.stderr.split('\n')[0] || `exit ${r.exitCode}`}`);
  };
  if (setHostname) {
    // Not a failure when refused (a container without CAP_SYS_ADMIN): the next boot reads /etc/hostname.
    const r = await system.run('hostname', [hostName]);
    const why = r.stderr.split('\n')[0] || `exit ${r.exitCode}`;
    if (r.exitCode !== 0) lines.push(`host name not set now (${why}): from the next boot`);
  }

  // Status, where the admin looks.
  const probe = p.actions.find((a): a is ProbeAction => a.kind === 'probe-dataplaneapi');
  const state: Verdict = errors.length ? 'error' : probe ? 'starting' : 'ready';
  const url = state !== 'error' && probe ? apiUrl(probe) : undefined;
  const ranges = props['loadbalance.service_ip_range'] ?? [];
  const applied: Serving | undefined = scope === 'full' ? { appliedAt: clock.toISOString(), ranges } : undefined;
  const status: Status = {
    state,
    version: input.version,
    deployment: report.deployment,
    errors,
    warnings: [...report.warnings, ...certWarnings],
    ...(url ? { apiUrl: url } : {}),
    ranges,
    managementConfigured: scope !== 'none',
    dataPlaneStarted: scope === 'full',
    ...imageOf(root),
  };
  const json = writeStatus(root, status, lines);
  writeBootMetrics({ root, statusText: json, now: clock, lines });

  // Services. During boot this unit is ordered before them: queue the jobs (--no-block), never wait.
  // The units are already loaded, so enabling needs no daemon-reload (half a second at boot).
  if (
    p.actions.some((a) => a.kind === 'set-root-password') &&
    props['appliance.root_pwd'] !== undefined &&
    !errors.some((f) => f.keys.includes('appliance.root_pwd'))
  ) {
    await run('chpasswd', [], { input: `root:${props['appliance.root_pwd']}\n` });
  }
  const starts = p.actions.flatMap((a) =>
    a.kind === 'enable-start' && !(withoutBird && rhiUnits.includes(a.unit)) ? [a.unit] : [],
  );
  const stops = p.actions.flatMap((a) => (a.kind === 'disable-stop' ? a.units : []));
  const dataPlane: Unit[] = [
    'anyip-routes.service',
    'haproxy.service',
    'dataplaneapi.service',
    'route-tables.service',
    'ovactl-rhi.service',
    ...(facts.birdInstalled ? ['bird.service' as const] : []),
  ];
  if (scope !== 'full') {
    // Invalid values on an appliance that never served: the data plane stays down (fail closed).
    await run('systemctl', ['disable', '--no-reload', ...dataPlane]);
    await run('systemctl', ['stop', '--no-block', ...dataPlane]);
  }
  if (stops.length) {
    await run('systemctl', ['disable', '--no-reload', ...stops]);
    await run('systemctl', ['stop', '--no-block', ...stops]);
  }
  if (starts.length) {
    await run('systemctl', ['enable', '--no-reload', ...starts]);
    await run('systemctl', ['start', '--no-block', ...starts]);
  }
  // The VIP routes now, in this process: the VIPs answer as soon as networkd brings the NICs up,
  // instead of after another Node start in anyip-routes.service (which then finds nothing to do).
  if (scope === 'full' && system.live && input.anyip !== false) {
    const anyip = await converge(under(root, RANGES_FILE), false);
    if ('unreadable' in anyip) failures.push(`anyip up: ${anyip.unreadable}`);
    else {
      lines.push(`anyip up: ${describeChange(anyip.diff)}`);
      if (anyip.diff.foreign.length) lines.push(`anyip up: ${describeForeign(anyip.diff)}`);
      if (anyip.kernelError) failures.push(`anyip up: ${anyip.kernelError}`);
    }
  }
  const restarts = [...restart].filter((u) => scope === 'full' || !dataPlane.includes(u));
  if (previous && restarts.length) await run('systemctl', ['try-restart', '--no-block', ...restarts]);
  // A running haproxy reloads (master-worker: the new workers take the listening sockets over, the
  // old ones finish their connections); a stopped one reads the new file when it starts.
  const reloads = [...reload].filter((u) => scope === 'full' && !restart.has(u));
  if (previous && reloads.length) await run('systemctl', ['try-reload-or-restart', '--no-block', ...reloads]);
  await publishGuestinfo({ system, json, caCert: state === 'error' ? undefined : caCert, lines });
  // READY once the API answers: after the network is up, in ovactl-ready.service (ordered after this unit).
  if (probe && state === 'starting') {
    await run('systemctl', ['restart', '--no-block', READY_UNIT]);
    lines.push(
      `${READY_UNIT} ${system.live ? 'probes' : 'would probe'} ${probeUrl(probe)} (up to ${probe.waitSeconds} s)`,
    );
  }
  lines.push(...system.ran.map((c) => `${system.live ? 'ran' : 'would run'}: ${c}`));

  if (failures.length) {
    // Not recorded as done: the next boot tries again.
    lines.push(...failures.map((f) => `failed: ${f}`));
    return { state: 'error', changed: true, lines };
  }
  writeState(root, {
    version: STATE_VERSION,
    inputs: hash,
    state: state === 'error' ? 'error' : 'ready',
    ...(applied ? { serving: applied } : {}),
  });
  return { state, changed: true, lines, ...(state === 'error' && scope === 'full' ? { dataPlaneStarted: true } : {}) };
}

const imageOf = (root: string): Pick<Status, 'image'> => {
  const info = readBuildInfo(root);
  return info ? { image: { dataplaneapi: info.dataplaneapi } } : {};
};

/** Whether the status on disk says the last good configuration keeps serving. */
function statusServing(text: string | undefined): boolean {
  try {
    return (JSON.parse(text ?? '') as { serving?: unknown }).serving !== undefined;
  } catch {
    return false;
  }
}

const writeState = (root: string, s: State): void => {
  writeAtomic(root, file(STATE_FILE, JSON.stringify(s) + '\n', 0o600));
};

interface KeepServing {
  readonly input: FirstbootInput;
  readonly errors: readonly Finding[];
  readonly serving: Serving;
  readonly hash: string;
  readonly lines: string[];
}

/**
 * New values that cannot be applied as a whole, on an appliance that serves: no file of the running
 * data plane is rewritten, no unit stopped, disabled or restarted, no route changed. Only the status
 * changes, so the admin sees the findings and which values are still in force.
 */
async function keepServing(k: KeepServing): Promise<FirstbootResult> {
  const { input, errors, serving, lines } = k;
  const { report, root, system } = input;
  const status: Status = {
    state: 'error',
    version: input.version,
    deployment: report.deployment,
    errors,
    warnings: report.warnings,
    ranges: serving.ranges,
    managementConfigured: true,
    serving,
    ...imageOf(root),
  };
  const json = writeStatus(root, status, lines);
  writeBootMetrics({ root, statusText: json, now: input.now ?? new Date(), lines });
  lines.push(
    `not applied: the last good configuration (applied ${serving.appliedAt}) keeps serving; nothing else was changed`,
  );
  // At boot the kernel has no VIP routes yet: put the ranges in force back at once, as a good boot
  // does, instead of after anyip-routes' own start. On a running appliance this changes nothing.
  if (system.live && input.anyip !== false) {
    const anyip = await converge(under(root, RANGES_FILE), false);
    if (!('unreadable' in anyip)) lines.push(`anyip up: ${describeChange(anyip.diff)}`);
  }
  await publishGuestinfo({ system, json, caCert: undefined, lines });
  lines.push(...system.ran.map((c) => `${system.live ? 'ran' : 'would run'}: ${c}`));
  writeState(root, { version: STATE_VERSION, inputs: k.hash, state: 'error', serving });
  return { state: 'error', serving: true, changed: true, lines };
}

/** dataplaneapi.missing: the image has no Data Plane API; which image, and how to get one that has. */
function apiMissing(root: string): Finding {
  const built = readBuildInfo(root)?.dataplaneapi === 'none' ? ': this image was built with DATAPLANEAPI=none' : '';
  return errorFinding(
    'dataplaneapi.missing',
    ['loadbalance.dataplane_port'],
    `the HAProxy Data Plane API is not installed (${DATAPLANEAPI_BIN}${built}): the Supervisor cannot configure this appliance`,
    'deploy an OVA built with the Data Plane API (build/image.sh downloads the pinned release, or takes ' +
      'DATAPLANEAPI=PATH to a release tarball); "ovactl --version --long" shows what an image carries',
  );
}

/**
 * A boot with the values applied before: READY was the last boot's finding, not this one's. The status
 * goes back to "starting" (a probe failure of the last boot dropped) until ovactl-ready.service says again.
 */
function startingAgain(
  input: FirstbootInput,
  lines: string[],
  findings: readonly Finding[],
): { status: Status; json: string } | undefined {
  const { report, root } = input;
  const ranges = report.properties['loadbalance.service_ip_range'] ?? [];
  const consoleFields = { ranges, managementConfigured: true, dataPlaneStarted: true };
  const parsed = parseStatus(currentContent(under(root, STATUS_FILE)), consoleFields);
  if (!parsed || parsed.serving) return undefined;
  const warnings = withCaFindings(parsed.warnings, findings);
  const status: Status = { ...parsed, warnings };
  const rewrite = statusJson(status) !== statusJson(parsed);
  // The READY step's findings are that boot's, not the values': each boot probes again.
  const errors = status.errors.filter((e) => e.rule !== NOT_ANSWERING && e.rule !== DUPLICATE_ADDRESS);
  if (errors.length || status.state === 'starting') {
    const json = rewrite ? writeStatus(root, status, lines) : statusJson(status);
    return status.state === 'starting' ? { status, json } : undefined;
  }
  const next: Status = { ...status, state: 'starting', errors };
  return { status: next, json: writeStatus(root, next, lines) };
}

export interface WriteFailure {
  readonly report: Report;
  readonly root: string;
  readonly system: System;
  readonly version: string;
  /** The one line naming the path and the fix (core/fs-error's fsMistakeLine). */
  readonly line: string;
}

/**
 * A boot that could not write its files (a full or read-only disk): the line goes where the admin
 * looks, each place best effort, since the disk that failed may hold status.json and the banner too.
 * guestinfo is not on the disk, so it tells even then. Nothing is recorded as done: the next boot tries again.
 */
export async function reportWriteFailure(w: WriteFailure): Promise<string[]> {
  const lines: string[] = [];
  const status: Status = {
    state: 'error',
    version: w.version,
    deployment: w.report.deployment,
    errors: [
      errorFinding(
        'firstboot.write-failed',
        [],
        `first boot could not write the appliance's files: ${w.line}`,
        'free space on the appliance\'s disk (or make it writable), then reboot or run "systemctl restart ' +
          'ovactl-firstboot"',
      ),
    ],
    warnings: w.report.warnings,
    ranges: w.report.properties['loadbalance.service_ip_range'] ?? [],
    managementConfigured: false,
  };
  let json = statusJson(status);
  try {
    json = writeStatus(w.root, status, lines);
  } catch (e) {
    lines.push(`status not written: ${(e as Error).message.split('\n')[0]}`);
  }
  await publishGuestinfo({ system: w.system, json, caCert: undefined, lines });
  return lines;
}

/**
 * A boot with unchanged values: the certificate renewed when due, for the values applied (as a
 * first boot issues it, so removed files come back), or for the names it carries while the last good
 * values serve; and the CA warning of this boot. A failure is a line: the certificate in use stays.
 */
async function bootRenewal(
  input: FirstbootInput,
  applied: boolean,
  lines: string[],
): Promise<{ changed: boolean; findings: Finding[] }> {
  const { report, root } = input;
  const props = report.properties;
  const now = input.now ?? new Date();
  const ca = props['appliance.ca_cert'],
    key = props['appliance.ca_cert_key'];
  const names = report.management && certificateNames(report.management);
  const req = names && { ...names, ...(ca && key ? { givenCa: { cert: ca, key } } : {}) };
  try {
    // A DHCP management address is route-tables.service's to put in the certificate (the lease comes
    // after this unit): renew for the names the certificate carries, or the leased SAN would be dropped.
    const dhcpManagement = props['network.management_ip'] === undefined;
    const r =
      applied && !dhcpManagement && req
        ? await ensureCertificates(root, req, { now })
        : await renewCertificates(root, { now });
    if (typeof r === 'string') lines.push(`certificates: nothing to renew (${r})`);
    else lines.push(...describeRenewal(r));
    return { changed: typeof r !== 'string' && r.changed, findings: caFindings(root, now) };
  } catch (e) {
    lines.push(`certificates not renewed: ${(e as Error).message}`);
    return { changed: false, findings: caFindings(root, now) };
  }
}
