// The loop of a reconciler (anyip watch, route-tables watch): convergence passes that never overlap,
// events coalesced into at most one more pass, bursts debounced, a periodic pass that repairs drift,
// and a failed pass logged and retried instead of ending the process.

export interface PassOptions {
  /** One convergence pass; reports its own outcome. */
  readonly converge: () => Promise<void>;
  readonly debounceMs: number;
  readonly resyncMs: number;
  /** "anyip watch", "route-tables watch": the start of every line logged. */
  readonly label: string;
  readonly log: (line: string) => void;
}

export interface Passes {
  /** The first pass and the periodic ones, once the caller watches for changes; resolves after the first. */
  start(): Promise<void>;
  /** Something changed: a pass after the debounce. */
  schedule(): void;
  readonly closed: () => boolean;
  close(): void;
}

export function serialPasses(opts: PassOptions): Passes {
  let running = false;
  let again = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const pass = async (): Promise<void> => {
    if (running) {
      again = true; // coalesce: one more pass after this one, however many events came
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          await opts.converge();
        } catch (e) {
          opts.log(`${opts.label}: pass failed: ${(e as Error).message}; will retry`);
        }
      } while (again && !closed);
    } finally {
      running = false;
    }
  };

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void pass(), opts.debounceMs);
  };
  let resync: NodeJS.Timeout | undefined;
  return {
    start() {
      resync = setInterval(() => void pass(), opts.resyncMs);
      return pass();
    },
    schedule,
    closed: () => closed,
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(resync);
    },
  };
}
