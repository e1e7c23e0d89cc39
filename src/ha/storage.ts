// The Data Plane API's maps and uploaded certificates (its maps_dir and ssl_certs_dir): the control
// plane's data like its sections of haproxy.cfg, so a standby keeps a copy of the active's. The active
// lists and serves them on its pair endpoint (with the Data Plane API's credentials: the certificates'
// keys are in there); a standby fetches what differs and removes what the active no longer has. Only
// regular files with plain names, in UTF-8 (PEM, map files), bounded in number and size.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DATAPLANEAPI_STATE_DIRS } from '../appliance/paths.js';
import { under, writeAtomic } from '../core/atomic-write.js';

export type StorageDir = 'maps' | 'ssl';
const STORAGE_DIRS: Readonly<Record<StorageDir, string>> = {
  maps: DATAPLANEAPI_STATE_DIRS.maps,
  ssl: DATAPLANEAPI_STATE_DIRS.ssl,
};
/** Certificates hold keys: 0600, as the API writes them; maps 0644. */
const MODES: Readonly<Record<StorageDir, number>> = { maps: 0o644, ssl: 0o600 };
const MAX_FILES = 1000;
const MAX_BYTES = 4 * 1024 * 1024;
/** A storage name the API accepts and no path can hide in. */
const STORAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

export interface StoredFile {
  readonly dir: StorageDir;
  readonly name: string;
  readonly sha256: string;
}

/** The files of both folders under `root` (missing folders: none). */
export function listStorage(root: string): StoredFile[] {
  const out: StoredFile[] = [];
  for (const dir of Object.keys(STORAGE_DIRS) as StorageDir[]) {
    let names: string[];
    try {
      names = readdirSync(under(root, STORAGE_DIRS[dir])).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (out.length >= MAX_FILES || !STORAGE_NAME.test(name)) continue;
      const content = readStored(root, dir, name);
      // Text only (PEM, map files): the copy travels as UTF-8.
      if (content !== undefined && Buffer.from(content.toString('utf8')).equals(content))
        out.push({ dir, name, sha256: sha256(content) });
    }
  }
  return out;
}

const sha256 = (content: Buffer | string): string => createHash('sha256').update(content).digest('hex');

/** Whether a fetched copy is the file the list named (its UTF-8 bytes have the listed digest). */
export const isListed = (f: StoredFile, body: string): boolean => sha256(body) === f.sha256;

/** One stored file's bytes, when it is a regular file within the bound. */
export function readStored(root: string, dir: StorageDir, name: string): Buffer | undefined {
  if (!STORAGE_NAME.test(name)) return undefined;
  const path = join(under(root, STORAGE_DIRS[dir]), name);
  try {
    const s = lstatSync(path);
    return s.isFile() && s.size <= MAX_BYTES ? readFileSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** What a standby must fetch and remove to hold the active's files. */
export function storageChanges(
  active: readonly StoredFile[],
  local: readonly StoredFile[],
): { fetch: StoredFile[]; remove: StoredFile[] } {
  const key = (f: StoredFile) => `${f.dir}/${f.name}`;
  const here = new Map(local.map((f) => [key(f), f.sha256]));
  const there = new Set(active.map(key));
  return {
    fetch: active.filter((f) => here.get(key(f)) !== f.sha256),
    remove: local.filter((f) => !there.has(key(f))),
  };
}

export function writeStored(root: string, f: StoredFile, content: string): void {
  writeAtomic(root, {
    path: join(STORAGE_DIRS[f.dir], f.name),
    content,
    mode: MODES[f.dir],
    owner: 'root',
    group: 'root',
  });
}

export function removeStored(root: string, f: StoredFile): void {
  if (STORAGE_NAME.test(f.name)) rmSync(join(under(root, STORAGE_DIRS[f.dir]), f.name), { force: true });
}

/** A list as a peer sent it (JSON), keeping only well-formed entries. */
export function parseStorageList(body: string): StoredFile[] | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    if (!Array.isArray(v)) return undefined;
    return v
      .filter(
        (f): f is StoredFile =>
          typeof f === 'object' &&
          f !== null &&
          (f.dir === 'maps' || f.dir === 'ssl') &&
          typeof f.name === 'string' &&
          STORAGE_NAME.test(f.name) &&
          typeof f.sha256 === 'string' &&
          /^[0-9a-f]{64}$/.test(f.sha256),
      )
      .slice(0, MAX_FILES)
      .map((f) => ({ dir: f.dir, name: f.name, sha256: f.sha256 }));
  } catch {
    return undefined;
  }
}
