// The shell's half of planning: what the machine says, read once before the first step, so that
// plan/boot.ts decides every step from values and facts alone (and `ovactl render` from the same).
import { existsSync } from 'node:fs';
import { hostname, totalmem } from 'node:os';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { readBuildInfo } from '../appliance/build-info.js';
import { DATAPLANEAPI_BIN } from '../appliance/dataplaneapi.js';
import { DEFAULT_MEMORY_BYTES } from '../appliance/hardware.js';
import {
  BIRD_BIN,
  DATAPLANEAPI_USERS,
  HAPROXY_CFG,
  METRICS_CFG,
  RANGES_FILE,
  STATUS_FILE,
} from '../appliance/paths.js';
import { RSYSLOGD } from '../appliance/syslog.js';
import { KEEPALIVED_BIN } from '../appliance/ha.js';
import { currentContent, under } from '../core/atomic-write.js';
import type { BootFacts } from '../plan/boot.js';
import { APPLIANCE_PCI_PATHS } from '../plan/types.js';
import type { Report } from '../validate/validate.js';
import { managementLease } from './lease.js';
import { haproxyPasswordHash } from './password-hash.js';
import { inputsHash, readState } from './state.js';
import type { System } from './system.js';

export interface GatherInput {
  readonly report: Report;
  readonly root: string;
  readonly system: System;
  readonly version: string;
  /** haproxy for `haproxy -c`; the check is skipped (and said so) when it is missing. */
  readonly haproxyBin?: string | undefined;
  /** Put the VIP routes in place in this process (live runs; default true). */
  readonly anyip?: boolean | undefined;
  readonly now?: Date | undefined;
  /** As on an appliance that has never booted: the state record and status are not read (render). */
  readonly fresh?: boolean | undefined;
}

export async function gatherBootFacts(g: GatherInput): Promise<BootFacts> {
  const { report, root, system } = g;
  const read = (path: string): string | undefined => currentContent(under(root, path));
  const currentCfg = read(HAPROXY_CFG);
  const hash = inputsHash(report, g.version);
  const previous = g.fresh ? undefined : readState(root);
  // The password hash (openssl) and the lease are for applying values: a boot with the values applied
  // before (bootPlan's first question) does without them.
  const valid = report.valid && previous?.inputs !== hash ? report.values : undefined;
  // The current hash is kept while it matches the password.
  const users = read(DATAPLANEAPI_USERS) ?? currentCfg;
  const image = readBuildInfo(root);
  return {
    pciPaths: APPLIANCE_PCI_PATHS,
    dataplaneapiInstalled: existsSync(under(root, DATAPLANEAPI_BIN)),
    birdInstalled: existsSync(under(root, BIRD_BIN)),
    keepalivedInstalled: existsSync(under(root, KEEPALIVED_BIN)),
    rsyslogInstalled: existsSync(under(root, RSYSLOGD)),
    haproxyPasswordHash: valid ? await haproxyPasswordHash(valid['loadbalance.haproxy_pwd'], users) : '',
    currentHaproxyConfig: currentCfg,
    currentMetricsConfig: read(METRICS_CFG),
    // The VM's own memory on the appliance; the descriptor's for a tree under --root.
    memoryBytes: root === '/' ? totalmem() : DEFAULT_MEMORY_BYTES,
    // With DHCP on the management NIC: its lease, when networkd has one already.
    managementLease: valid && system.live && !valid['network.management_ip'] ? await managementLease() : undefined,
    live: system.live,
    root,
    now: g.now ?? new Date(),
    inputsHash: hash,
    previous,
    currentStatus: g.fresh ? undefined : read(STATUS_FILE),
    rangesInForce: parseRangesFile(read(RANGES_FILE) ?? '').ranges.map((r) => r.text),
    haproxyCheck: g.haproxyBin !== undefined && existsSync(g.haproxyBin),
    runningHostname: system.live ? hostname() : undefined,
    image: image ? { dataplaneapi: image.dataplaneapi } : undefined,
    anyip: system.live && g.anyip !== false,
  };
}
