// Atomic file writes: a new temp file beside the target (O_EXCL, random name, 0600 until its mode is
// set with fchmod, so neither a leftover temp file nor the umask can widen or narrow a mode), fsync,
// chown, rename, fsync the folder. A reader or a crash sees the old file or the new one, never half.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PlannedFile } from '../plan/types.js';

/** The path of a planned file under `root` ("/" on the appliance, a scratch folder for render). */
export const under = (root: string, path: string): string => join(root, path);

/** Content of a regular file, or undefined (missing, a symlink, a folder, unreadable). */
export function currentContent(path: string): string | undefined {
  try {
    return lstatSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

function same(path: string, content: string, mode: number, owner: Owner | undefined): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && (st.mode & 0o7777) === mode && (!owner || (st.uid === owner.uid && st.gid === owner.gid)) && readFileSync(path, 'utf8') === content;
  } catch {
    return false;
  }
}

const TEMP_MARK = '.ovactl-';

/** Temp files a killed run left beside `target`. */
function removeStaleTemps(dir: string, target: string): void {
  const prefix = `.${basename(target)}${TEMP_MARK}`;
  for (const f of readdirSync(dir)) if (f.startsWith(prefix)) rmSync(join(dir, f), { force: true });
}

/** Writes `content` to `target` with exactly `mode` (and owner) unless it holds them already. Returns whether it wrote. */
export function writeFileAtomic(target: string, content: string, mode: number, owner?: Owner): boolean {
  if (same(target, content, mode, owner)) return false;
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  removeStaleTemps(dir, target);
  const tmp = join(dir, `.${basename(target)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, content);
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return true;
}

export interface Ids {
  uid(name: string): number | undefined;
  gid(name: string): number | undefined;
}

/** A planned file under `root`; owners apply when `ids` knows both names. Returns whether it wrote. */
export function writeAtomic(root: string, f: PlannedFile, ids?: Ids): boolean {
  const uid = ids?.uid(f.owner);
  const gid = ids?.gid(f.group);
  return writeFileAtomic(under(root, f.path), f.content, f.mode, uid !== undefined && gid !== undefined ? { uid, gid } : undefined);
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
