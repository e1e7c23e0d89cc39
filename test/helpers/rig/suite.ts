// The preamble of every nspawn rig test file: whether the rig can run here (tap's `skip`, loud, and a
// failure under CI=true), the rootfs built or found cached before the tests, and `ready()`, which each
// test calls first: it throws the rootfs build's output when the build failed, and installs the bundle.
import t from 'tap';
import {
  ensureBundle,
  ensureRootfs,
  rigUnavailable,
  ROOTFS_BUILD_MS,
  rootfsCached,
  type RootfsResult,
} from './appliance.js';
import { skipUnless } from '../root.js';

export interface RigSuite {
  readonly skip: string | false;
  readonly rootfs: RootfsResult | undefined;
  ready(): void;
}

/** `also`: another reason this file cannot run here (a tool it needs), checked after the rig's own. */
export async function rigSuite(also?: string): Promise<RigSuite> {
  const unavailable = rigUnavailable() ?? also;
  // A cold rootfs build (or a wait for another file's) is minutes: this file's timeout waits for it.
  if (!unavailable && !rootfsCached()) t.setTimeout(ROOTFS_BUILD_MS + 5 * 60_000);
  const rootfs = unavailable ? undefined : await ensureRootfs();
  return {
    skip: skipUnless(unavailable ?? rootfs?.skip),
    rootfs,
    ready() {
      if (!rootfs?.ok) throw new Error(`test/helpers/rig/rootfs.sh failed:\n${rootfs?.output}`);
      ensureBundle();
    },
  };
}
