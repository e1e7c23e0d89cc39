// A --root must be a folder on a file system that holds files: the kernel's pseudo file systems
// (proc, sysfs, devtmpfs…) refuse or fake writes, and Node's mkdir loops on proc.
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { inputError, type InputError } from '../core/result.js';
import { fsInputError, isFsMistake, pathTextProblem, type PathArg } from '../core/fs-error.js';

const PSEUDO = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'cgroup',
  'cgroup2',
  'debugfs',
  'tracefs',
  'securityfs',
  'bpf',
  'configfs',
  'pstore',
  'efivarfs',
  'mqueue',
  'fusectl',
  'binfmt_misc',
]);

/** The first folder of `path` (or `path` itself) that exists, with links resolved. */
function existingAncestor(path: string): string | undefined {
  for (let d = path; ; d = dirname(d)) {
    try {
      return realpathSync(d);
    } catch {
      if (dirname(d) === d) return undefined;
    }
  }
}

const unescapeOctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** The file system type holding `real` (an absolute path without links), from /proc/self/mountinfo. */
function fsTypeOf(real: string): { mount: string; type: string } | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined; // no /proc: nothing to tell; make-dirs still ends in bounded time
  }
  let best: { mount: string; type: string } | undefined;
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    const mount = left?.split(' ')[4];
    const type = right?.split(' ')[0];
    if (!mount || !type) continue;
    const m = unescapeOctal(mount);
    const inside = m === '/' || real === m || real.startsWith(`${m}/`);
    if (inside && (!best || m.length >= best.mount.length)) best = { mount: m, type };
  }
  return best;
}

/** Why `arg` cannot be a root to write a tree into (pseudo, a file, read-only, not writable), or undefined. */
export function rootProblem(arg: PathArg): InputError | undefined {
  const text = pathTextProblem(arg);
  if (text) return text;
  const real = existingAncestor(arg.path);
  const where = arg.flag ? `${arg.flag} ${arg.path}` : arg.path;
  if (real !== undefined && !statSync(real).isDirectory()) {
    const fix = `give ${arg.flag ?? 'it'} a folder (missing ones are created)`;
    return inputError(where, `${real} is a file, not a folder; fix: ${fix}`);
  }
  const fs = real === undefined ? undefined : fsTypeOf(real);
  if (fs && PSEUDO.has(fs.type)) {
    const fix = `give ${arg.flag ?? 'it'} a folder on a real file system`;
    return inputError(where, `${fs.mount} is the kernel's ${fs.type} file system, not a disk; fix: ${fix}`);
  }
  // Read-only or not ours, found before the first file (a later mkdir of a read-only tree says ENOENT).
  try {
    if (real !== undefined) accessSync(real, constants.W_OK | constants.X_OK);
  } catch (e) {
    if (isFsMistake(e)) return fsInputError(e, arg);
    throw e;
  }
  return undefined;
}
