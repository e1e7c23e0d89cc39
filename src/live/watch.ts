// ovactl-watch.service: the appliance's status is the live truth of what it serves, not a claim made
// once at boot. Every second it looks (stat only) whether haproxy.cfg, the ranges file, the status
// or a unit it depends on changed; on a change, and at least every 30 s, it gathers the live facts,
// runs the live rules and, only when the result differs, writes status.json, the console banner, the
// metric and guestinfo. First boot and ovactl-ready keep deciding while the state is "starting".
import { existsSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HAPROXY_CFG, RANGES_FILE, STATUS_FILE } from '../appliance/paths.js';
import { HA_STATE_FILE } from '../appliance/ha.js';
import { metricsOn } from '../apply/metrics.js';
import { publishGuestinfo, writeStatus } from '../apply/publish.js';
import type { System } from '../apply/system.js';
import { currentContent, under } from '../core/atomic-write.js';
import { statusFamilies } from '../metrics/appliance.js';
import { metricsDir, writeMetrics } from '../metrics/prom.js';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { networkText } from '../net/ip.js';
import { parseStatus, statusJson, type Status } from '../plan/status.js';
import { gatherLiveFacts } from './facts.js';
import { changedAfterLoad, liveFindings, liveStatus, RELOAD_GRACE_MS, reloadPending, type LiveFacts } from './rules.js';

/** How often the watcher looks for a change (a stat of a few files), and evaluates at the latest. */
const PULSE_MS = 1_000;
const EVALUATE_EVERY_MS = 30_000;
/** The units whose restart (a new invocation) is a change worth a look. */
const UNITS = ['haproxy.service', 'dataplaneapi.service', 'anyip-routes.service'];

export interface WatchOptions {
  readonly root: string;
  readonly system: System;
  /** One evaluation, then return (tests, benchmarks, `ovactl watch --once`). */
  readonly once: boolean;
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
  readonly pulseMs?: number;
  readonly everyMs?: number;
}

export interface Evaluation {
  /** The status written, or the one on disk when nothing changed; undefined: not the watcher's to say. */
  readonly status: Status | undefined;
  readonly changed: boolean;
  readonly lines: readonly string[];
  /** A reload is due (haproxy.cfg newer than what serves): look every pulse until it is done or failed. */
  readonly pending?: boolean;
}

/** What changes when something worth a look changed: sizes and times of the files, the units' invocations. */
function pulse(root: string): string {
  const parts = [HAPROXY_CFG, RANGES_FILE, STATUS_FILE, HA_STATE_FILE].map((p) => {
    try {
      const s = statSync(under(root, p));
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return '-';
    }
  });
  for (const u of UNITS) {
    try {
      parts.push(readlinkSync(`/run/systemd/units/invocation:${u}`));
    } catch {
      parts.push('-');
    }
  }
  return parts.join(' ');
}

const consoleFields = (root: string) => {
  const text = currentContent(under(root, RANGES_FILE));
  const ranges = text === undefined ? [] : parseRangesFile(text).ranges.map(networkText);
  return { ranges, managementConfigured: true, dataPlaneStarted: true };
};

/** haproxy.cfg as the serving worker read it (one worker: the last seen). */
const loaded: { pid?: number; text?: string } = {};

/** The facts with what the serving worker read, once this watcher has seen it read the file as it is. */
function remember(facts: LiveFacts): LiveFacts {
  const h = facts.haproxy;
  if (!h.up || h.workerPid === undefined || !facts.cfg) return facts;
  if (loaded.pid !== h.workerPid) {
    loaded.pid = h.workerPid;
    loaded.text = h.failedReloads === 0 && !changedAfterLoad(facts) ? facts.cfg.text : undefined;
  }
  return loaded.text === undefined ? facts : { ...facts, haproxy: { ...h, loadedText: loaded.text } };
}

/** One look: the facts, the findings, and the status written when it changed. */
async function evaluate(o: Pick<WatchOptions, 'root' | 'system'>): Promise<Evaluation> {
  const path = under(o.root, STATUS_FILE);
  const before = currentContent(path);
  const disk = parseStatus(before, consoleFields(o.root));
  if (!disk) return { status: undefined, changed: false, lines: ['no first-boot status yet: nothing to watch'] };
  const facts = remember(await gatherLiveFacts(o));
  // Looked at every pulse only while the API's reload is due, not forever after.
  const pending = reloadPending(facts) && facts.now - (facts.cfg?.changedAt ?? 0) < RELOAD_GRACE_MS;
  const next = liveStatus(disk, liveFindings(facts), facts.api?.ok === true, facts.ha);
  if (!next) return { status: undefined, changed: false, lines: [`state ${disk.state}: first boot's to decide`] };
  const json = statusJson(next);
  if (json === statusJson(disk)) {
    // /run is new at every boot: the metric again when it is missing, though nothing changed.
    const lines = existsSync(join(metricsDir(o.root), 'status.prom')) ? [] : statusMetric(o.root, disk);
    return { status: disk, changed: false, lines, pending };
  }
  // First boot or ovactl-ready wrote meanwhile: theirs stands; the next look starts from it.
  if (currentContent(path) !== before)
    return { status: undefined, changed: false, lines: ['status changed meanwhile'] };
  const lines: string[] = [];
  writeStatus(o.root, next, lines);
  lines.length = 0; // the files are said below, as the change
  lines.push(describe(disk, next));
  lines.push(...statusMetric(o.root, next));
  await publishGuestinfo({ system: o.system, json, caCert: undefined, lines });
  if (o.system.live) await o.system.run('agetty', ['--reload']);
  return { status: next, changed: true, lines, pending };
}

/** status.prom (with metrics on): the state and the live findings by rule; a problem line, if any. */
function statusMetric(root: string, s: Status): string[] {
  if (!metricsOn(root)) return [];
  const problem = writeMetrics(
    metricsDir(root),
    'status.prom',
    statusFamilies({ state: s.state, findings: s.findings ?? [] }),
  );
  return problem ? [problem] : [];
}

function describe(from: Status, to: Status): string {
  const rules = (s: Status) => (s.findings ?? []).map((f) => f.rule);
  const gone = rules(from).filter((r) => !rules(to).includes(r));
  const found = (to.findings ?? []).filter((f) => !rules(from).includes(f.rule));
  return [
    `${from.state} → ${to.state}`,
    ...found.map((f) => `found ${f.rule}: ${f.message}`),
    ...gone.map((r) => `cleared ${r}`),
  ].join('; ');
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The resident loop (or one look with `once`). Returns when `signal` aborts. */
export async function runWatch(o: WatchOptions): Promise<Evaluation> {
  const every = o.everyMs ?? EVALUATE_EVERY_MS;
  let seen = pulse(o.root);
  let last = await evaluate(o);
  for (const l of last.lines) o.log(l);
  if (o.once) return last;
  let said = last.lines.join('\n');
  let at = Date.now();
  while (!o.signal?.aborted) {
    await sleep(o.pulseMs ?? PULSE_MS, o.signal);
    if (o.signal?.aborted) break;
    const now = pulse(o.root);
    if (now === seen && !last.pending && Date.now() - at < every) continue;
    // Taken before the look: a write during it (ours too) is looked at next time.
    seen = now;
    at = Date.now();
    try {
      last = await evaluate(o);
    } catch (e) {
      last = { status: undefined, changed: false, lines: [`look failed: ${(e as Error).message}`] };
    }
    // The journal gets each change once, not the same "nothing to watch" every 30 s.
    const text = last.lines.join('\n');
    if (text !== said || last.changed) for (const l of last.lines) o.log(l);
    said = text;
  }
  return last;
}
