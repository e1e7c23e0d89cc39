// `auto`: rules derived from the live haproxy configuration, because on this appliance the control
// plane creates frontends at run time (Data Plane API) and nobody can write static rules for them.
// Every address a frontend (or listen section) binds becomes one /32 (/128) announced while that
// frontend and every backend it uses (default_backend, use_backend, a listen section's own servers)
// are up. Several frontends binding one VIP (ports 80 and 443) make one rule over all of them.
// Wildcard binds, UNIX sockets, dynamic backend names and VIPs outside the VIP ranges are skipped,
// each with a note saying why.
import { contains, parseIp, type Cidr, type Family } from '../net/ip.js';
import { DEFAULT_PROTOCOL, ruleText, type Ref, type RuleDef } from './rules.js';
import { SECTION_KEYWORDS as SECTIONS } from '../haproxy/sections.js';
import { words } from '../haproxy/words.js';

export { words };

export interface Frontend {
  readonly name: string;
  readonly line: number;
  /** `listen` sections are a frontend and a backend of the same name. */
  readonly listen: boolean;
  readonly binds: readonly { readonly address: string; readonly line: number }[];
  readonly backends: readonly string[];
  readonly disabled: boolean;
  readonly hasServers: boolean;
}

export interface HaproxyConfig {
  readonly frontends: readonly Frontend[];
  readonly notes: readonly string[];
}

export function parseHaproxyConfig(text: string): HaproxyConfig {
  const frontends: Frontend[] = [];
  const notes: string[] = [];
  const namedDefaults = new Map<string, string | undefined>();
  let lastDefault: string | undefined; // default_backend of the last defaults section
  type Open = {
    kind: string;
    name: string;
    line: number;
    from?: string;
    binds: { address: string; line: number }[];
    defaultBackend?: string;
    useBackends: string[];
    disabled: boolean;
    hasServers: boolean;
  };
  let cur: Open | undefined;
  const close = () => {
    if (!cur) return;
    if (cur.kind === 'defaults') {
      lastDefault = cur.defaultBackend;
      if (cur.name) namedDefaults.set(cur.name, cur.defaultBackend);
    } else if (cur.kind === 'frontend' || cur.kind === 'listen') {
      const inherited = cur.from !== undefined ? namedDefaults.get(cur.from) : lastDefault;
      const def = cur.defaultBackend ?? inherited;
      const backends = [...new Set([...(def ? [def] : []), ...cur.useBackends])];
      frontends.push({
        name: cur.name,
        line: cur.line,
        listen: cur.kind === 'listen',
        binds: cur.binds,
        backends,
        disabled: cur.disabled,
        hasServers: cur.hasServers,
      });
    }
    cur = undefined;
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const w = words(raw);
    if (w.length === 0) return;
    const kw = w[0]!;
    if (SECTIONS.has(kw)) {
      close();
      const fromAt = w.indexOf('from');
      cur = {
        kind: kw,
        name: w[1] ?? '',
        line: i + 1,
        ...(fromAt > 0 && w[fromAt + 1] ? { from: w[fromAt + 1]! } : {}),
        binds: [],
        useBackends: [],
        disabled: false,
        hasServers: false,
      };
      return;
    }
    if (!cur) return;
    switch (kw) {
      case 'bind':
        for (const a of (w[1] ?? '').split(',').filter(Boolean)) cur.binds.push({ address: a, line: i + 1 });
        break;
      case 'default_backend':
        if (w[1]) cur.defaultBackend = w[1];
        break;
      case 'use_backend':
        if (!w[1]) break;
        if (w[1].includes('%['))
          notes.push(
            `${cur.kind} ${cur.name} (line ${i + 1}): use_backend ${w[1]} is computed at run time; ` +
              'not part of its rule',
          );
        else cur.useBackends.push(w[1]);
        break;
      case 'disabled':
        cur.disabled = true;
        break;
      case 'server':
      case 'server-template':
        cur.hasServers = true;
        break;
    }
  });
  close();
  return { frontends, notes };
}

