// Atomic file writes: a temp file beside the target, fsync, chmod/chown, rename, fsync the folder.
// A reader (or a crash) sees the old file or the new one, never half of one.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, chownSync, writeSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PlannedFile } from '../plan/types.js';

/** The path of a planned file under `root` ("/" on the appliance, a scratch folder for render). */
export const under = (root: string, path: string): string => join(root, path);

/** Current content, or undefined when the file does not exist. */
export function currentContent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface Ids {
  uid(name: string): number | undefined;
  gid(name: string): number | undefined;
}

/** Writes `f` under `root` unless it already holds the same content and mode. Returns whether it wrote. */
export function writeAtomic(root: string, f: PlannedFile, ids?: Ids): boolean {
  const target = under(root, f.path);
  const same = currentContent(target) === f.content && (statSync(target).mode & 0o7777) === f.mode;
  if (same) return false;
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const tmp = `${target}.ovactl-tmp`;
  const fd = openSync(tmp, 'w', f.mode);
  try {
    writeSync(fd, f.content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const uid = ids?.uid(f.owner);
  const gid = ids?.gid(f.group);
  if (uid !== undefined && gid !== undefined) chownSync(tmp, uid, gid);
  try {
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const dir = openSync(dirname(target), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return true;
}

/** uid/gid lookups from the tree's own /etc/passwd and /etc/group (the appliance's, or a rendered root). */
export function idsFrom(root: string): Ids {
  const table = (file: string) => {
    const m = new Map<string, number>();
    for (const line of (currentContent(join(root, file)) ?? '').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id && /^\d+$/.test(id)) m.set(name, Number(id));
    }
    return m;
  };
  const users = table('/etc/passwd');
  const groups = table('/etc/group');
  return { uid: (n) => users.get(n), gid: (n) => groups.get(n) };
}
