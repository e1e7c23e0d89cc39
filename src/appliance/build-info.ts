// What the image was built with (build/dataplaneapi.sh writes it): the Data Plane API's version, or
// "none". Read by `ovactl --version --long` and first boot's status; absent off the appliance.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BUILD_INFO = '/usr/lib/ovactl/build-info.json';

export interface BuildInfo {
  /** The installed version ("2.9.27") or "none". */
  readonly dataplaneapi: string;
  readonly pinned?: string;
}

export function readBuildInfo(root = '/'): BuildInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(join(root, BUILD_INFO), 'utf8')) as { dataplaneapi?: unknown; pinned?: unknown };
    if (typeof v.dataplaneapi !== 'string' || !/^(none|\d+\.\d+(\.\d+)?)$/.test(v.dataplaneapi)) return undefined;
    return { dataplaneapi: v.dataplaneapi, ...(typeof v.pinned === 'string' ? { pinned: v.pinned.slice(0, 20) } : {}) };
  } catch {
    return undefined;
  }
}
