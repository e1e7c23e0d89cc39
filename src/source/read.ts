// Text sources for `validate` and `render`: a file, or stdin for `-`. Reads are bounded so a huge or
// endless input is refused quickly instead of filling memory. The file is read with the core fs calls
// (loaded with Node itself); fs/promises would pull in readline and streams at every start.
import { readRegularBytes } from '../core/regular-file.js';
import { err, inputError, ok, type Result } from '../core/result.js';
import { MAX_DOCUMENT_BYTES, type Source } from './document.js';

const tooLarge = (origin: string) =>
  inputError(
    origin,
    `the input is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB; an OVF environment is far smaller`,
  );

function decode(origin: string, buf: Buffer): Result<string> {
  if (buf.includes(0)) return err(inputError(origin, 'the input is binary, not text'));
  return ok(buf.toString('utf8'));
}

export class FileSource implements Source {
  constructor(readonly origin: string) {}
  async read(): Promise<Result<string>> {
    try {
      return decode(this.origin, readRegularBytes(this.origin, MAX_DOCUMENT_BYTES));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EFBIG') return err(tooLarge(this.origin));
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      return err(inputError(this.origin, code === 'ENOTREG' ? why : `cannot read: ${why}`));
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
