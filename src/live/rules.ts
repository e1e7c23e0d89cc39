// The appliance's live state, after boot: what ovactl-watch.service (and ovactl doctor) find when they
// look at what runs — haproxy, the configuration it serves, the control plane's VIPs, the AnyIP routes,
// the Data Plane API, the certificate — as findings, and the state the status then says. Pure: the
// facts (src/live/facts.ts gathers them) in, findings and the next status out. One table of rules.
import { parseBinds } from '../haproxy/binds.js';
import { contains, isCidr, networkText, parseCidr, parseIp, type Cidr } from '../net/ip.js';
import { HAPROXY_CFG, RANGES_FILE } from '../appliance/paths.js';
import { DATAPLANEAPI_RELOAD_DELAY_SECONDS } from '../appliance/dataplaneapi.js';
import { error, warning, type Finding, type Problem, type Severity } from '../validate/finding.js';
import { NOT_ANSWERING, type HaStatus, type State, type Status } from '../plan/status.js';

/** haproxy: not running (and why), or the worker that serves. */
export type HaproxyFacts =
  | { readonly up: false; readonly why: string }
  | {
      readonly up: true;
      /** Reloads the serving worker has outlived: each one failed (a reload that works replaces it). */
      readonly failedReloads: number;
      /** When the serving worker started, i.e. read its configuration (ms); undefined when unknown. */
      readonly loadedAt: number | undefined;
      /** haproxy's last ALERT line (its journal), said with a failed reload. */
      readonly alert?: string;
      /** The serving worker's PID: a new one after every reload that worked. */
      readonly workerPid?: number;
      /** haproxy.cfg as it was when the serving worker read it, when the watcher saw that. */
      readonly loadedText?: string;
    };

/** What ovactl-ha.service says of this appliance's part in a pair (/run/ovactl/ha.json). */
export interface HaFacts extends HaStatus {
  /** A standby without route health injection: the AnyIP routes are withheld on purpose. */
  readonly withheld: boolean;
  /** A standby's Data Plane API is stopped on purpose. */
  readonly apiStopped?: boolean;
  readonly problems: readonly { readonly rule: string; readonly message: string; readonly hint?: string }[];
}

export interface LiveFacts {
  readonly now: number;
  readonly haproxy: HaproxyFacts;
  /** haproxy.cfg and when it last changed (ms); undefined when it cannot be read. */
  readonly cfg: { readonly text: string; readonly changedAt: number } | undefined;
  /** Why haproxy.cfg could not be read (missing, not a regular file, over the input bound), if it could not. */
  readonly cfgProblem?: string;
  /** The ranges file's ranges; undefined when it is missing or unreadable. */
  readonly ranges: readonly Cidr[] | undefined;
  /** The appliance's own addresses, as the kernel has them (DHCP leases included). */
  readonly own: readonly string[];
  /** ovactl's local routes in the kernel (network CIDRs), or why they could not be read. */
  readonly routes: { readonly owned: readonly string[] } | { readonly error: string };
  /** The Data Plane API's answer; undefined where the image carries no API (first boot says so). */
  readonly api:
    | { readonly ok: true }
    | { readonly ok: false; readonly url: string; readonly reason: string }
    | undefined;
  /** Why the API's server certificate cannot be used now (expired, not yet valid), if it cannot. */
  readonly certificate?: string;
  /** Two appliances: this one's part (absent on a single appliance). */
  readonly ha?: HaFacts;
}

/** Two appliances: what ovactl-ha.service finds (src/ha/decide.ts, src/ha/daemon.ts), said here. */
const HA_RULES: readonly { id: string; summary: string }[] = [
  {
    id: 'ha.not-following',
    summary: "A standby cannot read the active's configuration: it would fail over to an old one.",
  },
  {
    id: 'ha.peer-unreachable',
    summary: "A peer's status does not answer: without a healthy peer the pair cannot fail over.",
  },
  {
    id: 'ha.values-differ',
    summary: 'A peer was deployed with other pair values (ranges, port, user, CA, address, vrid).',
  },
  {
    id: 'ha.split-brain',
    summary: 'Two appliances were active at once; the higher configuration version stays active.',
  },
];

/** A file change haproxy has not loaded this long after it is late: the API reloads within its delay. */
export const RELOAD_GRACE_MS = (DATAPLANEAPI_RELOAD_DELAY_SECONDS + 15) * 1000;
/** A worker that started within this long after the file changed read the changed file. */
const CLOCK_SLACK_MS = 1000;
/** At most this many findings a rule: a control plane that binds a thousand stray VIPs gets one more line. */
const MAX_PER_RULE = 8;

