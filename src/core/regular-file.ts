// Reading an input file that must be a regular file. A FIFO given as input used to block open() or
// read() forever; opened non-blocking and checked with fstat, anything but a regular file is refused
// at once. Size is bounded too. Errors are thrown like readFileSync's, with a code, so callers keep
// their one catch.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

class InputFileError extends Error {
  constructor(
    readonly code: 'ENOTREG' | 'EFBIG',
    message: string,
  ) {
    super(message);
  }
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'something other than a file';
}

/** The file's bytes; throws ENOENT/EACCES as fs does, ENOTREG for FIFOs, devices, directories, EFBIG over `max`. */
export function readRegularBytes(path: string, max = MAX_INPUT_BYTES): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new InputFileError(
        'ENOTREG',
        st.isDirectory()
          ? 'is a directory, not a regular file; fix: name a file in it, not the folder'
          : `is ${kindOf(st)}, not a regular file; fix: name a file, or give - and pipe it to stdin`,
      );
    const buf = Buffer.alloc(Math.min(max, st.size) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) throw new InputFileError('EFBIG', `is larger than ${max / 1024 / 1024} MiB`);
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export const readRegularFile = (path: string, max = MAX_INPUT_BYTES): string =>
  readRegularBytes(path, max).toString('utf8');
