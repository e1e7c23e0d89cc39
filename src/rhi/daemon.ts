// `ovactl rhi run`: every interval, read haproxy's health over the runtime API, step each rule's
// state machine, and when the set of announced routes changes rewrite BIRD's route files
// (atomically) and ask BIRD to `configure` — one at a time, coalesced. The rules file, haproxy.cfg
// (auto), the VIP ranges (auto) and bird.conf are re-read when they change and have settled for a
// poll (an editor's burst of writes is one change). Bad input is reported, never fatal: a rules file
// that does not parse announces nothing at start, and later leaves the last good rules running.
// Stopping withdraws every route.
import { dirname, join } from 'node:path';
import { statSync } from 'node:fs';
import { writeFileAtomic } from '../core/atomic-write.js';
import { rhiFamilies } from '../metrics/appliance.js';
import { writeMetrics } from '../metrics/prom.js';
import { routesText, staticProtocols, type StaticProtocol } from './bird.js';
import { evaluate, holdDownUntil, inputState, parseShowStat, step, whyDown, type Tuning } from './health.js';
import { ruleText } from './rules.js';
import { loadRules, type Active, type Loaded, type ReadResult } from './load.js';
import { birdConfigure, haproxyCommand } from './sockets.js';
import type { RhiStatus, StatusRule } from './status.js';
import { readRegularFile } from '../core/regular-file.js';

export interface DaemonOptions {
  readonly rulesFile: string;
  readonly haproxySocket: string;
  readonly haproxyConfig: string;
  readonly rangesFile: string;
  readonly birdConfig: string;
  readonly birdSocket: string;
  readonly routesDir: string;
  readonly stateFile: string;
  readonly intervalMs: number;
  readonly tuning: Tuning;
  readonly version: string;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
}

/** Monotonic milliseconds: the state machines must not see NTP steps. */
const mono = (): number => Number(process.hrtime.bigint() / 1_000_000n);
/** Wall-clock time of a monotonic instant, for people (fixed offset, so it does not jitter). */
const EPOCH = Date.now() - mono();
const wall = (t: number): string => new Date(EPOCH + t).toISOString();
const signature = (path: string): string => {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
};
const read = (path: string, max?: number): ReadResult => {
  try {
    return { text: readRegularFile(path, max) };
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message };
  }
};

export class Daemon {
  private loaded: Loaded | undefined;
  /** BIRD's static protocols fed from the routes folder (from bird.conf; kept when it cannot be read). */
  private protocols: readonly StaticProtocol[] = [];
  private loadedSig = '';
  private seenSig = '';
  private configErrors: string[] = [];
  private configLoadedAt: number | undefined;
  private haproxyError: string | undefined;
  private haproxyReachable = false;
  /** Route file contents as last written, by path. */
  private readonly written = new Map<string, string>();
  private birdInSync = false;
  private birdError: string | undefined;
  private configuring: Promise<void> | undefined;
  private configureAgain = false;
  private lastStatus = '';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly startedAt = mono();
  private ticking: Promise<void> | undefined;
  private forceReload = false;
  private lastSummary = '';

  constructor(private readonly o: DaemonOptions) {}

  /** Runs until stop(); the first tick is immediate. */
  start(): void {
    const loop = async () => {
      const t0 = mono();
      this.ticking = this.tick().catch((e) => this.o.warn(`rhi: poll failed: ${(e as Error).message}; continuing`));
      await this.ticking;
      if (!this.stopped) this.timer = setTimeout(loop, Math.max(0, this.o.intervalMs - (mono() - t0)));
    };
    void loop();
  }

  /** Withdraws every route and waits for BIRD to take it (bounded). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    for (const r of this.loaded?.rules ?? []) r.state = { ...r.state, announced: false, since: mono() };
    this.writeRoutes(true);
    await this.configure();
    if (this.configuring) await this.configuring;
    this.writeStatus(true);
    this.o.log(
      'rhi: stopped; every route withdrawn' +
        (this.birdInSync ? '' : ` (BIRD did not confirm: ${this.birdError ?? 'unknown'}; its route files are empty)`),
    );
  }

  /** SIGHUP: re-read every file at the next poll, changed or not. */
  reload(): void {
    this.forceReload = true;
  }

  private watched(): string[] {
    return [
      this.o.rulesFile,
      this.o.birdConfig,
      ...(this.loaded?.auto ? [this.o.haproxyConfig, this.o.rangesFile] : []),
    ];
  }

