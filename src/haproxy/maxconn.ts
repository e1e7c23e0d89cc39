// haproxy's maxconn for this VM: half of its memory at the cost of one connection in the worst case
// (two 16 KiB buffers, tune.bufsize's default, and ~4 KiB of session state), and never more than the
// file descriptors the unit allows (two a connection, less a reserve for listeners and logs).

/** The haproxy unit's descriptor limit (build/systemd/haproxy.service.d/ovactl.conf sets it). */
const HAPROXY_FD_LIMIT = 1_048_576;
const BYTES_PER_CONNECTION = 36 * 1024;
const FD_RESERVE = 1_000;
const FLOOR = 1_000;

export interface Sizing {
  readonly maxconn: number;
  readonly memoryMiB: number;
  readonly fdLimit: number;
}

export function haproxySizing(memoryBytes: number): Sizing {
  const byMemory = Math.floor(memoryBytes / 2 / BYTES_PER_CONNECTION);
  const byFds = Math.floor((HAPROXY_FD_LIMIT - FD_RESERVE) / 2);
  // Whole thousands, so a few MiB more or less memory (a balloon driver) does not change the file.
  const maxconn = Math.max(FLOOR, Math.floor(Math.min(byMemory, byFds) / 1000) * 1000);
  return { maxconn, memoryMiB: Math.round(memoryBytes / 2 ** 20), fdLimit: HAPROXY_FD_LIMIT };
}
