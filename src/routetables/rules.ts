// The kernel side of route-tables: for each DHCP NIC's leased IPv4 address, `from ADDRESS/32 lookup
// TABLE` (replies and the NIC's own traffic leave by it) and `to SUBNET lookup TABLE` (backends on
// the leased subnet are reached through it: networkd puts the DHCP routes in TABLE only, so without
// this rule they go out the management gateway). Rules carry ROUTE_TABLES_PROTO, and a reconcile
// removes only rules that carry it. State is read once (ip -json) and changes go in one `ip -batch -`.
import { parseCidr, isCidr, networkText } from '../net/ip.js';
import { runIp } from '../net/iproute.js';
import { ROUTE_TABLES_PROTO, RULE_PRIORITY } from '../appliance/policy-routing.js';
import type { TableEntry } from './config.js';

/** A leased (or any global) IPv4 address on a NIC, as ip shows it. */
export interface NicAddress {
  readonly nic: string;
  readonly address: string;
  readonly prefix: number;
  readonly dynamic: boolean;
}

export interface Rule {
  readonly priority: number;
  readonly from?: string;
  readonly to?: string;
  readonly table: number;
}

export interface RuleDiff {
  readonly add: readonly Rule[];
  readonly remove: readonly Rule[];
  readonly kept: readonly Rule[];
  /** Wanted rules someone else already made (same selector, table and priority): they work; left alone. */
  readonly foreign: readonly Rule[];
}

/** At most this many addresses of one NIC get rules: a NIC flooded with addresses is not a reason for 10,000 rules. */
export const MAX_ADDRESSES_PER_NIC = 8;

export const ruleText = (r: Rule): string =>
  `priority ${r.priority}${r.from ? ` from ${r.from}` : ''}${r.to ? ` to ${r.to}` : ''} lookup ${r.table}`;

/** The rules the leases ask for: pure. */
export function desiredRules(tables: readonly TableEntry[], addresses: readonly NicAddress[]): Rule[] {
  const out = new Map<string, Rule>();
  for (const { nic, table } of tables) {
    // Leased addresses first: a static one an admin added by hand is still routed, after them.
    const own = addresses.filter((a) => a.nic === nic).sort((a, b) => Number(b.dynamic) - Number(a.dynamic));
    for (const a of own.slice(0, MAX_ADDRESSES_PER_NIC)) {
      const c = parseCidr(`${a.address}/${a.prefix}`);
      if (!isCidr(c) || c.family !== 4) continue;
      const rules: Rule[] = [{ priority: RULE_PRIORITY.from, from: `${c.address.text}/32`, table }];
      if (c.prefix < 32) rules.push({ priority: RULE_PRIORITY.to, to: networkText(c), table });
      for (const r of rules) out.set(ruleText(r), r);
    }
  }
  return [...out.values()];
}

export function diffRules(wanted: readonly Rule[], owned: readonly Rule[], others: readonly Rule[]): RuleDiff {
  const have = new Set(owned.map(ruleText));
  const want = new Set(wanted.map(ruleText));
  const other = new Set(others.map(ruleText));
  return {
    add: wanted.filter((r) => !have.has(ruleText(r)) && !other.has(ruleText(r))),
    remove: owned.filter((r) => !want.has(ruleText(r))),
    kept: wanted.filter((r) => have.has(ruleText(r))),
    foreign: wanted.filter((r) => !have.has(ruleText(r)) && other.has(ruleText(r))),
  };
}

function batchScript(d: Pick<RuleDiff, 'add' | 'remove'>): string {
  const spec = (r: Rule) =>
    `${r.from ? `from ${r.from} ` : ''}${r.to ? `to ${r.to} ` : ''}` +
    `table ${r.table} priority ${r.priority} protocol ${ROUTE_TABLES_PROTO}`;
  return [...d.remove.map((r) => `rule del ${spec(r)}`), ...d.add.map((r) => `rule add ${spec(r)}`)].join('\n') + '\n';
}

