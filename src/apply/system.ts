// The imperative edge: commands that change the running system. Live, they run through execa (an
// argument vector, never a shell string); with --root they are only recorded, so a rendered tree can
// be checked without root and without touching the machine.
import { execa } from 'execa';

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Why a command failed, in one line: its first stderr line, else its exit status. */
export const whyFailed = (r: Pick<CommandResult, 'stderr' | 'exitCode'>): string =>
  r.stderr.split('\n')[0] || `exit ${r.exitCode}`;

export interface System {
  /** Whether commands really run. */
  readonly live: boolean;
  /** `input` goes to stdin (secrets travel only this way) and is never logged. */
  run(cmd: string, args: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<CommandResult>;
  /** What was (or would have been) run, for the summary: secrets never appear here. */
  readonly ran: string[];
}

/** One line per command for the summary; long arguments (a status document, a certificate) are cut. */
const describe = (cmd: string, args: readonly string[], stdin: boolean): string => {
  const line = [cmd, ...args].join(' ');
  return (line.length > 160 ? `${line.slice(0, 150)}…` : line) + (stdin ? ' (stdin)' : '');
};

export function liveSystem(): System {
  const ran: string[] = [];
  return {
    live: true,
    ran,
    async run(cmd, args, opts = {}) {
      ran.push(describe(cmd, args, opts.input !== undefined));
      const r = await execa(cmd, [...args], {
        input: opts.input,
        reject: false,
        timeout: opts.timeoutMs ?? 60_000,
        stripFinalNewline: true,
      });
      const missing = (r as { code?: string }).code === 'ENOENT';
      return {
        exitCode: missing ? 127 : (r.exitCode ?? 1),
        stdout: String(r.stdout ?? ''),
        stderr: missing ? `${cmd}: not installed` : String(r.stderr ?? ''),
      };
    },
  };
}

export function recordingSystem(): System {
  const ran: string[] = [];
  return {
    live: false,
    ran,
    async run(cmd, args, opts = {}) {
      ran.push(describe(cmd, args, opts.input !== undefined));
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  };
}
