// Filesystem mistakes (a read-only --root, --output onto a folder, a full disk…) as one line naming the
// flag, the path and the fix. One table maps the kernel's error codes; everything that hands a path
// down names the flag it came from (a PathArg), so the line can say which flag to change.
import { inputError, type InputError, type Result } from './result.js';

/** A path and where it came from: the flag that named it (`--root`); none for a fixed place (first boot's "/"). */
export interface PathArg {
  readonly flag?: string;
  readonly path: string;
  /** A path that would do, for the fix ("e.g. /tmp/support.tar.gz"). */
  readonly example?: string;
}

interface Rule {
  /** What is wrong, of `path` (the file or folder the system call named). */
  readonly what: (path: string) => string;
  /** What to do; `flag` when the path came from one. */
  readonly fix: (flag: string | undefined, path: string, example: string) => string;
}

const or = (flag: string | undefined) => (flag ? `, or give ${flag} another path` : '');
const another = (flag: string | undefined) => (flag ? `give ${flag} another path` : 'check the path');

/** code → what it means and what to do. Codes not listed are not a path mistake (a bug: internal error). */
const RULES: Readonly<Record<string, Rule>> = {
  EACCES: {
    what: (p) => `${p}: permission denied`,
    fix: (f) => `run as root${f ? `, or give ${f} a path you may write` : ''}`,
  },
  EPERM: { what: (p) => `${p}: not permitted here`, fix: (f) => `run as root${or(f)}` },
  EROFS: { what: (p) => `${p} is on a read-only file system`, fix: (f) => `remount it read-write${or(f)}` },
  ENOSPC: { what: (p) => `no space left on the file system of ${p}`, fix: (f) => `free space there${or(f)}` },
  EDQUOT: { what: (p) => `the disk quota of ${p} is used up`, fix: (f) => `free space${or(f)}` },
  ENOTDIR: {
    what: (p) => `${p}: a part of the path is a file, not a folder`,
    fix: (f) => (f ? `give ${f} a folder` : 'remove the file'),
  },
  EISDIR: {
    what: (p) => `${p} is a folder`,
    fix: (f, _p, eg) => (f ? `give ${f} a file name${eg}` : 'remove the folder'),
  },
  ENOENT: {
    what: (p) => `${p} does not exist`,
    fix: (f, _p, eg) => (f ? `give ${f} a path that exists${eg}` : 'check the path'),
  },
  ELOOP: { what: (p) => `${p}: too many symbolic links (a loop?)`, fix: (f) => `fix the links${or(f)}` },
  ENAMETOOLONG: {
    what: (p) => `${cut(p)}: name too long`,
    fix: (f) => (f ? `give ${f} a shorter path` : 'use a shorter path'),
  },
  EEXIST: { what: (p) => `${p} exists and is in the way`, fix: (f) => `remove it${or(f)}` },
  ENOTEMPTY: { what: (p) => `${p} is a folder that is not empty`, fix: (f) => `empty it${or(f)}` },
  EBUSY: { what: (p) => `${p} is busy (a mount point?)`, fix: another },
  ETXTBSY: { what: (p) => `${p} is busy (a running program)`, fix: another },
  EIO: { what: (p) => `${p}: input/output error (a failing disk?)`, fix: (f) => `check the disk (dmesg)${or(f)}` },
  EMFILE: { what: (p) => `${p}: too many open files`, fix: () => 'raise the limit (ulimit -n) and run again' },
  ENFILE: { what: (p) => `${p}: too many open files in the system`, fix: () => 'close programs and run again' },
  ENXIO: { what: (p) => `${p}: no such device`, fix: another },
  ENODEV: { what: (p) => `${p}: no such device`, fix: another },
  EXDEV: { what: (p) => `${p}: crosses file systems`, fix: another },
};

/** A hostile path of a megabyte must not make a megabyte line. */
const cut = (p: string) => (p.length > 120 ? `${p.slice(0, 60)}… (${p.length} characters)` : p);

/** An error shaped as Node's own (code, syscall, path), for a mistake found before the system call. */
export const errnoError = (code: string, syscall: string, path: string, message: string): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code, syscall, path });

const errnoCode = (e: unknown): string | undefined => {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** Whether `e` is a filesystem mistake the table knows. */
export const isFsMistake = (e: unknown): e is NodeJS.ErrnoException => {
  const code = errnoCode(e);
  return code !== undefined && code in RULES && typeof (e as NodeJS.ErrnoException).syscall === 'string';
};

/** The mistake as an input error value (exit 2, one line) for the CLI to print. */
export function fsInputError(e: NodeJS.ErrnoException, arg: PathArg): InputError {
  const code = e.code ?? 'EIO';
  const rule = RULES[code] ?? { what: (p: string) => `${p}: ${e.message}`, fix: another };
  const path = typeof e.path === 'string' ? e.path : arg.path;
  const what = rule.what(cut(path));
  const fix = rule.fix(arg.flag, arg.path, arg.example ? `, e.g. ${arg.example}` : '');
  return inputError(arg.flag ? `${arg.flag} ${cut(arg.path)}` : cut(arg.path), `${what} (${code}); fix: ${fix}`);
}

/** Runs `work` on the path `arg` names; a filesystem mistake comes back as a value, anything else is thrown. */
export async function onPath<T>(arg: PathArg, work: () => T | Promise<T>): Promise<Result<T>> {
  // A path the admin gave that cannot be named in one line is refused before anything touches it.
  const text = arg.flag === undefined ? undefined : pathTextProblem(arg);
  if (text) return { ok: false, error: text };
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (isFsMistake(e)) return { ok: false, error: fsInputError(e, arg) };
    throw e;
  }
}

/**
 * A path holding a control character (a line break, a tab, NUL): legal for the kernel, but it breaks
 * the one-line messages that name it and the commands printed for the admin to paste.
 */
export function pathTextProblem(arg: PathArg): InputError | undefined {
  if (!/[\x00-\x1f\x7f]/.test(arg.path)) return undefined;
  const shown = JSON.stringify(cut(arg.path));
  const fix = `give ${arg.flag ?? 'it'} a path without control characters${arg.example ? `, e.g. ${arg.example}` : ''}`;
  return inputError(arg.flag ? `${arg.flag} ${shown}` : shown, `the path holds a control character; fix: ${fix}`);
}
