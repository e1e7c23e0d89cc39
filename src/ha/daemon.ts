// ovactl-ha.service: this appliance's part in a pair. keepalived (VRRP) moves the floating management
// address; this process acts on where it is:
// - active (it holds the address): the AnyIP routes are installed and every VIP the control plane binds
//   is announced with gratuitous ARP, so clients move at once (without route health injection; with
//   it, every appliance announces and serves, and the address only picks the API the Supervisor uses);
// - standby: no AnyIP route (without RHI); haproxy runs hot with the active's configuration, which it
//   follows through the active's Data Plane API (read only: a standby never writes to the active).
// Every second it tells keepalived whether this appliance may be active (its track file: haproxy runs
// and the Data Plane API answers, and it has not lost a split brain), asks the peers' status endpoints
// what they are, and publishes its own state (/run/ovactl/ha.json, the status endpoint).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Agent, createServer, type Server } from 'node:https';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { converge, describeChange } from '../anyip/converge.js';
import { HA_API_STALE_FILE, HA_HEALTH_FILE, HA_NIC, HA_STANDBY_FILE, HA_STATE_FILE } from '../appliance/ha.js';
import { HAPROXY_CFG, RANGES_FILE, STATUS_FILE, TLS_PATHS } from '../appliance/paths.js';
import type { System } from '../apply/system.js';
import { currentContent, under, writeAtomic } from '../core/atomic-write.js';
import { vipBinds } from '../live/rules.js';
import { hasAddress } from '../net/local-address.js';
import { parseStatus, type Status } from '../plan/status.js';
import { basic, get } from './client.js';
import {
  decide,
  parseSide,
  apiSilent,
  unhealthyReason,
  type Decision,
  type PeerView,
  type Role,
  type Side,
} from './decide.js';
import type { HaSettings } from './settings.js';
import { configVersion, followedConfig } from './sync.js';
import {
  isListed,
  listStorage,
  parseStorageList,
  readStored,
  removeStored,
  storageChanges,
  writeStored,
  type StorageDir,
} from './storage.js';

const PULSE_MS = 100;
/** A standby asks the active's version this often (one small request on a kept connection). */
const FOLLOW_MS = 250;
const LOOK_MS = 1_000;
const PEER_TIMEOUT_MS = 800;
const API_TIMEOUT_MS = 3_000;
const RAW_PATH = '/v2/services/haproxy/configuration/raw';
const VERSION_PATH = '/v2/services/haproxy/configuration/version';

export interface DaemonOptions {
  readonly root: string;
  readonly settings: HaSettings;
  readonly credentials: { readonly user: string; readonly password: string };
  readonly system: System;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
}

/** What ovactl-ha.service publishes (ha.json and the status endpoint): no secret is in it. */
export interface HaState extends Side {
  readonly address: string;
  readonly own: string;
  /** The standby's source: the floating address, while it follows. */
  readonly follows: string | undefined;
  /** The active's configuration version as last read, and how many versions this one is behind. */
  readonly activeVersion: number | undefined;
  readonly behind: number | undefined;
  /** When this standby last took the active's configuration (ms). */
  readonly syncedAt: number | undefined;
  /** The AnyIP routes are withheld (standby without route health injection). */
  readonly withheld: boolean;
  /** The local Data Plane API is stopped on purpose (standby). */
  readonly apiStopped: boolean;
  readonly peers: readonly { readonly address: string; readonly role?: Role; readonly error?: string }[];
  readonly problems: Decision['problems'];
}

/** Whether the floating address is on this appliance's management NIC now. */
const holdsAddress = (address: string): boolean => hasAddress(HA_NIC, address);

/** Why this appliance must not be active, from the live state the watcher keeps; undefined: it may. */
function statusOf(root: string): Status | undefined {
  return parseStatus(currentContent(under(root, STATUS_FILE)), { ranges: [], managementConfigured: true });
}

/** systemctl's reason, without its advice to run daemon-reload (first boot enables units with --no-reload). */
const reloadProblem = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((l) => l.trim() && !/changed on disk|daemon-reload/.test(l))
    .join(' ')
    .slice(0, 300) || 'no reason given';

/** A file name from a request path; undefined for a malformed escape (decodeURIComponent throws on it). */
const decodedName = (raw: string): string | undefined => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
};