/** haproxy.cfg changed after the serving worker read it, and no reload has failed since: one is due. */
export function reloadPending(f: LiveFacts): boolean {
  const h = f.haproxy;
  if (!f.cfg || !h.up || h.failedReloads > 0 || h.loadedAt === undefined) return false;
  // A file written back with what serves (the API's last-known-good copy after a failed reload
  // command) is newer, but nothing is due.
  if (h.loadedText !== undefined) return f.cfg.text !== h.loadedText;
  return changedAfterLoad(f);
}

/** haproxy.cfg's last change came after the serving worker read it. */
export function changedAfterLoad(f: LiveFacts): boolean {
  const h = f.haproxy;
  return !!f.cfg && h.up && h.loadedAt !== undefined && f.cfg.changedAt > h.loadedAt + CLOCK_SLACK_MS;
}

interface LiveRule {
  readonly id: string;
  /** error: nothing is served (state "error"); warning: it serves, not all it should ("degraded"). */
  readonly severity: Severity;
  /** The docs' line for the rule. */
  readonly summary: string;
  readonly check: (f: LiveFacts) => readonly Problem[];
}

const versionOf = (cfg: string): string | undefined => /^# _version=(\d+)/m.exec(cfg)?.[1];
const named = (cfg: { text: string }): string => {
  const v = versionOf(cfg.text);
  return v === undefined ? 'haproxy.cfg' : `haproxy.cfg version ${v}`;
};
const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** Wildcard and loopback binds, and the appliance's own addresses, are not VIPs. */
const NOT_A_VIP = /^(|\*|0\.0\.0\.0|::|::1|127\..*)$/;

/** The control plane's binds on addresses that are neither the appliance's nor loopback: its VIPs. */
export function vipBinds(cfg: string, own: readonly string[]): { vip: string; frontends: string[] }[] {
  const byVip = new Map<string, Set<string>>();
  for (const b of parseBinds(cfg)) {
    const ip = parseIp(b.host);
    const text = ip?.text ?? b.host;
    if (NOT_A_VIP.test(text) || own.includes(text)) continue;
    const set = byVip.get(text) ?? new Set<string>();
    set.add(b.frontend);
    byVip.set(text, set);
  }
  return [...byVip].map(([vip, fes]) => ({ vip, frontends: [...fes] }));
}

/** The aligned range to add for a VIP: the prefix length of the ranges already given (same family). */
function rangeFor(vip: string, ranges: readonly Cidr[]): string | undefined {
  const ip = parseIp(vip);
  if (!ip) return undefined;
  const prefix = ranges.find((r) => r.family === ip.family)?.prefix ?? (ip.family === 4 ? 32 : 128);
  const c = parseCidr(`${ip.text}/${prefix}`);
  return isCidr(c) ? networkText(c) : undefined;
}

const capped = (problems: Problem[], what: (n: number) => Problem): Problem[] =>
  problems.length > MAX_PER_RULE
    ? [...problems.slice(0, MAX_PER_RULE), what(problems.length - MAX_PER_RULE)]
    : problems;

