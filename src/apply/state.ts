// First boot's record of what it applied (/var/lib/ovactl/state.json): the hash of the normalised
// inputs, whether they applied without an error, and the values in force. Written last, so a run
// killed at any point runs again at the next boot.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { parseRangesFile } from '../anyip/ranges-file.js';
import { RANGES_FILE, STATE_FILE } from '../appliance/paths.js';
import { currentContent, under, writeAtomic } from '../core/atomic-write.js';
import type { PreviousState } from '../plan/boot.js';
import type { Serving } from '../plan/status.js';
import type { Report } from '../validate/validate.js';

const STATE_VERSION = 2;

interface State {
  readonly version: number;
  readonly inputs: string;
  readonly state: 'ready' | 'error';
  readonly serving?: Serving;
}

export function inputsHash(report: Report, version: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ STATE_VERSION, version, deployment: report.deployment, properties: report.properties }))
    .digest('hex');
}

export function readState(root: string): PreviousState | undefined {
  const path = under(root, STATE_FILE);
  try {
    const s = JSON.parse(currentContent(path) ?? '') as State;
    if (s.version === STATE_VERSION) return s;
    // ovactl 0.1's state (no "serving"): a ready appliance serves the ranges its ranges file lists.
    if (s.version !== 1 || s.state !== 'ready') return undefined;
    const ranges = parseRangesFile(currentContent(under(root, RANGES_FILE)) ?? '').ranges.map((r) => r.text);
    return { ...s, serving: { appliedAt: statSync(path).mtime.toISOString(), ranges } };
  } catch {
    return undefined;
  }
}

export function writeState(root: string, s: PreviousState): void {
  const record: State = {
    version: STATE_VERSION,
    inputs: s.inputs,
    state: s.state,
    ...(s.serving ? { serving: s.serving } : {}),
  };
  const content = JSON.stringify(record) + '\n';
  writeAtomic(root, { path: STATE_FILE, mode: 0o600, owner: 'root', group: 'root', content });
}

/**
 * What first boot recorded as applied: the hash of the values (inputsHash) and whether they were
 * applied without an error ("ready"). For `ovactl export`, which must hand on the values in force only.
 */
export function appliedState(root: string): { inputs: string; state: 'ready' | 'error' } | undefined {
  const s = readState(root);
  return s ? { inputs: s.inputs, state: s.state } : undefined;
}
