// The machine facts the pure tests plan with: an appliance image that carries everything (the Data
// Plane API, BIRD, rsyslog) and the descriptor's memory, with a fixed password hash so files are fixed.
import { DEFAULT_MEMORY_BYTES } from '../../src/appliance/hardware.js';
import type { BootFacts } from '../../src/plan/boot.js';
import { APPLIANCE_PCI_PATHS, type Facts } from '../../src/plan/types.js';

/** A real $6$ hash of "vmware" (openssl passwd -6 -salt ovactltestsalt vmware). */
export const TEST_HASH =
  '$6$ovactltestsalt$mS9kucMcFHIRWBCf0r4whOHeTxjmWRKgFPfLPLczI5oevPUaNwsnLjvhsSmyGBt8Sls10xOb40RpyTdSImvjb.';

export const PLAN_FACTS: Facts = {
  pciPaths: APPLIANCE_PCI_PATHS,
  haproxyPasswordHash: TEST_HASH,
  dataplaneapiInstalled: true,
  birdInstalled: true,
  keepalivedInstalled: true,
  rsyslogInstalled: true,
  memoryBytes: DEFAULT_MEMORY_BYTES,
};

/** A live first boot of a fresh appliance, at a fixed time (plan/boot.ts's BootFacts). */
export const FIRST_BOOT_FACTS: BootFacts = {
  ...PLAN_FACTS,
  live: true,
  root: '/',
  now: new Date('2026-12-02T00:00:00Z'),
  inputsHash: 'new-values',
  rangesInForce: [],
  haproxyCheck: true,
  runningHostname: 'localhost',
  anyip: true,
};
