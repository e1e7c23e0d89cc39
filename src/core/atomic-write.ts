// Atomic file writes: a new temp file beside the target (O_EXCL, random name, 0600 until its mode is
// set with fchmod, so neither a leftover temp file nor the umask can widen or narrow a mode), fsync,
// chown, rename, fsync the folder. A reader or a crash sees the old file or the new one, never half.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirs } from './make-dirs.js';
import { errnoError } from './fs-error.js';

/** What a file write needs (the plan's PlannedFile is one). */
export interface FileSpec {
  readonly path: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
  readonly content: string;
}

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
    return (
      st.isFile() &&
      (st.mode & 0o7777) === mode &&
      (!owner || (st.uid === owner.uid && st.gid === owner.gid)) &&
      readFileSync(path, 'utf8') === content
    );
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

/**
 * Writes `content` to `target` with exactly `mode` (and owner) unless it holds them already.
 * Returns whether it wrote.
 */
export function writeFileAtomic(target: string, content: string, mode: number, owner?: Owner): boolean {
  if (same(target, content, mode, owner)) return false;
  const t = stage(target, content, mode, owner);
  try {
    try {
      fsyncSync(t.fd);
    } finally {
      closeSync(t.fd);
    }
    renameSync(t.tmp, target);
  } catch (e) {
    rmSync(t.tmp, { force: true });
    throw e;
  }
  syncDir(t.dir);
  return true;
}

/** The temp file beside `target`, written, owned and moded, still open (not yet flushed). */
function stage(target: string, content: string, mode: number, owner?: Owner): { dir: string; tmp: string; fd: number } {
  // A folder where the file must go would fail only at the rename, after other files of a batch
  // were renamed: refuse it before anything changes.
  let isDir = false;
  try {
    isDir = lstatSync(target).isDirectory();
  } catch {
    // missing: fine
  }
  if (isDir) throw errnoError('EISDIR', 'open', target, `${target} is a folder, not a file`);
  const dir = dirname(target);
  makeDirs(dir);
  removeStaleTemps(dir, target);
  const tmp = join(dir, `.${basename(target)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  return { dir, tmp, fd };
}

function syncDir(dir: string): void {
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

const fsyncAsync = (fd: number) =>
  new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));

export interface FileToWrite {
  readonly target: string;
  readonly content: string;
  readonly mode: number;
  readonly owner?: Owner | undefined;
}

/**
 * Several files, each as writeFileAtomic does, with the flushes overlapped: every changed file goes
 * to its temp file first, the temp files are fsynced concurrently (the filesystem commits them in one
 * go instead of one journal commit per file: first boot writes ~20 files), then they are renamed in
 * order and each folder is fsynced once. A crash still leaves every target old or new, never half.
 * Returns, per file, whether it wrote.
 */
export async function writeFilesAtomic(files: readonly FileToWrite[]): Promise<boolean[]> {
  const targets = new Set(files.map((f) => f.target));
  if (targets.size !== files.length) throw new Error('writeFilesAtomic: the same file twice in one batch');
  const wrote = files.map((f) => !same(f.target, f.content, f.mode, f.owner));
  const staged: { target: string; dir: string; tmp: string; fd: number; open: boolean }[] = [];
  try {
    files.forEach((f, i) => {
      if (wrote[i]) staged.push({ target: f.target, ...stage(f.target, f.content, f.mode, f.owner), open: true });
    });
    // Every flush settles before any fd is closed (a closed fd number could be reused under a
    // flush still running); the first failure is then thrown.
    const flushed = await Promise.allSettled(staged.map((s) => fsyncAsync(s.fd)));
    const failed = flushed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const s of staged) {
      s.open = false;
      closeSync(s.fd);
    }
    for (const s of staged) {
      renameSync(s.tmp, s.target);
      s.tmp = '';
    }
  } catch (e) {
    for (const s of staged) {
      try {
        if (s.open) closeSync(s.fd);
      } catch {
        /* already failed: the first error is the one to report */
      }
      if (s.tmp) rmSync(s.tmp, { force: true });
    }
    throw e;
  }
  for (const dir of new Set(staged.map((s) => s.dir))) syncDir(dir);
  return wrote;
}

export interface Ids {
  uid(name: string): number | undefined;
  gid(name: string): number | undefined;
}

function toWrite(root: string, f: FileSpec, ids?: Ids): FileToWrite {
  const uid = ids?.uid(f.owner);
  const gid = ids?.gid(f.group);
  return {
    target: under(root, f.path),
    content: f.content,
    mode: f.mode,
    owner: uid !== undefined && gid !== undefined ? { uid, gid } : undefined,
  };
}

/** A planned file under `root`; owners apply when `ids` knows both names. Returns whether it wrote. */
export function writeAtomic(root: string, f: FileSpec, ids?: Ids): boolean {
  const w = toWrite(root, f, ids);
  return writeFileAtomic(w.target, w.content, w.mode, w.owner);
}

/** Planned files under `root`, flushed together (writeFilesAtomic). Returns, per file, whether it wrote. */
export function writeAllAtomic(root: string, files: readonly FileSpec[], ids?: Ids): Promise<boolean[]> {
  return writeFilesAtomic(files.map((f) => toWrite(root, f, ids)));
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