  async tick(): Promise<void> {
    // 1. Configuration: reload when a file changed and then stayed the same for one poll.
    const sig = this.watched().map(signature).join('|');
    if ((this.loaded === undefined && this.configLoadedAt === undefined) || this.forceReload) {
      this.forceReload = false;
      this.load(sig);
    } else if (sig !== this.loadedSig) {
      if (sig === this.seenSig) this.load(sig);
      this.seenSig = sig;
    }
    // 2. Health.
    let states: Map<string, string> | undefined;
    try {
      states = parseShowStat(
        await haproxyCommand(this.o.haproxySocket, 'show stat -1 3 -1', Math.max(500, this.o.intervalMs * 2)),
      );
      if (!this.haproxyReachable) this.o.log(`rhi: haproxy's runtime API answers (${this.o.haproxySocket})`);
      this.haproxyReachable = true;
      this.haproxyError = undefined;
    } catch (e) {
      const msg = (e as Error).message;
      if (this.haproxyReachable || this.haproxyError !== msg)
        this.o.warn(`rhi: haproxy's runtime API: ${msg}; every frontend and backend counts as down`);
      this.haproxyReachable = false;
      this.haproxyError = msg;
    }
    // 3. Rules.
    const now = mono();
    let changed = false;
    for (const r of this.loaded?.rules ?? []) {
      r.inputs = r.def.refs.map((ref) => inputState(ref, states));
      r.healthy = evaluate(r.def.aggregate, r.inputs);
      const { state, event } = step(r.state, r.healthy, now, this.o.tuning);
      r.state = state;
      if (event) {
        changed = true;
        const nets = r.def.targets
          .filter((t) => !r.problems.has(t.network))
          .map((t) => `${t.network} (${t.protocol})`)
          .join(', ');
        if (event === 'announce') this.o.log(`rhi: announce ${nets}: ${describeInputs(r)}`);
        else this.o.log(`rhi: withdraw ${nets}: ${whyDown(r.def.aggregate, r.inputs)}`);
      }
    }
    // 4. BIRD: not awaited, so a slow BIRD does not delay the next poll; configure() coalesces.
    if (this.writeRoutes(false) || changed || !this.birdInSync) void this.configure();
    this.writeStatus(false);
  }

  private load(sig: string): void {
    this.loadedSig = sig;
    this.seenSig = sig;
    const previous = this.loaded;
    const r = loadRules({ paths: this.o, read, previous, now: mono() });
    if (r.protocols) this.protocols = r.protocols;
    this.configLoadedAt = mono();
    if ('errors' in r) {
      const text = r.errors.join('\n');
      if (text !== this.configErrors.join('\n')) {
        const meanwhile = previous ? 'the previous rules stay in force' : 'nothing is announced';
        this.o.warn(`rhi: the configuration has errors; ${meanwhile} until they are fixed:\n${text}`);
      }
      this.configErrors = r.errors;
      return;
    }
    this.configErrors = [];
    for (const w of r.withdrawn) this.o.log(`rhi: withdraw ${w}: no rule announces it any more`);
    const { rules, notes } = r.loaded;
    this.loaded = r.loaded;
    // The files auto adds are watched from now on; said only when the rules came out different
    // (the Data Plane API rewrites haproxy.cfg for every change, most of them not about VIPs).
    this.loadedSig = this.seenSig = this.watched().map(signature).join('|');
    const protocols = this.protocols;
    const summary = JSON.stringify([rules.map((x) => [ruleText(x.def), x.origin]), notes, protocols]);
    if (summary === this.lastSummary) return;
    this.lastSummary = summary;
    const fromAuto = rules.filter((x) => x.origin.startsWith('auto:')).length;
    this.o.log(
      `rhi: ${previous ? 'reloaded' : 'loaded'} ${rules.length} rule${rules.length === 1 ? '' : 's'}` +
        `${r.loaded.auto ? ` (${fromAuto} from auto)` : ''} from ${this.o.rulesFile}; ` +
        `BIRD protocols ${protocols.map((x) => x.name).join(', ')}`,
    );
    for (const n of notes) this.o.log(`rhi: ${n}`);
  }

  /** Rewrites the route files whose routes changed (all of them when `all`); whether any changed. */
  private writeRoutes(all: boolean): boolean {
    let changed = false;
    for (const p of this.protocols) {
      const routes = new Set<string>();
      for (const r of this.loaded?.rules ?? []) {
        if (!r.state.announced) continue;
        for (const t of r.def.targets) if (t.protocol === p.name && !r.problems.has(t.network)) routes.add(t.network);
      }
      const text = routesText([...routes].sort());
      if (!all && this.written.get(p.file) === text) continue;
      try {
        writeFileAtomic(p.file, text, 0o644);
        this.written.set(p.file, text);
        changed = true;
      } catch (e) {
        this.o.warn(`rhi: cannot write ${p.file}: ${(e as Error).message}`);
      }
    }
    return changed;
  }

  /** `configure`, one at a time: a request while one runs makes exactly one more run after it. */
  private configure(): Promise<void> {
    if (this.configuring) {
      this.configureAgain = true;
      return this.configuring;
    }
    this.configuring = (async () => {
      do {
        this.configureAgain = false;
        let error: string | undefined;
        try {
          const r = await birdConfigure(this.o.birdSocket);
          if (!r.ok) error = `BIRD refused its configuration: ${r.message}`;
        } catch (e) {
          error = `BIRD: ${(e as Error).message}`;
        }
        if (error === undefined && !this.birdInSync) this.o.log(`rhi: BIRD took the routes (${this.o.birdSocket})`);
        if (error !== undefined && error !== this.birdError) this.o.warn(`rhi: ${error}; retrying every poll`);
        this.birdInSync = error === undefined;
        this.birdError = error;
      } while (this.configureAgain);
    })().finally(() => {
      this.configuring = undefined;
    });
    return this.configuring;
  }

