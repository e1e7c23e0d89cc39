// /etc/vmware/route-tables.cfg: which NICs get their address from DHCP and what follows each lease.
// Written by first boot from the deploy values (templates/vmware/route-tables.cfg.hbs); one entry a line:
//   table NIC TABLE        policy rules for NIC's leased address into routing table TABLE (201, 202)
//   dataplaneapi NIC DNS…  the Data Plane API listens on NIC's leased address, its certificate names
//                          that address, 127.0.0.1 and the DNS names
// "#" comments and blank lines are ignored. A bad line is reported with its number and skipped.
import { q } from '../core/quote.js';
import { ROUTE_TABLES_CFG } from '../appliance/paths.js';

export const CONFIG_FILE = ROUTE_TABLES_CFG;

/** Interface names the appliance gives its NICs (the .link files): nothing else is ever touched. */
const NIC_NAME = /^(management|workload|frontend)$/;
const DNS_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$/;
/** The tables of policy routing (src/plan ROUTE_TABLES); main, local and default are never ours. */
const TABLE_RANGE = { min: 1, max: 252 } as const;

export interface TableEntry {
  readonly nic: string;
  readonly table: number;
}
export interface ApiEntry {
  readonly nic: string;
  readonly dnsNames: readonly string[];
}

export interface ConfigProblem {
  readonly line: number;
  readonly message: string;
  readonly hint: string;
}

export interface RouteTablesConfig {
  readonly tables: readonly TableEntry[];
  readonly api?: ApiEntry;
  readonly problems: readonly ConfigProblem[];
}

type Parsed = { table: TableEntry } | { api: ApiEntry } | { problem: Omit<ConfigProblem, 'line'> };
const problem = (message: string, hint: string): Parsed => ({ problem: { message, hint } });

const nicProblem = (nic: string | undefined): Parsed | undefined =>
  nic !== undefined && NIC_NAME.test(nic)
    ? undefined
    : problem(`${q(nic ?? '')} is not a NIC of the appliance`, 'name management, workload or frontend');

// One rule per keyword: the line's words → an entry or the problem.
const KEYWORDS: Record<string, (words: readonly string[]) => Parsed> = {
  table([nic, table, ...rest]) {
    const bad = nicProblem(nic);
    if (bad) return bad;
    const n = Number(table);
    if (!/^\d{1,3}$/.test(table ?? '') || n < TABLE_RANGE.min || n > TABLE_RANGE.max || rest.length) {
      return problem(
        `table ${nic} ${q([table, ...rest].join(' '))}: not one table number`,
        `write "table ${nic} N", N from ${TABLE_RANGE.min} to ${TABLE_RANGE.max}`,
      );
    }
    return { table: { nic: nic!, table: n } };
  },
  dataplaneapi([nic, ...dns]) {
    const bad = nicProblem(nic);
    if (bad) return bad;
    const wrong = dns.find((d) => !DNS_NAME.test(d));
    const hint = 'list host names, e.g. "dataplaneapi management haproxy.example.test localhost"';
    if (wrong !== undefined) return problem(`${q(wrong)} is not a DNS name`, hint);
    return { api: { nic: nic!, dnsNames: dns } };
  },
};

export function parseConfig(text: string): RouteTablesConfig {
  const tables: TableEntry[] = [];
  const problems: ConfigProblem[] = [];
  let api: ApiEntry | undefined;
  text.split('\n').forEach((raw, i) => {
    const words = raw.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (!words.length) return;
    const rule = KEYWORDS[words[0]!];
    const r: Parsed = rule
      ? rule(words.slice(1))
      : problem(`${q(words[0]!)} is not an entry`, 'begin the line with "table" or "dataplaneapi"');
    const line = i + 1;
    if ('problem' in r) problems.push({ line, ...r.problem });
    else if ('api' in r) {
      if (api) problems.push({ line, message: 'a second dataplaneapi line', hint: 'keep one; the first one is used' });
      else api = r.api;
    } else if (tables.some((t) => t.nic === r.table.nic || t.table === r.table.table)) {
      const message = `table ${r.table.nic} ${r.table.table}: that NIC or table is named before`;
      problems.push({ line, message, hint: 'one line per NIC, one NIC per table' });
    } else tables.push(r.table);
  });
  return { tables, ...(api ? { api } : {}), problems };
}

export const describeProblem = (file: string, p: ConfigProblem): string =>
  `${file}:${p.line}: ${p.message}; skipped. Fix: ${p.hint}`;
