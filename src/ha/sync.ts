// A standby appliance's haproxy.cfg: the active's, as its Data Plane API gives it (the control plane's
// sections byte for byte), with this appliance's own sections kept (src/haproxy/merge.ts, as a
// re-apply merges them). Pure.
import { mergeHaproxyConfig, ownSections } from '../haproxy/merge.js';

const VERSION_LINE = /^# _version=(\d+)\r?$/m;
const HEADER_LINE = /^# _(md5hash|version)=.*\n/gm;

/** The Data Plane API's configuration version in a haproxy.cfg's header; undefined without one. */
export function configVersion(text: string | undefined): number | undefined {
  const m = text === undefined ? null : VERSION_LINE.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The file without the API's header lines: what two appliances compare. */
const body = (text: string): string => text.replace(HEADER_LINE, '');

export interface Followed {
  /** The new haproxy.cfg. */
  readonly content: string;
  /** The control plane's sections it holds ("frontend web", …). */
  readonly sections: readonly string[];
}

/**
 * This appliance's haproxy.cfg following the active's configuration at `activeVersion`; undefined when
 * `current` already holds it. Written without an md5 line and with the version one below the active's:
 * the local Data Plane API takes a file whose md5 is missing as someone else's edit, re-reads it and
 * raises the version by one, so both appliances then report the same version.
 */
export function followedConfig(o: {
  readonly activeRaw: string;
  readonly activeVersion: number;
  readonly current: string | undefined;
}): Followed | undefined {
  const merged = mergeHaproxyConfig(o.activeRaw, o.current === undefined ? '' : ownSections(o.current));
  const content = withVersion(merged.content, Math.max(0, o.activeVersion - 1));
  if (o.current !== undefined && body(content) === body(o.current)) return undefined;
  return { content, sections: merged.kept };
}

function withVersion(text: string, version: number): string {
  const lines = text.replace(/^# _md5hash=.*\n/m, '');
  return VERSION_LINE.test(lines)
    ? lines.replace(VERSION_LINE, `# _version=${version}`)
    : `# _version=${version}\n${lines}`;
}
