// Text sources for `validate` and `render`: a file, or stdin for `-`. Reads are bounded so a huge or
// endless input is refused quickly instead of filling memory. The file is read with the core fs calls
// (loaded with Node itself); fs/promises would pull in readline and streams at every start.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { err, inputError, ok, type Result } from '../core/result.js';
import { MAX_DOCUMENT_BYTES, type Source } from './document.js';

const tooLarge = (origin: string) => inputError(origin, `the input is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB; an OVF environment is far smaller`);

function decode(origin: string, buf: Buffer): Result<string> {
  if (buf.includes(0)) return err(inputError(origin, 'the input is binary, not text'));
  return ok(buf.toString('utf8'));
}

export class FileSource implements Source {
  constructor(readonly origin: string) {}
  async read(): Promise<Result<string>> {
    let fd: number | undefined;
    try {
      fd = openSync(this.origin, 'r');
      if (fstatSync(fd).isDirectory()) return err(inputError(this.origin, 'is a directory, not a file'));
      const buf = Buffer.alloc(MAX_DOCUMENT_BYTES + 1);
      let n = 0;
      for (;;) {
        const bytesRead = readSync(fd, buf, n, buf.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n > MAX_DOCUMENT_BYTES) return err(tooLarge(this.origin));
      }
      return decode(this.origin, buf.subarray(0, n));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, not a file' : (e as Error).message;
      return err(inputError(this.origin, `cannot read: ${why}`));
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

export class StdinSource implements Source {
  readonly origin = 'stdin';
  constructor(private readonly stream: NodeJS.ReadableStream = process.stdin) {}
  async read(): Promise<Result<string>> {
    const chunks: Buffer[] = [];
    let n = 0;
    try {
      for await (const chunk of this.stream) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        n += b.length;
        if (n > MAX_DOCUMENT_BYTES) return err(tooLarge(this.origin));
        chunks.push(b);
      }
    } catch (e) {
      return err(inputError(this.origin, `cannot read: ${(e as Error).message}`));
    }
    return decode(this.origin, Buffer.concat(chunks));
  }
}

export const sourceFor = (arg: string): Source => (arg === '-' ? new StdinSource() : new FileSource(arg));
