// A file holding secrets (passwords, a CA key), written where nobody else can read or swap it: created
// new with O_EXCL (never over an existing file, never through a planted symbolic link), mode 0600 from
// the start, and never in a folder anybody may write without the sticky bit (where another user could
// rename it away and put their own in its place).
import { closeSync, constants, fchmodSync, fsyncSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { inputError, type InputError } from './result.js';
import type { PathArg } from './fs-error.js';

const STICKY = 0o1000;
const OTHERS_WRITE = 0o002;

/** Why the folder of `arg.path` is no place for a secret file, or undefined (a missing folder is ENOENT's). */
export function secretFolderProblem(arg: PathArg): InputError | undefined {
  const folder = dirname(resolve(arg.path));
  let mode: number;
  try {
    mode = statSync(folder).mode;
  } catch {
    return undefined; // the open names the mistake (ENOENT, EACCES…) with the table's fix
  }
  if ((mode & OTHERS_WRITE) === 0 || (mode & STICKY) !== 0) return undefined;
  const octal = (mode & 0o7777).toString(8).padStart(4, '0');
  const eg = arg.example ? `, e.g. ${arg.example}` : '';
  return inputError(
    `${arg.flag ?? ''} ${arg.path}`.trim(),
    `the folder ${folder} may be written by everyone (mode ${octal}, no sticky bit): another user could swap the ` +
      `file; fix: give ${arg.flag ?? 'it'} a path in a folder of your own${eg}`,
  );
}

/** Writes `content` to a new file at `path` (0600). Throws Node's errno errors (EEXIST when it exists). */
export function writeSecretFile(path: string, content: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let done = false;
  try {
    fchmodSync(fd, 0o600); // the mode given to open is the umask's to narrow, never to widen: make it exact
    const buf = Buffer.from(content);
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
    fsyncSync(fd);
    done = true;
  } finally {
    closeSync(fd);
    if (!done) unlinkSync(path); // no half a file of secrets left behind (a full disk)
  }
}