/** The IP address of a bind address, or why there is none (`*:80`, a UNIX socket, `${VIP}:80`). */
export function bindAddress(spec: string): { ip: string; family: Family } | { skip: string } {
  let s = spec;
  const at = s.indexOf('@');
  if (at >= 0) {
    const family = s.slice(0, at);
    if (/^(unix|abns|fd|sockpair|uxst|uxdg)$/.test(family)) return { skip: 'not an IP address' };
    s = s.slice(at + 1);
  }
  if (s.startsWith('/')) return { skip: 'a UNIX socket' };
  if (s.includes('${')) return { skip: 'set from an environment variable' };
  let host: string;
  if (s.startsWith('[')) host = s.slice(1, s.indexOf(']') < 0 ? s.length : s.indexOf(']'));
  else {
    const colon = s.lastIndexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
  }
  if (host === '' || host === '*' || host === '0.0.0.0' || host === '::') return { skip: 'all addresses (a wildcard)' };
  const ip = parseIp(host);
  return ip
    ? { ip: ip.text, family: ip.family }
    : { skip: `${JSON.stringify(host)} is not an IP address (host names are not resolved)` };
}

export interface AutoRules {
  readonly rules: readonly RuleDef[];
  /** For each derived rule, what it came from: `frontend web binds 192.0.2.10:80`. */
  readonly origins: ReadonlyMap<RuleDef, string>;
  readonly notes: readonly string[];
}

/**
 * One rule per VIP: the frontends binding it and their backends, all required (`all`).
 * `ranges`: the VIP ranges; addresses outside them (the management address, 127.0.0.1) are skipped.
 * `undefined` ranges: no filter.
 */
export function deriveRules(cfg: HaproxyConfig, ranges: readonly Cidr[] | undefined): AutoRules {
  const notes = [...cfg.notes];
  const byVip = new Map<string, { family: Family; frontends: Frontend[]; binds: string[]; line: number }>();
  for (const f of cfg.frontends) {
    const kind = f.listen ? 'listen' : 'frontend';
    if (f.disabled) {
      if (f.binds.length)
        notes.push(`${kind} ${f.name} (line ${f.line}) is disabled in the configuration; not announced`);
      continue;
    }
    for (const b of f.binds) {
      const a = bindAddress(b.address);
      if ('skip' in a) {
        notes.push(`${kind} ${f.name} (line ${b.line}) binds ${b.address}: ${a.skip}; not announced`);
        continue;
      }
      const ip = parseIp(a.ip)!;
      if (ranges && !ranges.some((r) => contains(r, ip))) {
        notes.push(
          `${kind} ${f.name} (line ${b.line}) binds ${b.address}: ${a.ip} is outside the VIP ranges; not announced`,
        );
        continue;
      }
      const v = byVip.get(a.ip) ?? { family: a.family, frontends: [], binds: [], line: b.line };
      if (!v.frontends.includes(f)) v.frontends.push(f);
      v.binds.push(`${kind} ${f.name} binds ${b.address}`);
      byVip.set(a.ip, v);
    }
  }
  const rules: RuleDef[] = [];
  const origins = new Map<RuleDef, string>();
  for (const [ip, v] of byVip) {
    const refs: Ref[] = [];
    const add = (r: Ref) => {
      if (!refs.some((x) => x.kind === r.kind && x.name === r.name)) refs.push(r);
    };
    for (const f of v.frontends) {
      add({ kind: 'f', name: f.name });
      if (f.listen && (f.hasServers || f.backends.length === 0)) add({ kind: 'b', name: f.name });
      for (const b of f.backends) add({ kind: 'b', name: b });
    }
    const network = `${ip}/${v.family === 4 ? 32 : 128}`;
    const rule: RuleDef = {
      line: v.line,
      column: 1,
      targets: [
        { network, family: v.family, protocol: DEFAULT_PROTOCOL[v.family], explicitProtocol: false, column: 1 },
      ],
      aggregate: 'all',
      refs,
      source: '',
    };
    rules.push({ ...rule, source: ruleText(rule) });
    origins.set(rules[rules.length - 1]!, v.binds.join('; '));
  }
  return { rules, origins, notes };
}
