// One reconcile pass of route-tables: the config file and the NICs' live addresses → the kernel's
// policy rules (ours only), and the Data Plane API onto the management lease. Never throws for bad
// input: every problem is a value the caller reports.
import { readRegularFile } from '../core/regular-file.js';
import { parseConfig, type ConfigProblem, type RouteTablesConfig } from './config.js';
import { applyRules, desiredRules, diffRules, kernelState, ruleText } from './rules.js';
import type { NicAddress, Rule, RuleDiff } from './rules.js';
import { followApi, type ApiOutcome } from './api.js';

export interface Outcome {
  readonly config: RouteTablesConfig;
  readonly diff: RuleDiff;
  /** The DHCP NICs and their addresses now (empty: no lease yet, or the lease was lost). */
  readonly leases: ReadonlyMap<string, readonly string[]>;
  readonly kernelError?: string;
  readonly api?: ApiOutcome;
}

export interface ConvergeOptions {
  readonly config: string;
  /** Where the Data Plane API's files live ("/" on the appliance). */
  readonly root: string;
  /** The watcher treats a missing file as "no DHCP NICs" (it removes our rules); `up` refuses instead. */
  readonly missingAsEmpty: boolean;
  readonly restartApi: () => Promise<string | undefined>;
}

/** The API's address: the NIC's leased address (a static one added by hand only when there is no lease). */
const apiAddress = (addresses: readonly NicAddress[], nic: string): string | undefined =>
  [...addresses.filter((a) => a.nic === nic)].sort((a, b) => Number(b.dynamic) - Number(a.dynamic))[0]?.address;

export async function converge(o: ConvergeOptions): Promise<Outcome | { unreadable: string }> {
  let text = '';
  try {
    text = readRegularFile(o.config);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !o.missingAsEmpty) return { unreadable: 'no such file' };
    if (code !== 'ENOENT') return { unreadable: (e as Error).message };
  }
  const config = parseConfig(text);
  const nics = new Set([...config.tables.map((t) => t.nic), ...(config.api ? [config.api.nic] : [])]);
  const state = await kernelState(nics);
  const diff = diffRules(desiredRules(config.tables, state.addresses), state.owned, state.others);
  const applied = await applyRules(diff);
  const leaseOf = (nic: string) => state.addresses.filter((a) => a.nic === nic).map((a) => `${a.address}/${a.prefix}`);
  const leases = new Map(config.tables.map((t) => [t.nic, leaseOf(t.nic)]));
  const address = config.api ? apiAddress(state.addresses, config.api.nic) : undefined;
  const api =
    config.api && address
      ? await followApi({ root: o.root, address, dnsNames: config.api.dnsNames, restart: o.restartApi })
      : undefined;
  return { config, diff, leases, ...(applied.ok ? {} : { kernelError: applied.message }), ...(api ? { api } : {}) };
}

/** At most LISTED rules named per kind in one log line. */
const LISTED = 10;
const list = (rs: readonly Rule[]): string => {
  const texts = rs.map(ruleText);
  if (texts.length <= LISTED) return texts.join('; ');
  return `${texts.slice(0, LISTED).join('; ')} and ${texts.length - LISTED} more`;
};

export const describeChange = (d: RuleDiff): string =>
  `${d.add.length} rule(s) added, ${d.remove.length} removed, ${d.kept.length} unchanged` +
  `${d.add.length ? `; added ${list(d.add)}` : ''}${d.remove.length ? `; removed ${list(d.remove)}` : ''}`;

export const describeForeign = (d: RuleDiff): string =>
  `${list(d.foreign)}: already a rule not made by route-tables: left alone ` +
  '(it routes; route-tables will not remove it)';

export const describeLeases = (leases: ReadonlyMap<string, readonly string[]>): string =>
  [...leases].map(([nic, a]) => `${nic} ${a.length ? a.join(', ') : 'no address (waiting for a lease)'}`).join('; ') ||
  'no DHCP NIC';

export const describeApi = (a: ApiOutcome): string | undefined =>
  a.yamlChanged || a.certChanged
    ? `the Data Plane API follows the management lease ${a.address}:` +
      `${a.yamlChanged ? ' listener moved' : ''}${a.yamlChanged && a.certChanged ? ',' : ''}` +
      `${a.certChanged ? ` certificate re-issued (${a.reasons.join('; ')})` : ''}`
    : undefined;

export type { ConfigProblem };
