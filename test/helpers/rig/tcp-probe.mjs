// Test code: a backend server and a client that measures a VIP's service, run inside the rig's
// namespaces with the host's Node.
//   node tcp-probe.mjs server ADDRESS PORT...     echo every byte back, on each port
//   node tcp-probe.mjs client HOST PORT           a new connection every 20 ms (write, read the echo,
//     close; 1 s timeout each) and one long-lived connection written every 100 ms. Reads commands on
//     stdin: "phase NAME" starts counting anew; "report" prints one JSON line of every phase's figures
//     (firstOkAfterFailMs: from the phase's start to the first answer after a failed connection);
//     stdin's end stops it. Bounded: it connects only to HOST, one connection at a time.
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';

const [mode, host, ...rest] = process.argv.slice(2);
if (mode === 'server') {
  for (const port of rest) createServer((s) => s.on('error', () => {}).pipe(s)).listen(Number(port), host);
  process.stdout.write('listening\n');
} else if (mode === 'client') {
  const port = Number(rest[0]);
  const phases = [];
  let phase = { name: 'start', ok: 0, failed: 0, lastOk: 0, maxGapMs: 0, errors: [] };
  phases.push(phase);
  const now = () => Number(process.hrtime.bigint() / 1000000n);
  let stopped = false;
  const once = () =>
    new Promise((resolve) => {
      const s = createConnection({ host, port });
      const timer = setTimeout(() => done('timeout'), 1000);
      let got = '';
      function done(err) {
        clearTimeout(timer);
        s.destroy();
        resolve(err);
      }
      s.on('connect', () => s.write('x'));
      s.on('data', (d) => {
        got += d;
        if (got.includes('x')) done(undefined);
      });
      s.on('error', (e) => done(e.code ?? String(e)));
      s.on('close', () => done(got.includes('x') ? undefined : 'closed'));
    });
  const loop = async () => {
    while (!stopped) {
      const p = phase;
      const err = await once();
      const t = now();
      if (err === undefined) {
        if (p.lastOk) p.maxGapMs = Math.max(p.maxGapMs, t - p.lastOk);
        // The first answer after the phase began only once a connection had failed in it (an outage's end).
        if (p.firstOkAfterFailMs === undefined && p.failed > 0) p.firstOkAfterFailMs = t - p.startedAt;
        p.lastOk = t;
        p.ok++;
      } else {
        p.failed++;
        if (p.errors.length < 5) p.errors.push(err);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // The long-lived connection: it must outlive every re-apply, reloads included.
  const long = { established: false, broken: undefined, echoes: 0 };
  const ls = createConnection({ host, port });
  ls.on('connect', () => (long.established = true));
  ls.on('data', () => long.echoes++);
  ls.on('error', (e) => (long.broken ??= e.code ?? String(e)));
  ls.on('close', () => (long.broken ??= 'closed'));
  const tick = setInterval(() => long.established && !long.broken && ls.write('x'), 100);
  loop();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, name] = line.split(' ');
    if (cmd === 'phase') {
      const at = now();
      phases.push((phase = { name, ok: 0, failed: 0, lastOk: at, startedAt: at, maxGapMs: 0, errors: [] }));
    }
    if (cmd === 'report')
      process.stdout.write(JSON.stringify({ phases: phases.map(({ lastOk, startedAt, ...p }) => p), long }) + '\n');
  });
  rl.on('close', () => {
    stopped = true;
    clearInterval(tick);
    ls.destroy();
    setTimeout(() => process.exit(0), 50);
  });
}
