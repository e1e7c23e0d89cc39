// `ovactl ready` (ovactl-ready.service, queued by first boot): the last step of a boot that applied
// its values. First boot runs before the network is up, so it leaves the state "starting"; this
// waits, bounded, for the Data Plane API to answer as the Supervisor will ask it, then says READY,
// or error with the reason and the API's last journal lines.
import { execa } from 'execa';
import { applyBatch, ownedRoutes } from '../anyip/routes.js';
import {
  describeDuplicate,
  DUPLICATE_FIX,
  nicAddresses,
  onNic,
  ownMacs,
  ownTargets,
  probeDuplicates,
  rangeSamples,
  type DadTarget,
  type NicAddress,
} from '../net/dad.js';
import { runIp } from '../net/iproute.js';
import type { PropertyKey } from '../properties/table.js';
import { DATAPLANEAPI_PROBE_PATH } from '../appliance/dataplaneapi.js';
import { STATUS_FILE, TLS_PATHS } from '../appliance/paths.js';
import { httpsUrl } from '../net/url.js';
import { error as errorFinding } from '../validate/finding.js';
import type { Report } from '../validate/validate.js';
import { DUPLICATE_ADDRESS, NOT_ANSWERING, parseStatus, type State, type Status } from '../plan/status.js';
import { probeOnce, type ProbeOutcome } from './probe.js';
import { publishGuestinfo, writeStatus } from './publish.js';
import { managementLease } from './lease.js';
import type { System } from './system.js';
import { currentContent, under } from '../core/atomic-write.js';

const ATTEMPT_TIMEOUT_MS = 5_000;
const RETRY_MS = 1_000;
const JOURNAL_LINES = 5;

export interface ReadyInput {
  readonly report: Report;
  readonly root: string;
  readonly system: System;
  readonly waitSeconds: number;
}

export interface ReadyResult {
  readonly state: State;
  /** What happened: the API answered or not; or the status was not "starting" (or absent): no probe. */
  readonly outcome: 'answered' | 'not-answering' | 'nothing-to-wait' | 'no-status' | 'address-conflict';
  readonly lines: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The management NIC's address: the static one, or the one DHCP leased (known once networkd has it). */
async function managementHost(report: Report): Promise<string | undefined> {
  return report.management?.['network.management_ip']?.address.text ?? managementLease();
}

export async function runReady(input: ReadyInput): Promise<ReadyResult> {
  const { report, root, system } = input;
  const props = report.properties;
  const lines: string[] = [];
  const consoleFields = {
    ranges: props['loadbalance.service_ip_range'] ?? [],
    managementConfigured: true,
    dataPlaneStarted: true,
  };
  const status = parseStatus(currentContent(under(root, STATUS_FILE)), consoleFields);
  if (!status) {
    lines.push(
      `no first-boot status in ${STATUS_FILE}: run "systemctl restart ovactl-firstboot" (or ovactl firstboot) first`,
    );
    return { state: 'error', outcome: 'no-status', lines };
  }
  if (status.state !== 'starting') {
    lines.push(`nothing to wait for: the first-boot status is ${status.state}`);
    return { state: status.state, outcome: 'nothing-to-wait', lines };
  }
  const conflict = await addressConflict(report, lines);
  if (conflict) return takeNothing({ input, status, conflict, lines });
  const ca = currentContent(under(root, TLS_PATHS.caCert)) ?? '';
  const port = props['loadbalance.dataplane_port'] ?? 5556;
  const user = props['loadbalance.haproxy_user'] ?? 'admin';
  const deadline = Date.now() + input.waitSeconds * 1000;
  const started = Date.now();
  let outcome: ProbeOutcome = { ok: false, reason: 'the management NIC has no address yet (DHCP)' };
  let host: string | undefined;
  for (;;) {
    host ??= await managementHost(report);
    if (host !== undefined) {
      outcome = await probeOnce({
        host,
        port,
        ca,
        user,
        password: props['loadbalance.haproxy_pwd'] ?? '',
        ...(props['network.management_ip'] === undefined
          ? { serverName: props['network.hostname'] ?? 'haproxy.local' }
          : {}),
        timeoutMs: Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())),
      });
    }
    if (outcome.ok || Date.now() + RETRY_MS >= deadline) break;
    await sleep(RETRY_MS);
  }
  const url = host !== undefined ? httpsUrl(host, port) : status.apiUrl;
  const probeUrl = `${url ?? `https://<management address>:${port}`}${DATAPLANEAPI_PROBE_PATH}`;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  let next: Status;
  if (outcome.ok) {
    lines.push(`the Data Plane API answered ${probeUrl} after ${seconds} s (version ${outcome.version})`);
    next = { ...status, state: 'ready', ...(url ? { apiUrl: url } : {}) };
  } else {
    lines.push(`the Data Plane API did not answer ${probeUrl} within ${input.waitSeconds} s: ${outcome.reason}`);
    const journal = await lastJournalLines(system);
    next = {
      ...status,
      state: 'error',
      errors: [
        ...status.errors.filter((e) => e.rule !== NOT_ANSWERING),
        errorFinding(
          NOT_ANSWERING,
          ['loadbalance.dataplane_port'],
          `the Data Plane API did not answer ${probeUrl} within ${input.waitSeconds} s: ${outcome.reason}` +
            (journal.length ? `; its journal ends: ${journal.join(' | ')}` : ''),
          'see "systemctl status dataplaneapi" and "journalctl -u dataplaneapi -n 50"; once fixed, "systemctl ' +
            'restart ovactl-ready"',
        ),
      ],
    };
  }
  const json = writeStatus(root, next, lines);
  await publishGuestinfo({ system, json, caCert: next.state === 'ready' ? ca : undefined, lines });
  // agetty shows the banner when it starts, long before this: ask it to show the new one.
  if (system.live) await system.run('agetty', ['--reload']);
  return { state: next.state, outcome: outcome.ok ? 'answered' : 'not-answering', lines };
}

