// The route health injection configuration as the daemon runs it: the rules file parsed, auto's
// rules derived from haproxy.cfg and the VIP ranges, each target matched to a static protocol of
// bird.conf. Reads through the caller's `read`, keeps the state of rules whose routes did not change
// (an edit of a condition is no withdraw-and-rise), and says which announced routes lost their rule.
import { parseRangesFile } from '../anyip/ranges-file.js';
import { deriveRules, parseHaproxyConfig } from './auto.js';
import { staticProtocols, type StaticProtocol } from './bird.js';
import { initialState, type InputState, type RuleState } from './health.js';
import { MAX_RULES_BYTES, describeError, parseRules, type RuleDef } from './rules.js';

export type ReadResult = { text: string } | { error: string };

/** A rule in force, with its health state (the daemon steps `state`, `inputs` and `healthy`). */
export interface Active {
  readonly key: string;
  readonly def: RuleDef;
  /** `file:LINE` or `auto: frontend web binds 192.0.2.10:80`. */
  readonly origin: string;
  /** Targets whose protocol bird.conf lacks (or has for the other family): never announced. */
  readonly problems: ReadonlyMap<string, string>;
  state: RuleState;
  inputs: readonly InputState[];
  healthy: boolean;
}

export interface Loaded {
  readonly rules: Active[];
  readonly auto: boolean;
  readonly notes: readonly string[];
}

export interface LoadInput {
  readonly paths: {
    readonly rulesFile: string;
    readonly birdConfig: string;
    readonly routesDir: string;
    readonly haproxyConfig: string;
    readonly rangesFile: string;
  };
  readonly read: (path: string, max?: number) => ReadResult;
  /** The rules in force: their states carry over. */
  readonly previous: Loaded | undefined;
  /** Monotonic milliseconds, for new rules' state machines. */
  readonly now: number;
}

/**
 * The configuration loaded, or its errors (the previous rules stay in force). `protocols`: bird.conf's
 * static protocols whenever it could be read. `withdrawn`: announced routes no rule announces now.
 */
export type LoadResult =
  | { readonly errors: string[]; readonly protocols?: StaticProtocol[] | undefined }
  | { readonly loaded: Loaded; readonly protocols: StaticProtocol[]; readonly withdrawn: string[] };

export function loadRules(input: LoadInput): LoadResult {
  const { paths: o, read, previous } = input;
  const rulesText = read(o.rulesFile, MAX_RULES_BYTES);
  const birdText = read(o.birdConfig);
  const errors: string[] = [];
  if ('error' in rulesText) errors.push(`${o.rulesFile}: cannot read: ${rulesText.error}`);
  const parsed = 'text' in rulesText ? parseRules(rulesText.text) : undefined;
  for (const e of parsed?.errors ?? []) errors.push(describeError(o.rulesFile, e));
  if ('error' in birdText) errors.push(`${o.birdConfig}: cannot read: ${birdText.error}`);
  let protocols: StaticProtocol[] | undefined;
  if ('text' in birdText) {
    protocols = staticProtocols(birdText.text, o.routesDir);
    if (protocols.length === 0)
      errors.push(`${o.birdConfig}: no static protocol includes a route file from ${o.routesDir}`);
  }
  if (errors.length || !parsed || !protocols) return { errors, protocols };
  const notes: string[] = [];
  const defs: { def: RuleDef; origin: string }[] = parsed.rules.map((def) => ({
    def,
    origin: `${o.rulesFile}:${def.line}`,
  }));
  if (parsed.auto) {
    const cfg = read(o.haproxyConfig);
    const ranges = read(o.rangesFile);
    if ('error' in cfg) notes.push(`auto: cannot read ${o.haproxyConfig}: ${cfg.error}; no VIP derived`);
    else if ('error' in ranges)
      notes.push(
        `auto: cannot read the VIP ranges ${o.rangesFile}: ${ranges.error}; ` +
          'no VIP derived (auto announces addresses inside them only)',
      );
    else {
      const derived = deriveRules(parseHaproxyConfig(cfg.text), parseRangesFile(ranges.text).ranges);
      notes.push(...derived.notes.map((n) => `auto: ${n}`));
      const explicit = new Set(parsed.rules.flatMap((r) => r.targets.map((t) => t.network)));
      for (const def of derived.rules) {
        if (explicit.has(def.targets[0]!.network))
          notes.push(`auto: ${def.targets[0]!.network} has a rule of its own in ${o.rulesFile}; that one applies`);
        else defs.push({ def, origin: `auto: ${derived.origins.get(def)}` });
      }
    }
  }
  const byName = new Map(protocols.map((p) => [p.name, p]));
  const old = new Map((previous?.rules ?? []).map((r) => [r.key, r]));
  const rules: Active[] = defs.map(({ def, origin }) => {
    const problems = new Map<string, string>();
    for (const t of def.targets) {
      const p = byName.get(t.protocol);
      if (!p) problems.set(t.network, `${o.birdConfig} has no static protocol ${t.protocol} fed from ${o.routesDir}`);
      else if (p.family !== t.family)
        problems.set(
          t.network,
          `protocol ${t.protocol} in ${o.birdConfig} is IPv${p.family}; ${t.network} is IPv${t.family}`,
        );
    }
    // A rule keeps its state while its routes stay the same (a changed condition, a backend
    // renamed by the control plane): no withdraw-and-rise for an edit.
    const key = def.targets.map((t) => `${t.protocol} ${t.network}`).join(', ');
    const kept = old.get(key);
    return {
      key,
      def,
      origin,
      problems,
      state: kept?.state ?? initialState(input.now),
      inputs: kept?.inputs ?? [],
      healthy: kept?.healthy ?? false,
    };
  });
  for (const r of rules) for (const [net, why] of r.problems) notes.push(`${net}: ${why}; not announced`);
  const keys = new Set(rules.map((r) => r.key));
  const withdrawn = (previous?.rules ?? [])
    .filter((r) => r.state.announced && !keys.has(r.key))
    .map((r) => r.key.replace(/(\S+) (\S+)/g, '$2 ($1)'));
  return { loaded: { rules, auto: parsed.auto !== undefined, notes }, protocols, withdrawn };
}
