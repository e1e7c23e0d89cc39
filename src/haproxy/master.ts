// haproxy's master CLI (`-S /run/haproxy-master.sock`): `show proc` says which worker serves and how
// many reloads it has outlived. A reload that succeeds forks a new worker (0 reloads) and moves the
// old one under "# old workers"; a reload that fails (a bind refused, a file unreadable) leaves the
// serving worker where it is, one reload older. So a current worker with reloads > 0 serves a
// configuration older than the last reload's: the cheapest true answer to "is the file live?".
// Pure: the text in, the processes out.

export interface MasterProc {
  readonly pid: number;
  readonly reloads: number;
  /** `0d00h02m53s` as seconds. */
  readonly uptimeSeconds: number;
}

export interface ShowProc {
  readonly master: MasterProc & { readonly failedReloads: number };
  /** The workers that serve now (one; more only with nbproc, gone since 2.5). */
  readonly workers: readonly MasterProc[];
  /** Workers of earlier configurations, still draining their connections. */
  readonly oldWorkers: readonly MasterProc[];
}

const UPTIME = /^(\d+)d(\d+)h(\d+)m(\d+)s$/;

function uptime(text: string): number | undefined {
  const m = UPTIME.exec(text);
  return m ? ((Number(m[1]) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4]) : undefined;
}

/** `show proc` of haproxy 2.6 to 3.x; undefined when the text has no master line. */
export function parseShowProc(text: string): ShowProc | undefined {
  let master: ShowProc['master'] | undefined;
  const workers: MasterProc[] = [];
  const oldWorkers: MasterProc[] = [];
  let into: MasterProc[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '# workers') into = workers;
    else if (line === '# old workers') into = oldWorkers;
    else if (line.startsWith('#')) into = undefined;
    if (line.startsWith('#') || line === '') continue;
    // master: "8827  master  1 [failed: 1]  0d00h00m18s  2.6.12"; worker: "8829  worker  1  0d00h00m17s  2.6.12"
    const m = /^(\d+)\s+(master|worker)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?\s+(\S+)/.exec(line);
    if (!m) continue;
    const p = { pid: Number(m[1]), reloads: Number(m[3]), uptimeSeconds: uptime(m[5]!) ?? 0 };
    if (m[2] === 'master') master = { ...p, failedReloads: Number(m[4] ?? 0) };
    else into?.push(p);
  }
  return master ? { master, workers, oldWorkers } : undefined;
}