  status(stopping: boolean): RhiStatus {
    const now = mono();
    const rules: StatusRule[] = (this.loaded?.rules ?? []).map((r) => {
      // Shown while the rule is healthy again but waits (while it is down the reason says enough).
      const hold = r.healthy ? holdDownUntil(r.state, now, this.o.tuning) : undefined;
      return {
        rule: ruleText(r.def),
        origin: r.origin,
        targets: r.def.targets.map((t) => ({
          network: t.network,
          protocol: t.protocol,
          ...(r.problems.has(t.network) ? { problem: r.problems.get(t.network)! } : {}),
        })),
        aggregate: r.def.aggregate,
        inputs: r.inputs,
        healthy: r.healthy,
        announced: r.state.announced,
        since: wall(r.state.since),
        ...(hold !== undefined ? { holdDownUntil: wall(hold) } : {}),
        ...(!r.healthy ? { reason: whyDown(r.def.aggregate, r.inputs) } : {}),
      };
    });
    return {
      pid: process.pid,
      version: this.o.version,
      startedAt: wall(this.startedAt),
      ...(stopping ? { stoppedAt: new Date().toISOString() } : {}),
      settings: {
        rulesFile: this.o.rulesFile,
        haproxySocket: this.o.haproxySocket,
        haproxyConfig: this.o.haproxyConfig,
        rangesFile: this.o.rangesFile,
        birdSocket: this.o.birdSocket,
        birdConfig: this.o.birdConfig,
        intervalMs: this.o.intervalMs,
        ...this.o.tuning,
      },
      config: {
        errors: this.configErrors,
        usingPrevious: this.configErrors.length > 0 && this.loaded !== undefined,
        auto: this.loaded?.auto ?? false,
        notes: [...(this.loaded?.notes ?? [])],
        ...(this.configLoadedAt !== undefined ? { loadedAt: wall(this.configLoadedAt) } : {}),
      },
      haproxy: { reachable: this.haproxyReachable, ...(this.haproxyError ? { error: this.haproxyError } : {}) },
      bird: {
        inSync: this.birdInSync,
        protocols: this.protocols.map((p) => p.name),
        ...(this.birdError ? { error: this.birdError } : {}),
      },
      rules,
    };
  }

  /** The state file for `ovactl rhi status`, rewritten (atomically) only when something in it changed. */
  private writeStatus(stopping: boolean): void {
    const s = this.status(stopping);
    const key = JSON.stringify({ ...s, rules: s.rules.map((r) => ({ ...r, holdDownUntil: undefined })) });
    if (key === this.lastStatus && !stopping) return;
    this.lastStatus = key;
    try {
      writeFileAtomic(this.o.stateFile, JSON.stringify(s, null, 1) + '\n', 0o644);
    } catch (e) {
      this.o.warn(`rhi: cannot write ${this.o.stateFile}: ${(e as Error).message}`);
    }
    // Beside the state file (/run/ovactl/metrics/rhi.prom), when metrics are on.
    const rules = s.rules.map((r) => ({
      rule: r.rule,
      announced: r.announced,
      targets: r.targets.filter((t) => !t.problem).length,
    }));
    const problem = writeMetrics(join(dirname(this.o.stateFile), 'metrics'), 'rhi.prom', rhiFamilies(rules));
    if (problem) this.o.warn(`rhi: metrics: ${problem}`);
  }
}

const describeInputs = (r: Active): string =>
  `${r.def.aggregate}(${r.inputs.map((i) => `${i.ref} ${i.status}`).join(', ')})`;

/** `ovactl rhi withdraw`: empty every route file bird.conf takes from `dir`, then `configure`. */
export async function withdrawAll(
  birdConfig: string,
  dir: string,
  birdSocket: string,
  opts: { onlyMissing?: boolean; configure?: boolean } = {},
): Promise<{ files: string[]; problems: string[]; included: number }> {
  const text = read(birdConfig);
  if ('error' in text) return { files: [], problems: [`${birdConfig}: cannot read: ${text.error}`], included: 0 };
  const files: string[] = [];
  const problems: string[] = [];
  const protocols = staticProtocols(text.text, dir);
  for (const p of protocols) {
    if (opts.onlyMissing && signature(p.file) !== 'missing') continue;
    try {
      writeFileAtomic(p.file, routesText([]), 0o644);
      files.push(p.file);
    } catch (e) {
      problems.push(`cannot write ${p.file}: ${(e as Error).message}`);
    }
  }
  if (opts.configure !== false) {
    try {
      const r = await birdConfigure(birdSocket);
      if (!r.ok) problems.push(`BIRD refused its configuration: ${r.message}`);
    } catch (e) {
      // BIRD not running: it reads the empty files when it starts.
      if (!/does not exist|nothing listens/.test((e as Error).message)) problems.push(`BIRD: ${(e as Error).message}`);
    }
  }
  return { files, problems, included: protocols.length };
}
