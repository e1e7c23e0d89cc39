// What the live checks look at, gathered from the running appliance: haproxy's master CLI and the
// serving worker's start, haproxy.cfg and the ranges file, the kernel's addresses and AnyIP routes, the
// Data Plane API's answer, the server certificate. Cheap enough for every few seconds: no command but
// `ip` (twice) and, only after a failed reload, journalctl. The rules over them: src/live/rules.ts.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { localRoutes } from '../anyip/routes.js';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { DATAPLANEAPI_BIN } from '../appliance/dataplaneapi.js';
import { DATAPLANEAPI_YAML, HAPROXY_CFG, HAPROXY_MASTER_SOCKET, RANGES_FILE, TLS_PATHS } from '../appliance/paths.js';
import { probeOnce } from '../apply/probe.js';
import type { System } from '../apply/system.js';
import { currentContent, under } from '../core/atomic-write.js';
import { readRegularFile } from '../core/regular-file.js';
import { parseShowProc, type MasterProc } from '../haproxy/master.js';
import { runIp } from '../net/iproute.js';
import { httpsUrl } from '../net/url.js';
import { readApiEndpoint } from '../plan/network.js';
import { outOfTime } from '../tls/lifetime.js';
import type { HaFacts, HaproxyFacts, LiveFacts } from './rules.js';
import { HA_STATE_FILE } from '../appliance/ha.js';
import { parseHaReport } from '../ha/state.js';

const SOCKET_TIMEOUT_MS = 2_000;
const MASTER_ATTEMPTS = 4;
const MASTER_RETRY_MS = 500;
const PROBE_TIMEOUT_MS = 5_000;
/** Linux's USER_HZ: /proc/PID/stat counts a process's start in these ticks since boot. */
const TICKS_PER_SECOND = 100;

export interface GatherOptions {
  /** Where the files and haproxy's master socket are: '/' on the appliance. */
  readonly root: string;
  /** Runs journalctl for a failed reload's ALERT line (live only). */
  readonly system: System;
}

/** One command to a UNIX socket of haproxy's, its whole answer; rejects when nothing answers. */
function ask(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = connect(path, () => s.end(`${command}\n`));
    s.setEncoding('utf8');
    s.setTimeout(SOCKET_TIMEOUT_MS, () => s.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
    s.on('data', (d: string) => {
      if (out.length < 1_000_000) out += d;
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

/** When a process started (ms since the epoch), from /proc; undefined when it is gone or unreadable. */
function startedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(start) && Number.isFinite(btime) ? (btime + start / TICKS_PER_SECOND) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

async function lastAlert(system: System): Promise<string | undefined> {
  if (!system.live) return undefined;
  const r = await system.run('journalctl', ['-u', 'haproxy.service', '-n', '40', '-o', 'cat', '--no-pager'], {
    timeoutMs: 5_000,
  });
  const line = r.stdout
    .split('\n')
    .filter((l) => /\bALERT\b/.test(l))
    .at(-1)
    ?.trim();
  return line && (line.length > 200 ? `${line.slice(0, 199)}…` : line);
}

async function haproxyFacts(o: GatherOptions, now: number): Promise<HaproxyFacts> {
  const socket = under(o.root, HAPROXY_MASTER_SOCKET);
  // A reload re-executes the master: its socket, or its worker, is away for a moment. Down only if it stays so.
  let down: HaproxyFacts = { up: false, why: 'its master does not answer' };
  for (let attempt = 1; attempt <= MASTER_ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, MASTER_RETRY_MS));
    let text: string;
    try {
      text = await ask(socket, 'show proc');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' || code === 'ECONNREFUSED' ? 'its master is gone' : 'its master does not answer';
      down = { up: false, why: `${why}: ${HAPROXY_MASTER_SOCKET} (${code ?? 'error'})` };
      continue;
    }
    const worker = parseShowProc(text)?.workers[0];
    if (!worker) {
      down = { up: false, why: 'its master runs, but no worker serves' };
      continue;
    }
    return served(o, worker, now);
  }
  return down;
}

async function served(o: GatherOptions, worker: MasterProc, now: number): Promise<HaproxyFacts> {
  const loadedAt = startedAt(worker.pid) ?? now - worker.uptimeSeconds * 1000;
  const alert = worker.reloads > 0 ? await lastAlert(o.system) : undefined;
  return { up: true, failedReloads: worker.reloads, loadedAt, workerPid: worker.pid, ...(alert ? { alert } : {}) };
}

function readText(root: string, path: string): { text: string; changedAt: number } | undefined {
  const r = readWhy(root, path);
  return 'why' in r ? undefined : r;
}

/** A file's text and when it changed, or why it cannot be read (missing, not a regular file, too big). */
function readWhy(root: string, path: string): { text: string; changedAt: number } | { why: string } {
  try {
    const full = under(root, path);
    return { text: readRegularFile(full), changedAt: statSync(full).mtimeMs };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      why: err.code === 'ENOENT' ? 'it is missing' : (err.message.split('\n')[0] ?? 'unreadable').slice(0, 160),
    };
  }
}

async function ownAddresses(): Promise<string[]> {
  const r = await runIp(['-j', 'addr', 'show']);
  try {
    const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : [])));
  } catch {
    return [];
  }
}

