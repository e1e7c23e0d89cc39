// First-boot sources: the OVF environment from guestinfo (VMware Tools) or from the ISO transport.
// Each yields the document's text once; firstboot tries them in order.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { err, inputError, ok, type Result } from '../core/result.js';
import { MAX_DOCUMENT_BYTES, type Source } from './document.js';

const KEY = 'guestinfo.ovfEnv';

/**
 * `vmware-rpctool "info-get guestinfo.ovfEnv"` (fast), then `vmtoolsd --cmd …`, which has been seen
 * to hang for seconds at boot: both with a timeout, and the document read once, not once per key.
 */
export class GuestinfoSource implements Source {
  readonly origin = KEY;
  constructor(private readonly timeoutMs = 10_000) {}
  async read(): Promise<Result<string>> {
    const tries: [string, string[]][] = [
      ['vmware-rpctool', [`info-get ${KEY}`]],
      ['vmtoolsd', ['--cmd', `info-get ${KEY}`]],
    ];
    const why: string[] = [];
    for (const [cmd, args] of tries) {
      try {
        const r = await execa(cmd, args, {
          timeout: this.timeoutMs,
          reject: false,
          maxBuffer: MAX_DOCUMENT_BYTES,
          stripFinalNewline: false,
        });
        if (r.failed && (r as { code?: string }).code === 'ENOENT') why.push(`${cmd} is not installed`);
        else if (r.timedOut) why.push(`${cmd} timed out after ${this.timeoutMs / 1000} s`);
        else if (r.exitCode !== 0 || r.stdout.trim() === '')
          why.push(`${cmd} found no ${KEY} (not a vSphere VM, or the vApp transport is not com.vmware.guestInfo)`);
        else return ok(r.stdout);
      } catch (e) {
        why.push(`${cmd}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return err(inputError(this.origin, why.join('; ')));
  }
}

/** The ISO transport: a CD-ROM labelled "OVF ENV" with ovf-env.xml at its root, mounted read-only. */
export class IsoSource implements Source {
  readonly origin: string;
  constructor(private readonly device = '/dev/disk/by-label/OVF\\x20ENV') {
    this.origin = `${device} (ovf-env.xml)`;
  }
  async read(): Promise<Result<string>> {
    if (!existsSync(this.device))
      return err(inputError(this.origin, 'no CD-ROM labelled "OVF ENV" (the vApp transport is not iso)'));
    const dir = mkdtempSync(join(tmpdir(), 'ovactl-ovfenv-'));
    try {
      const m = await execa('mount', ['-o', 'ro,nosuid,nodev,noexec', this.device, dir], {
        reject: false,
        timeout: 20_000,
      });
      if (m.exitCode !== 0)
        return err(inputError(this.origin, `cannot mount: ${m.stderr.trim() || `exit ${m.exitCode}`}`));
      try {
        return ok(readFileSync(join(dir, 'ovf-env.xml'), 'utf8'));
      } catch {
        return err(inputError(this.origin, 'the disc has no ovf-env.xml'));
      } finally {
        await execa('umount', [dir], { reject: false });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The first source that yields a document; otherwise one error saying everywhere it looked. */
export async function firstAvailable(sources: readonly Source[]): Promise<Result<{ text: string; origin: string }>> {
  const why: string[] = [];
  for (const s of sources) {
    const r = await s.read();
    if (r.ok) return ok({ text: r.value, origin: s.origin });
    why.push(`${s.origin}: ${r.error.message}`);
  }
  return err(inputError('firstboot', `no OVF environment found. Looked in ${why.join(' | ')}`));
}