export const LIVE_RULES: readonly LiveRule[] = [
  {
    id: 'haproxy.not-running',
    severity: 'error',
    summary: 'haproxy is not running: no VIP is served.',
    check: (f) =>
      f.haproxy.up
        ? []
        : [
            {
              keys: [],
              message: `haproxy is not running (${f.haproxy.why}): no VIP is served`,
              hint:
                'see "systemctl status haproxy" and "journalctl -u haproxy -n 50"; then "systemctl restart ' +
                'haproxy"',
            },
          ],
  },
  {
    id: 'haproxy.reload-failed',
    severity: 'warning',
    summary:
      "haproxy's last reload failed: it serves an older configuration than haproxy.cfg, and a restart would " +
      'fail the same way.',
    check: (f) => {
      if (!f.haproxy.up || f.haproxy.failedReloads === 0) return [];
      const n = f.haproxy.failedReloads;
      const cfg = f.cfg ? named(f.cfg) : 'haproxy.cfg';
      const why = f.haproxy.alert ? ` (${f.haproxy.alert})` : '';
      return [
        {
          keys: [],
          message:
            `haproxy's last ${n === 1 ? 'reload' : `${n} reloads`} failed${why}: ` +
            `it still serves the configuration it loaded before, so ${cfg} is not live; a restart of haproxy ` +
            '(or a reboot) would fail the same way and stop every VIP',
          hint:
            'see the ALERT lines of "journalctl -u haproxy"; undo the change through the Data Plane API (or fix ' +
            'what the bind collides with), then "systemctl reload haproxy"',
        },
      ];
    },
  },
  {
    id: 'haproxy.config-not-live',
    severity: 'warning',
    summary: `haproxy.cfg changed more than ${seconds(RELOAD_GRACE_MS)} ago and haproxy has not loaded it.`,
    check: (f) => {
      const { cfg } = f;
      if (!cfg || !reloadPending(f) || f.now - cfg.changedAt < RELOAD_GRACE_MS) return [];
      return [
        {
          keys: [],
          message:
            `${named(cfg)} changed ${seconds(f.now - cfg.changedAt)} ago and haproxy has not loaded it ` +
            `(the Data Plane API reloads within ${DATAPLANEAPI_RELOAD_DELAY_SECONDS} s of a change)`,
          hint: 'see "systemctl status dataplaneapi"; "systemctl reload haproxy" loads it',
        },
      ];
    },
  },
  {
    id: 'haproxy.config-unreadable',
    severity: 'warning',
    summary: "haproxy.cfg cannot be read: the VIPs the control plane binds and the reloads' outcome go unchecked.",
    check: (f) =>
      f.cfgProblem === undefined
        ? []
        : [
            {
              keys: [],
              message: `${HAPROXY_CFG} cannot be read (${f.cfgProblem}): its VIPs and whether it is live go unchecked`,
              hint: `"ls -l ${HAPROXY_CFG}": it must be a regular file of at most 4 MiB; the Data Plane API writes it`,
            },
          ],
  },
  {
    id: 'vip.outside-ranges',
    severity: 'warning',
    summary:
      'A frontend of the control plane binds a VIP outside every AnyIP range: haproxy serves it, but no client ' +
      'reaches it.',
    check: (f) => {
      if (!f.cfg || !f.ranges) return [];
      const ranges = f.ranges;
      const out = vipBinds(f.cfg.text, f.own).filter(({ vip }) => {
        const ip = parseIp(vip);
        return !ip || !ranges.some((r) => contains(r, ip));
      });
      return capped(
        out.map(({ vip, frontends }) => {
          const add = rangeFor(vip, ranges);
          return {
            keys: ['loadbalance.service_ip_range'],
            message: `VIP ${vip} (frontend ${frontends.join(', ')}) is outside every range: clients cannot reach it`,
            hint: add
              ? `add ${add} to loadbalance.service_ip_range or to ${RANGES_FILE}, or make the Supervisor's ` +
                '"IP Address Ranges for Virtual Servers" a subset of the ranges'
              : `add a range that covers it to ${RANGES_FILE}`,
          };
        }),
        (n) => ({
          keys: ['loadbalance.service_ip_range'],
          message: `and ${n} more VIP(s) outside every range`,
          hint: 'ovactl doctor lists them all',
        }),
      );
    },
  },
  {
    id: 'anyip.routes-differ',
    severity: 'warning',
    summary: "The kernel's AnyIP routes are not the ranges file's: VIPs of a missing range do not answer.",
    check: (f) => {
      if (!f.ranges)
        return [
          {
            keys: ['loadbalance.service_ip_range'],
            message: `${RANGES_FILE} is missing or unreadable: no VIP answers`,
            hint: 'run first boot again: "systemctl restart ovactl-firstboot"',
          },
        ];
      if ('error' in f.routes) return [{ keys: [], message: `the local routes cannot be read: ${f.routes.error}` }];
      // A pair's standby keeps no route on purpose: the active answers for the VIPs.
      const want = f.ha?.withheld ? [] : f.ranges.map(networkText);
      const owned = f.routes.owned;
      const missing = want.filter((r) => !owned.includes(r));
      const extra = owned.filter((r) => !want.includes(r));
      if (!missing.length && !extra.length) return [];
      return [
        {
          keys: ['loadbalance.service_ip_range'],
          message: [
            ...(missing.length ? [`no local route for ${missing.join(', ')} (their VIPs do not answer)`] : []),
            ...(extra.length
              ? [
                  f.ha?.withheld
                    ? `local routes on a standby, which keeps none (the active answers): ${extra.join(', ')}`
                    : `local routes not in ${RANGES_FILE}: ${extra.join(', ')}`,
                ]
              : []),
          ].join('; '),
          hint: '"systemctl restart anyip-routes", and see "journalctl -u anyip-routes"',
        },
      ];
    },
  },
  {
    id: NOT_ANSWERING,
    severity: 'warning',
    summary: 'The Data Plane API does not answer: the Supervisor cannot change anything (the VIPs still serve).',
    check: (f) =>
      // A pair's standby stops its API on purpose (only the active's takes changes).
      f.api && !f.api.ok && !f.ha?.apiStopped
        ? [
            {
              keys: ['loadbalance.dataplane_port'],
              message: `the Data Plane API does not answer ${f.api.url}: ${f.api.reason}`,
              hint: 'see "systemctl status dataplaneapi" and "journalctl -u dataplaneapi -n 50"',
            },
          ]
        : [],
  },
  {
    id: 'certificates.server-invalid',
    severity: 'warning',
    summary: "The Data Plane API's server certificate cannot be used now (expired or not yet valid).",
    check: (f) =>
      f.certificate
        ? [
            {
              keys: ['appliance.ca_cert'],
              message: `the Data Plane API's server certificate is ${f.certificate}: the Supervisor refuses it`,
              hint: '"ovactl certificates renew" (or "systemctl start ovactl-certificates"); check the clock (NTP)',
            },
          ]
        : [],
  },
  ...HA_RULES.map(
    (r): LiveRule => ({
      id: r.id,
      severity: 'warning',
      summary: r.summary,
      check: (f) =>
        (f.ha?.problems ?? [])
          .filter((p) => p.rule === r.id)
          .slice(0, MAX_PER_RULE)
          .map((p) => ({ keys: ['ha.address'], message: p.message, ...(p.hint ? { hint: p.hint } : {}) })),
    }),
  ),
];

