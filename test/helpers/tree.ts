// A file tree's state, to prove what a run changed and what it left alone: content, mode and inode
// (an atomic rewrite gets a new inode even when the bytes are the same).
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export type Snapshot = ReadonlyMap<string, string>;

export function snapshot(root: string): Snapshot {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = lstatSync(p);
        out.set(relative(root, p), `${st.ino}:${st.mode}:${e.isFile() ? readFileSync(p).toString('base64') : ''}`);
      }
    }
  };
  walk(root);
  return out;
}

/** Paths added, removed or changed between two snapshots, sorted. */
export function changedFiles(before: Snapshot, after: Snapshot): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p)).sort();
}

/** What a run that keeps the last good configuration may change: its status, nothing else. */
export const STATUS_ONLY = ['etc/issue.d/ovactl.issue', 'var/lib/ovactl/state.json', 'var/lib/ovactl/status.json'];
