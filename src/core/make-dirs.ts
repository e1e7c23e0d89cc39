// mkdir -p in bounded time. Node's recursive mkdir retries forever where mkdir(2) says ENOENT under a
// parent that exists (/proc/anything): this walks up once to the first folder that exists, then
// creates each missing one, so every step is one system call and a refusal ends the walk.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoError } from './fs-error.js';

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Creates `dir` and its missing parents with `mode`; throws errno errors that name the failing path. */
export function makeDirs(dir: string, mode = 0o755): void {
  const missing: string[] = [];
  for (let d = dir; ; ) {
    let isDir: boolean;
    try {
      isDir = statSync(d).isDirectory();
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
      missing.push(d);
      const up = dirname(d);
      if (up === d) break;
      d = up;
      continue;
    }
    if (!isDir) throw errnoError('ENOTDIR', 'mkdir', d, `${d} is a file, not a folder`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode });
    } catch (e) {
      if (codeOf(e) === 'EEXIST' && statSync(d).isDirectory()) continue; // made meanwhile
      // ENOENT although the parent exists: a file system that allows no new folders (proc).
      if (codeOf(e) === 'ENOENT') throw errnoError('EPERM', 'mkdir', d, `${d}: this file system allows no new folders`);
      throw e;
    }
  }
}