/** Every live rule's findings, in the table's order. */
export function liveFindings(f: LiveFacts): Finding[] {
  return LIVE_RULES.flatMap((r) =>
    r.check(f).map((p) => (r.severity === 'error' ? error : warning)(r.id, p.keys, p.message, p.hint)),
  );
}

/**
 * Boot errors after which the appliance still serves what it applied: the live checks report on it.
 * Any other error (invalid values, an address conflict) is first boot's and ready's to clear.
 */
const SERVES_DESPITE: ReadonlySet<string> = new Set([NOT_ANSWERING, 'dataplaneapi.missing']);

/**
 * The status with these live findings, or undefined when it is not the watcher's to change: first boot
 * or ovactl-ready still decide (starting), or the values were never applied. The boot's
 * dataplaneapi.not-answering clears itself once the API answers; other errors keep the state "error".
 */
export function liveStatus(
  disk: Status,
  findings: readonly Finding[],
  apiAnswers: boolean,
  ha?: HaFacts,
): Status | undefined {
  if (disk.state === 'starting') return undefined;
  // ready, degraded, or error with no boot error (the watcher's own: nothing served) were applied.
  const applied =
    disk.state !== 'error' || disk.serving !== undefined || disk.errors.every((e) => SERVES_DESPITE.has(e.rule));
  if (!applied) return undefined;
  const errors = apiAnswers ? disk.errors.filter((e) => e.rule !== NOT_ANSWERING) : disk.errors;
  // While the boot's own "not answering" stands, the live finding would only say it twice.
  const live = errors.some((e) => e.rule === NOT_ANSWERING)
    ? findings.filter((x) => x.rule !== NOT_ANSWERING)
    : findings;
  const state: State =
    errors.length || live.some((x) => x.severity === 'error') ? 'error' : live.length ? 'degraded' : 'ready';
  const { ha: _was, ...rest } = disk;
  // The status carries the pair's role and versions, not the daemon's working facts.
  const pair = ha && (({ withheld: _w, apiStopped: _a, problems: _p, ...status }: HaFacts): HaStatus => status)(ha);
  return { ...rest, state, errors, findings: live, ...(pair ? { ha: pair } : {}) };
}

/** The docs' table of the live rules (docs/properties.md). */
export const liveRuleDocs = (): { id: string; state: string; summary: string }[] =>
  LIVE_RULES.map((r) => ({ id: r.id, state: r.severity === 'error' ? 'error' : 'degraded', summary: r.summary }));