async function lastJournalLines(system: System): Promise<string[]> {
  if (!system.live) return [];
  const r = await system.run(
    'journalctl',
    ['-u', 'dataplaneapi.service', '-b', '-n', String(JOURNAL_LINES), '--no-pager', '-o', 'cat'],
    { timeoutMs: 10_000 },
  );
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-JOURNAL_LINES)
    .map((l) => (l.length > 160 ? `${l.slice(0, 159)}…` : l));
}

/** Units that take the addresses: stopped on a conflict (anyip-routes' stop withdraws the VIP routes). */
const TAKERS = [
  'ovactl-rhi.service',
  'bird.service',
  'haproxy.service',
  'dataplaneapi.service',
  'anyip-routes.service',
  'route-tables.service',
];
const ARPING_TIMEOUT_MS = 5_000;

interface Conflict {
  readonly found: readonly { target: DadTarget; mac: string }[];
  readonly nets: readonly NicAddress[];
}

const keyOf = (t: DadTarget): PropertyKey =>
  t.what.startsWith('a VIP') ? 'loadbalance.service_ip_range' : (`network.${t.nic}_ip` as PropertyKey);

/**
 * Duplicate address detection once the NICs are up (first boot runs before them): the management
 * address, the VIP ranges' first and last addresses (not on a pair member), the NICs' other addresses.
 * arping runs even under --root, like the API probe: it only asks. A missing arping is said and does not
 * hold the boot.
 */