export class HaDaemon {
  private role: Role = 'standby';
  private activeFrom: number | undefined;
  private activeTo: number | undefined;
  private stepDownUntil: number | undefined;
  private healthWritten: string | undefined;
  private withheld: boolean | undefined;
  private peers: PeerView[] = [];
  private decision: Decision | undefined;
  private activeVersion: number | undefined;
  private syncedAt: number | undefined;
  private followError: string | undefined;
  /** When the maps and certificates were last compared with the active's. */
  private storageAt = 0;
  /** A standby's Data Plane API is stopped (so that nobody writes there); started when it takes over. */
  private apiStopped = false;
  /** Since when the status has said the Data Plane API does not answer. */
  private apiSilentSince: number | undefined;
  private storageError: string | undefined;
  private published: string | undefined;
  private server: Server | undefined;
  private servedCert: string | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly o: DaemonOptions) {}

  private path(p: string): string {
    return under(this.o.root, p);
  }

  /**
   * A followed haproxy.cfg was written since the local Data Plane API read the file: kept in /run, so that a
   * restarted ovactl-ha still knows (the API's memory outlives this process).
   */
  private get apiStale(): boolean {
    return existsSync(this.path(HA_API_STALE_FILE));
  }

  private set apiStale(stale: boolean) {
    const file = this.path(HA_API_STALE_FILE);
    if (!stale) rmSync(file, { force: true });
    else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'the Data Plane API holds an older configuration than haproxy.cfg\n');
    }
  }

  private get ca(): string {
    return currentContent(this.path(TLS_PATHS.caCert)) ?? '';
  }

  /** Runs until the signal: the pulse (where the address is) and the look (health, peers, following). */
  async run(): Promise<void> {
    this.o.log(
      `pair: floating address ${this.o.settings.address}, peers ${this.o.settings.peers.join(', ')}` +
        `${this.o.settings.rhi ? ' (route health injection: every appliance serves)' : ''}`,
    );
    this.serve();
    await this.pulse(Date.now());
    // Three loops that never overlap themselves: where the address is, the look, the following.
    const every = (ms: number, work: () => Promise<void>) =>
      (async () => {
        while (!this.o.signal.aborted) {
          try {
            await work();
          } catch (e) {
            this.o.log(`pair: ${(e as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, ms));
        }
      })();
    await Promise.all([
      every(PULSE_MS, () => this.pulse(Date.now())),
      every(LOOK_MS, () => this.look(Date.now())),
      every(FOLLOW_MS, async () => {
        if (this.role !== 'active' && this.decision?.follow === true) await this.follow();
      }),
    ]);
    this.server?.close();
    this.agent.destroy();
  }

  /** Where the address is, and what follows from it: the routes and gratuitous ARP (without RHI). */
  async pulse(now: number): Promise<void> {
    const holds = holdsAddress(this.o.settings.address);
    const was = this.role;
    const faulted = this.healthWritten === '1';
    this.role = holds ? 'active' : faulted ? 'fault' : 'standby';
    if (holds && was !== 'active') {
      this.activeFrom = now;
      this.activeTo = undefined;
      this.o.log(`pair: active (holds ${this.o.settings.address})`);
    } else if (!holds && was === 'active') {
      this.activeTo = now;
      this.o.log(`pair: ${this.role} (${this.o.settings.address} moved away)`);
    }
    if (!this.o.settings.rhi) await this.routes(!holds);
    if (holds && was !== 'active' && !this.o.settings.rhi) await this.announce();
    if (holds && was !== 'active') {
      // The Supervisor writes here now: the API runs, and holds what the file holds, not its memory of before
      // (a standby's was stopped, or ignored the followed file). Restarted, which also starts a stopped one.
      this.apiStale = false;
      this.apiStopped = false;
      const r = await this.o.system.run('systemctl', ['restart', '--no-block', 'dataplaneapi.service']);
      this.o.log(`pair: the Data Plane API (re)started${r.exitCode ? ` (failed: ${reloadProblem(r.stderr)})` : ''}`);
    }
    if (was !== this.role) this.publish(now);
  }

  /** Standby without RHI: no AnyIP route (the active answers for the VIPs); active: the ranges file's. */
  private async routes(withhold: boolean): Promise<void> {
    if (this.withheld === withhold) return;
    const file = this.path(HA_STANDBY_FILE);
    mkdirSync(dirname(file), { recursive: true });
    if (withhold) writeFileSync(file, 'standby: anyip-routes keeps no local route\n');
    else rmSync(file, { force: true });
    const o = await converge(this.path(RANGES_FILE), true, file);
    if ('unreadable' in o) this.o.log(`pair: AnyIP routes: ${RANGES_FILE} ${o.unreadable}`);
    else {
      this.withheld = withhold;
      this.o.log(
        `pair: AnyIP routes ${withhold ? 'withheld (standby)' : 'installed (active)'}: ${describeChange(o.diff)}`,
      );
    }
  }

  /** Gratuitous ARP for every IPv4 VIP haproxy binds: the neighbours' caches point here at once. */
  private async announce(): Promise<void> {
    const cfg = currentContent(this.path(HAPROXY_CFG)) ?? '';
    const vips = vipBinds(cfg, [])
      .map((b) => b.vip)
      .filter((vip) => !vip.includes(':'));
    const nic = this.o.settings.vipNic;
    for (let i = 0; i < vips.length; i += 32) {
      await Promise.all(
        vips
          .slice(i, i + 32)
          .map((vip) =>
            this.o.system.run('arping', ['-q', '-U', '-c', '1', '-w', '1', '-I', nic, vip], { timeoutMs: 3000 }),
          ),
      );
    }
    if (vips.length) this.o.log(`pair: gratuitous ARP on ${nic} for ${vips.length} VIPs`);
  }

  /** Health, peers, the decision, and (standby) the active's configuration. */
  async look(now: number): Promise<void> {
    const self = this.side();
    this.peers = await Promise.all(
      this.o.settings.peers.map(async (address): Promise<PeerView> => {
        const r = await get({
          host: address,
          port: this.o.settings.statusPort,
          path: '/',
          ca: this.ca,
          timeoutMs: PEER_TIMEOUT_MS,
        });
        return { address, seen: r.ok ? parseSide(r.body) : { error: r.error } };
      }),
    );
    const status = statusOf(this.o.root);
    // A standby's API answers nobody: a Supervisor given every appliance's own address then reaches the
    // active's only, and nothing is written where it would be overwritten. Stopped once the boot has decided.
    if (this.role !== 'active' && !this.apiStopped && status && status.state !== 'starting') await this.stopApi();
    this.apiSilentSince = apiSilent(status) ? (this.apiSilentSince ?? now) : undefined;
    const why = unhealthyReason({
      status,
      apiSilentMs: this.apiSilentSince === undefined ? 0 : now - this.apiSilentSince,
      apiStopped: this.apiStopped,
    });
    this.decision = decide({ now, self, peers: this.peers, unhealthy: why, stepDownUntil: this.stepDownUntil });
    if (this.decision.stepDownUntil !== this.stepDownUntil && this.decision.stepDownUntil !== undefined)
      this.o.log(
        `pair: ${this.decision.problems.find((p) => p.rule === 'ha.split-brain')?.message ?? 'stepping down'}`,
      );
    this.stepDownUntil = this.decision.stepDownUntil;
    this.refreshCertificate();
    this.health(this.decision.mayBeActive ? '0' : '1', why);
    if (this.role === 'active') {
      this.activeVersion = undefined;
      this.followError = undefined;
    }
    this.publish(now);
  }

  private async stopApi(): Promise<void> {
    const r = await this.o.system.run('systemctl', ['stop', '--no-block', 'dataplaneapi.service']);
    this.apiStopped = r.exitCode === 0;
    this.o.log(`pair: standby: the Data Plane API stopped${r.exitCode ? ` (failed: ${reloadProblem(r.stderr)})` : ''}`);
  }

  private health(value: '0' | '1', why: string | undefined): void {
    if (this.healthWritten === value) return;
    const file = this.path(HA_HEALTH_FILE);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${value}\n`);
    this.healthWritten = value;
    this.o.log(value === '0' ? 'pair: may be active' : `pair: must not be active (${why ?? 'stepping down'})`);
  }

  /** The active's configuration, when its version changed: merged, written, loaded. */
  private async follow(): Promise<void> {
    const s = this.o.settings;
    const base = { host: s.address, port: s.port, ca: this.ca, credentials: this.o.credentials, agent: this.agent };
    const v = await get({ ...base, path: VERSION_PATH, timeoutMs: API_TIMEOUT_MS });
    if (!v.ok)
      return this.notFollowing(`the active's Data Plane API (${s.address}:${s.port}) did not answer: ${v.error}`);
    const activeVersion = Number(v.body.trim());
    if (!Number.isSafeInteger(activeVersion)) return this.notFollowing("the active's version is not a number");
    this.followError = undefined;
    const current = currentContent(this.path(HAPROXY_CFG));
    const same = activeVersion === this.activeVersion && configVersion(current) === activeVersion;
    // Maps and certificates first (a new configuration may use them), at least once a second.
    let stored = false;
    if (!same || Date.now() - this.storageAt >= LOOK_MS) {
      this.storageAt = Date.now();
      stored = await this.followStorage();
    }
    if (same) {
      if (stored) await this.reloadHaproxy('maps and certificates changed');
      return;
    }
    const raw = await get({ ...base, path: RAW_PATH, timeoutMs: API_TIMEOUT_MS });
    if (!raw.ok) return this.notFollowing(`the active's configuration could not be read: ${raw.error}`);
    let doc: { _version?: unknown; data?: unknown };
    try {
      doc = JSON.parse(raw.body) as typeof doc;
    } catch {
      return this.notFollowing("the active's configuration is not JSON");
    }
    const version = doc._version;
    if (typeof doc.data !== 'string' || typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0)
      return this.notFollowing("the active's configuration has no data or version");
    // The version the text itself carries: the API may raise its version before it saves the file.
    const taken = configVersion(doc.data) ?? version;
    const next = followedConfig({ activeRaw: doc.data, activeVersion: taken, current });
    this.activeVersion = taken;
    if (!next) {
      this.syncedAt ??= Date.now();
      if (stored) await this.reloadHaproxy('maps and certificates changed');
      return;
    }
    writeAtomic(this.o.root, { path: HAPROXY_CFG, content: next.content, mode: 0o644, owner: 'root', group: 'root' });
    // The local API ignores the file (its md5 is valid) and keeps an older copy in memory: restarted on takeover.
    this.apiStale = true;
    this.syncedAt = Date.now();
    await this.reloadHaproxy(
      `took version ${taken} from ${s.address} (${next.sections.length} control-plane sections)`,
    );
  }

  /** A reason not to follow (the configuration's, or the maps and certificates'), logged when it is new. */
  private reason(was: string | undefined, why: string | undefined): string | undefined {
    if (why !== undefined && why !== was) this.o.log(`pair: not following: ${why}`);
    return why;
  }

  private notFollowing(why: string): void {
    this.followError = this.reason(this.followError, why);
  }

  private side(): Side {
    return {
      role: this.role,
      version: configVersion(currentContent(this.path(HAPROXY_CFG))),
      activeFrom: this.activeFrom,
      activeTo: this.activeTo,
      digest: this.o.settings.digest,
    };
  }

  state(): HaState {
    const side = this.side();
    const following = this.role !== 'active' && this.decision?.follow === true;
    const problems = [...(this.decision?.problems ?? [])];
    const notFollowing = this.followError ?? this.storageError;
    if (following && notFollowing)
      problems.push({
        rule: 'ha.not-following',
        message: `this standby does not follow the active: ${notFollowing}`,
        hint:
          `check that ${this.o.settings.address} answers, and that both appliances have the same credentials ` +
          'and CA',
      });
    for (const p of this.peers)
      if ('error' in p.seen)
        problems.push({
          rule: 'ha.peer-unreachable',
          message: `peer ${p.address} does not answer on port ${this.o.settings.statusPort}: ${p.seen.error}`,
          hint: 'without a healthy peer the pair cannot fail over; power the peer on or check the management network',
        });
    const activeVersion = following ? this.activeVersion : undefined;
    return {
      ...side,
      address: this.o.settings.address,
      own: this.o.settings.own,
      follows: following ? this.o.settings.address : undefined,
      activeVersion,
      behind:
        activeVersion !== undefined && side.version !== undefined
          ? Math.max(0, activeVersion - side.version)
          : undefined,
      syncedAt: this.syncedAt,
      withheld: this.withheld === true,
      apiStopped: this.apiStopped,
      peers: this.peers.map((p) =>
        'error' in p.seen ? { address: p.address, error: p.seen.error } : { address: p.address, role: p.seen.role },
      ),
      problems,
    };
  }

  /** ha.json, only when it changed (the watcher folds it into the status). */
  private publish(_now: number): void {
    const text = `${JSON.stringify(this.state())}\n`;
    if (text === this.published) return;
    writeAtomic(this.o.root, { path: HA_STATE_FILE, content: text, mode: 0o644, owner: 'root', group: 'root' });
    this.published = text;
  }

  /** Hot: reloaded when it runs, started when it does not (a standby serves at once when it takes over). */
  private async reloadHaproxy(why: string): Promise<void> {
    const r = await this.o.system.run('systemctl', ['reload-or-restart', 'haproxy.service'], { timeoutMs: 30_000 });
    this.o.log(`pair: ${why}${r.exitCode === 0 ? '' : `; haproxy reload failed: ${reloadProblem(r.stderr)}`}`);
  }

  /** HTTP Basic with the Data Plane API's user and password, compared in constant time. */
  private authorised(header: string | undefined): boolean {
    const want = Buffer.from(basic(this.o.credentials));
    const got = Buffer.from(header ?? '');
    const digest = (b: Buffer) => createHash('sha256').update(b).digest();
    return timingSafeEqual(digest(want), digest(got));
  }

  /**
   * The active's maps and certificates (from its pair endpoint), fetched where they differ and removed where
   * the active has none; whether anything changed.
   */
  private async followStorage(): Promise<boolean> {
    const active = this.peers.find((p) => !('error' in p.seen) && p.seen.role === 'active')?.address;
    if (!active) return false;
    const base = {
      host: active,
      port: this.o.settings.statusPort,
      ca: this.ca,
      credentials: this.o.credentials,
      timeoutMs: API_TIMEOUT_MS,
    };
    const list = await get({ ...base, path: '/storage' });
    const files = list.ok ? parseStorageList(list.body) : undefined;
    if (!files) {
      this.storageError = this.reason(
        this.storageError,
        `the active's maps and certificates could not be listed: ${list.ok ? 'not a list' : list.error}`,
      );
      return false;
    }
    let problem: string | undefined;
    const { fetch, remove } = storageChanges(files, listStorage(this.o.root));
    let taken = 0;
    for (const f of fetch) {
      const r = await get({ ...base, path: `/storage/${f.dir}/${encodeURIComponent(f.name)}` });
      if (!r.ok) problem ??= `${f.dir}/${f.name} could not be fetched from the active: ${r.error}`;
      // Only the bytes the list named: a file the active changed meanwhile is taken at the next look.
      else if (isListed(f, r.body)) {
        writeStored(this.o.root, f, r.body);
        taken++;
      }
    }
    this.storageError = this.reason(this.storageError, problem);
    for (const f of remove) removeStored(this.o.root, f);
    const changed = taken + remove.length > 0;
    if (changed) this.o.log(`pair: maps and certificates: ${taken} taken, ${remove.length} removed`);
    return changed;
  }

  /** A renewed server certificate (the daily timer, a re-apply) is served from the next handshake on. */
  private refreshCertificate(): void {
    if (!this.server) return;
    const cert = currentContent(this.path(TLS_PATHS.serverCert));
    const key = currentContent(this.path(TLS_PATHS.serverKey));
    if (!cert || !key || cert === this.servedCert) return;
    try {
      this.server.setSecureContext({ cert, key });
      this.servedCert = cert;
    } catch (e) {
      this.o.log(`pair: status endpoint: the new certificate cannot be used: ${(e as Error).message}`);
    }
  }

  /** The status endpoint on the own management address: the peers and doctor read it. */
  private serve(): void {
    const cert = currentContent(this.path(TLS_PATHS.serverCert));
    const key = currentContent(this.path(TLS_PATHS.serverKey));
    if (!cert || !key || !existsSync(this.path(TLS_PATHS.serverCert))) {
      this.o.log('pair: no server certificate: the status endpoint is off');
      return;
    }
    this.servedCert = cert;
    this.server = createServer({ cert, key }, (req, res) => {
      const url = req.url ?? '/';
      if (req.method !== 'GET') return void res.writeHead(405).end();
      if (url === '/')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(this.state())}\n`);
      // The maps and certificates (keys included): only with the Data Plane API's credentials.
      if (!url.startsWith('/storage')) return void res.writeHead(404).end();
      if (!this.authorised(req.headers.authorization))
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="ovactl pair"' }).end();
      if (url === '/storage')
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(listStorage(this.o.root))}\n`);
      const m = /^\/storage\/(maps|ssl)\/([^/]+)$/.exec(url);
      const name = m ? decodedName(m[2]!) : undefined;
      const content = m && name !== undefined ? readStored(this.o.root, m[1] as StorageDir, name) : undefined;
      if (content === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(content);
    });
    this.server.on('error', (e) => this.o.log(`pair: status endpoint: ${e.message}`));
    this.server.listen(this.o.settings.statusPort, this.o.settings.own);
  }
}
