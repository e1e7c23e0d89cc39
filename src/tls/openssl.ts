// Running the openssl CLI for the TLS material: argv only (never a shell), only file names in argv,
// every key in a private work folder (0700, removed in `finally`), and openssl's stderr redacted
// before it goes into an error message.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { errnoError } from '../core/fs-error.js';
import { join } from 'node:path';

/** A failed step of the certificate work; `step` names it ("generate the CA key", "sign the server certificate", …). */
export class TlsError extends Error {
  constructor(
    readonly step: string,
    detail: string,
  ) {
    super(`${step}: ${detail}`);
    this.name = 'TlsError';
  }
}

const PEM_BLOCK = /-----BEGIN [^-]*-----[\s\S]*?(-----END [^-]*-----|$)/g;
const BASE64_RUN = /[A-Za-z0-9+/=]{32,}/g;
const HEX_DUMP = /(?:[0-9A-Fa-f]{2}:){8,}[0-9A-Fa-f]{0,2}/g;
const MAX_DETAIL = 2000;

/**
 * openssl's diagnostics without anything that could be key material: PEM blocks (even unterminated
 * ones), long base64 runs and colon-separated hex dumps become placeholders. openssl does not print
 * keys on stderr, but a confused invocation could echo input; the message must stay safe anyway.
 */
export function redact(text: string): string {
  const out = text
    .replace(PEM_BLOCK, '[PEM block removed]')
    .replace(BASE64_RUN, '[base64 removed]')
    .replace(HEX_DUMP, '[hex removed]')
    .trim();
  return out.length > MAX_DETAIL ? `${out.slice(0, MAX_DETAIL)}…` : out;
}

/** The configuration every openssl run reads besides its -config: an empty one, so the system's cannot interfere. */
const DEFAULTS_CNF = 'defaults.cnf';

/** Runs `openssl …args` in `work`. Resolves when it exits 0; else throws a TlsError naming `step`. */
export async function openssl(work: string, step: string, args: readonly string[]): Promise<void> {
  const r = await execa('openssl', args, {
    cwd: work,
    env: { OPENSSL_CONF: join(work, DEFAULTS_CNF) },
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    stripFinalNewline: true,
    timeout: 60_000,
  });
  if (!r.failed) return;
  const why =
    r.code === 'ENOENT'
      ? 'the openssl command is not installed'
      : r.timedOut
        ? 'openssl timed out after 60 s'
        : r.exitCode !== undefined
          ? `openssl ${args[0]} exited with status ${r.exitCode}`
          : `openssl ${args[0]} was stopped by ${r.signal ?? 'an error'}`;
  const stderr = redact(typeof r.stderr === 'string' ? r.stderr : '');
  throw new TlsError(step, stderr ? `${why}: ${stderr}` : why);
}

/**
 * Runs `fn` with a fresh private folder (mkdtemp: mode 0700) inside `parent`, removed afterwards
 * whatever happens. The folder gets the empty defaults.cnf `openssl` points OPENSSL_CONF at.
 */
export async function withWorkDir<T>(parent: string, fn: (work: string) => Promise<T>): Promise<T> {
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  // A run killed mid-way leaves its work folder behind: remove those first.
  for (const f of readdirSync(parent))
    if (f.startsWith('.ovactl-tls-')) rmSync(join(parent, f), { recursive: true, force: true });
  const work = mkdtempSync(join(parent, '.ovactl-tls-'));
  try {
    writePrivate(work, DEFAULTS_CNF, '');
    return await fn(work);
  } catch (e) {
    // openssl on a full disk fails in its own words, or exits 0 with empty files: the disk is the cause,
    // told as every other full disk is (one line, the path and the fix). Measured before the folder goes.
    if (e instanceof TlsError && nearlyFull(work)) throw errnoError('ENOSPC', 'write', parent, e.message);
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Whether the folder's file system is out of room for the step's files: a 64 KiB probe (what a run of
 * openssl writes, with its temporaries) is refused. statfs alone cannot tell: openssl's own temporary
 * files are gone by now, and its failed write leaves free blocks behind.
 */
function nearlyFull(folder: string): boolean {
  const probe = join(folder, '.room');
  try {
    writeFileSync(probe, Buffer.alloc(64 * 1024), { flag: 'wx' });
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOSPC' || code === 'EDQUOT';
  } finally {
    rmSync(probe, { force: true });
  }
}

/** Creates `name` in the work folder, 0600 from the start; fails when it exists. */
export function writePrivate(work: string, name: string, content: string): void {
  writeFileSync(join(work, name), content, { mode: 0o600, flag: 'wx' });
}