async function addressConflict(report: Report, lines: string[]): Promise<Conflict | undefined> {
  const ip = await runIp(['-j', 'addr', 'show']);
  const nets = ip.exitCode === 0 ? nicAddresses(ip.stdout) : [];
  const kernel = typeof nets === 'string' ? [] : nets;
  const targets: DadTarget[] = [];
  // The values validated (a status "starting" is of applied values): the management NIC's parsed.
  const mgmt = report.management?.['network.management_ip'];
  if (mgmt) targets.push({ ip: mgmt.address.text, nic: 'management', what: 'the management address' });
  const mine = ownTargets(kernel);
  for (const t of mine.filter((m) => m.nic === 'management')) onNic(targets, kernel, t.ip, t.what);
  // A pair member's VIPs are answered by the active appliance of the pair: not someone else's.
  if (report.properties['ha.address'] === undefined)
    rangeSamples(targets, kernel, report.properties['loadbalance.service_ip_range'] ?? []);
  for (const t of mine) onNic(targets, kernel, t.ip, t.what);
  let missing = false;
  const { found, probed } = await probeDuplicates(
    targets,
    async (cmd, args) => {
      const r = await execa(cmd, args, { reject: false, timeout: ARPING_TIMEOUT_MS });
      if (r.exitCode === undefined) missing = true;
      return { code: r.exitCode ?? null, stdout: r.stdout };
    },
    ip.exitCode === 0 ? ownMacs(ip.stdout) : new Set(),
  );
  if (missing) {
    lines.push('address check skipped: arping is not installed (Debian: iputils-arping)');
    return undefined;
  }
  if (!found.length) {
    if (probed.length) lines.push(`address check: nobody else answers for ${probed.map((t) => t.ip).join(', ')}`);
    return undefined;
  }
  return { found, nets: kernel };
}

interface TakeNothing {
  readonly input: ReadyInput;
  readonly status: Status;
  readonly conflict: Conflict;
  readonly lines: string[];
}

/**
 * Someone else answers for our addresses (an old appliance left running): give them all up, so it is
 * not shadowed. The units are stopped, not disabled: once the other host is off, a reboot takes them.
 */
async function takeNothing(k: TakeNothing): Promise<ReadyResult> {
  const { input, status, conflict, lines } = k;
  const { system, root } = input;
  const dups = conflict.found.map((f) => describeDuplicate(f.target, f.mac));
  lines.push(`address conflict: ${dups.join('; ')}`);
  await system.run('systemctl', ['stop', ...TAKERS], { timeoutMs: 60_000 });
  if (system.live) {
    const owned = await ownedRoutes();
    const r = await applyBatch({ add: [], remove: owned });
    lines.push(r.ok ? `withdrew ${owned.length} VIP route(s)` : `VIP routes not withdrawn: ${r.message}`);
  } else lines.push('would withdraw the VIP routes (ovactl anyip down)');
  for (const n of conflict.nets) {
    if (!conflict.found.some((f) => f.target.ip === n.c.address.text && f.target.nic === n.nic)) continue;
    await system.run('ip', ['addr', 'del', `${n.c.address.text}/${n.c.prefix}`, 'dev', n.nic]);
  }
  const keys = [...new Set(conflict.found.map((f) => keyOf(f.target)))];
  const next: Status = {
    ...status,
    state: 'error',
    dataPlaneStarted: false,
    managementConfigured: !keys.includes('network.management_ip'),
    errors: [
      ...status.errors.filter((e) => e.rule !== NOT_ANSWERING && e.rule !== DUPLICATE_ADDRESS),
      errorFinding(
        DUPLICATE_ADDRESS,
        keys,
        `another host answers for this appliance's addresses: ${dups.join('; ')}; this appliance took none of them ` +
          '(haproxy, the Data Plane API and route health injection stopped, the VIP routes withdrawn)',
        `${DUPLICATE_FIX}; then reboot this appliance`,
      ),
    ],
  };
  const json = writeStatus(root, next, lines);
  await publishGuestinfo({ system, json, caCert: undefined, lines });
  if (system.live) await system.run('agetty', ['--reload']);
  lines.push(...system.ran.map((c) => `${system.live ? 'ran' : 'would run'}: ${c}`));
  return { state: 'error', outcome: 'address-conflict', lines };
}