async function routeFacts(): Promise<LiveFacts['routes']> {
  try {
    return { owned: (await localRoutes()).owned };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The API answers when TLS with the published CA works and it speaks HTTP: no credentials are sent. */
async function apiFacts(root: string): Promise<LiveFacts['api']> {
  if (!existsSync(under(root, DATAPLANEAPI_BIN))) return undefined;
  const yaml = currentContent(under(root, DATAPLANEAPI_YAML));
  const endpoint = yaml === undefined ? undefined : readApiEndpoint(yaml);
  if (!endpoint || endpoint.host === '0.0.0.0') return undefined; // DHCP without a lease yet: ready's to say
  const url = httpsUrl(endpoint.host, endpoint.port);
  const outcome = await probeOnce({
    host: endpoint.host,
    port: endpoint.port,
    ca: currentContent(under(root, TLS_PATHS.caCert)) ?? '',
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return outcome.ok ? { ok: true } : { ok: false, url, reason: outcome.reason };
}

function certificateFacts(root: string, now: number): string | undefined {
  const pem = currentContent(under(root, TLS_PATHS.serverCert));
  if (pem === undefined) return 'missing';
  try {
    return outOfTime(new X509Certificate(pem), new Date(now));
  } catch {
    return 'unreadable';
  }
}

export async function gatherLiveFacts(o: GatherOptions): Promise<LiveFacts> {
  const now = Date.now();
  const rangesText = readText(o.root, RANGES_FILE);
  const [haproxy, own, routes, api] = await Promise.all([
    haproxyFacts(o, now),
    ownAddresses(),
    routeFacts(),
    apiFacts(o.root),
  ]);
  const certificate = certificateFacts(o.root, now);
  const ha = haFacts(o.root);
  const cfg = readWhy(o.root, HAPROXY_CFG);
  return {
    now,
    haproxy,
    ...('why' in cfg ? { cfg: undefined, cfgProblem: cfg.why } : { cfg }),
    ranges: rangesText ? parseRangesFile(rangesText.text).ranges : undefined,
    own,
    routes,
    api,
    ...(certificate ? { certificate } : {}),
    ...(ha ? { ha } : {}),
  };
}

/** ovactl-ha.service's state (/run/ovactl/ha.json), when this appliance is in a pair and it runs. */
function haFacts(root: string): HaFacts | undefined {
  const text = readText(root, HA_STATE_FILE)?.text;
  const report = text === undefined ? undefined : parseHaReport(text);
  if (!report) return undefined;
  const { own: _own, peers: _peers, ...facts } = report;
  return facts;
}
