// The two control sockets, spoken directly over node:net (no socat, no birdc process per change):
// haproxy's runtime API (one command, haproxy answers and closes) and BIRD's control socket (the
// protocol birdc speaks: a greeting, then numbered reply lines; "DDDD-" continues, "DDDD " ends).
import { createConnection } from 'node:net';

/** Sends `command`, collects the reply until `done(reply)` or the peer closes; rejects on timeout. */
function converse(
  path: string,
  command: string,
  timeoutMs: number,
  done?: (reply: string) => boolean,
  greeting?: (reply: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    let sent = greeting === undefined;
    let settled = false;
    const finish = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve(buf);
    };
    const timer = setTimeout(() => finish(new Error(`no answer from ${path} within ${timeoutMs} ms`)), timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => {
      if (sent) s.write(`${command}\n`);
    });
    s.on('data', (d: string) => {
      buf += d;
      if (!sent && greeting!(buf)) {
        sent = true;
        buf = '';
        s.write(`${command}\n`);
      } else if (sent && done?.(buf)) finish();
    });
    s.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        new Error(
          e.code === 'ENOENT'
            ? `${path} does not exist`
            : e.code === 'ECONNREFUSED'
              ? `nothing listens on ${path}`
              : e.message,
        ),
      ),
    );
    s.on('close', () => (sent ? finish() : finish(new Error(`${path} closed the connection`))));
  });
}

/** haproxy's runtime API: the reply to one command (`show stat -1 3 -1`). */
export function haproxyCommand(socket: string, command: string, timeoutMs = 1000): Promise<string> {
  return converse(socket, command, timeoutMs);
}

export interface BirdReply {
  /** The code of the last line: 0xxx success, 8xxx run-time error, 9xxx parse error. */
  readonly code: number;
  readonly lines: readonly { readonly code: number; readonly text: string }[];
}

const FINAL = /(^|\n)\d{4} [^\n]*\n$/;

/** One command on BIRD's control socket (`configure`, `show route protocol rhi`). */
export async function birdCommand(socket: string, command: string, timeoutMs = 5000): Promise<BirdReply> {
  const raw = await converse(
    socket,
    command,
    timeoutMs,
    (r) => FINAL.test(r),
    (r) => FINAL.test(r),
  );
  const lines: { code: number; text: string }[] = [];
  let code = 0;
  for (const l of raw.split('\n')) {
    const m = /^(\d{4})([ -])(.*)$/.exec(l);
    if (m) {
      code = Number(m[1]);
      lines.push({ code, text: m[3]! });
    } else if (l.startsWith(' ')) lines.push({ code, text: l.slice(1) });
  }
  if (!FINAL.test(raw)) throw new Error(`BIRD closed the connection before answering ${JSON.stringify(command)}`);
  return { code, lines };
}

/** `configure`: BIRD re-reads its configuration (and the route files it includes). */
export async function birdConfigure(socket: string): Promise<{ ok: true } | { ok: false; message: string }> {
  const r = await birdCommand(socket, 'configure');
  // 0003 Reconfigured, 0004 in progress, 0005 queued behind another, 0018 confirmed.
  if ([3, 4, 5, 18].includes(r.code)) return { ok: true };
  return {
    ok: false,
    message:
      r.lines
        .filter((l) => l.code >= 8000)
        .map((l) => l.text)
        .join('; ') || `BIRD answered ${r.code}`,
  };
}

/** The routes BIRD holds from one protocol: `show route protocol NAME`. */
export async function birdRoutes(socket: string, protocol: string): Promise<string[]> {
  const r = await birdCommand(socket, `show route protocol ${protocol}`);
  if (r.code >= 8000) throw new Error(r.lines.map((l) => l.text).join('; '));
  return r.lines
    .map((l) => /^\s*([0-9a-fA-F:.]+\/\d+)\s/.exec(l.text)?.[1])
    .filter((x): x is string => x !== undefined);
}