// ─── reading the kernel ──────────────────────────────────────────────────────────────────────

interface JsonRule {
  priority?: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  table?: string;
  protocol?: string;
  [k: string]: unknown;
}
interface JsonAddress {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
  dynamic?: boolean;
}
interface JsonLink {
  ifname?: string;
  addr_info?: JsonAddress[];
}

const prefixed = (ip: string | undefined, len: number | undefined): string | undefined =>
  ip === undefined || ip === 'all' ? undefined : `${ip}/${len ?? 32}`;

/** Selectors this module never writes (fwmark, iif, …): such a rule is never "the same" as one of ours. */
const PLAIN_KEYS = new Set(['priority', 'src', 'srclen', 'dst', 'dstlen', 'table', 'protocol']);

/** `ip -N -4 -j rule show` → our rules and the others (only those shaped like ours matter). Pure. */
export function parseRules(json: string): { owned: Rule[]; others: Rule[] } {
  const owned: Rule[] = [];
  const others: Rule[] = [];
  for (const r of JSON.parse(json || '[]') as JsonRule[]) {
    const table = Number(r.table);
    if (r.priority === undefined || !Number.isInteger(table)) continue;
    const from = prefixed(r.src, r.srclen);
    const to = prefixed(r.dst, r.dstlen);
    const rule: Rule = { priority: r.priority, table, ...(from ? { from } : {}), ...(to ? { to } : {}) };
    if (r.protocol === String(ROUTE_TABLES_PROTO)) owned.push(rule);
    else if (Object.keys(r).every((k) => PLAIN_KEYS.has(k))) others.push(rule);
  }
  return { owned, others };
}

/** `ip -4 -j addr show` → the global IPv4 addresses of the named NICs. Pure. */
export function parseAddresses(json: string, nics: ReadonlySet<string>): NicAddress[] {
  const out: NicAddress[] = [];
  for (const link of JSON.parse(json || '[]') as JsonLink[]) {
    if (!link.ifname || !nics.has(link.ifname)) continue;
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet' || a.scope !== 'global' || !a.local || a.prefixlen === undefined) continue;
      out.push({ nic: link.ifname, address: a.local, prefix: a.prefixlen, dynamic: a.dynamic === true });
    }
  }
  return out;
}

export interface KernelState {
  readonly addresses: NicAddress[];
  readonly owned: Rule[];
  readonly others: Rule[];
}

/** Two reads: the NICs' addresses and the IPv4 rules. Throws with ip's message when ip fails. */
export async function kernelState(nics: ReadonlySet<string>): Promise<KernelState> {
  const [addr, rules] = await Promise.all([
    runIp(['-4', '-j', 'addr', 'show']),
    runIp(['-N', '-4', '-j', 'rule', 'show']),
  ]);
  if (addr.exitCode !== 0) throw new Error(`ip addr show failed: ${addr.stderr}`);
  if (rules.exitCode !== 0) throw new Error(`ip rule show failed: ${rules.stderr}`);
  return { addresses: parseAddresses(addr.stdout, nics), ...parseRules(rules.stdout) };
}

/** Our rules only. */
export const ownedRules = async (): Promise<Rule[]> => {
  const r = await runIp(['-N', '-4', '-j', 'rule', 'show']);
  if (r.exitCode !== 0) throw new Error(`ip rule show failed: ${r.stderr}`);
  return parseRules(r.stdout).owned;
};

/** Applies the changes in one ip process; `-force` goes on past a line the kernel refuses. */
export async function applyRules(d: Pick<RuleDiff, 'add' | 'remove'>): Promise<{ ok: boolean; message: string }> {
  if (d.add.length === 0 && d.remove.length === 0) return { ok: true, message: '' };
  const r = await runIp(['-force', '-batch', '-'], batchScript(d));
  return { ok: r.exitCode === 0, message: r.stderr.trim() };
}
