// `ip ARGS` (iproute2) with node's own child_process: lighter than execa at every call, and it keeps
// execa out of the bundle chunks of the resident route services (anyip-routes, route-tables).
import { spawn } from 'node:child_process';

export interface IpResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runIp(args: readonly string[], input?: string): Promise<IpResult> {
  return new Promise((resolve) => {
    const child = spawn('ip', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (e) => resolve({ exitCode: 127, stdout, stderr: `cannot run ip: ${e.message}` }));
    child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr: stderr.trim() }));
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined); // ip exited early: its status and stderr tell why
      child.stdin!.end(input);
    }
  });
}
