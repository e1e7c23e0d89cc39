// A standby appliance's haproxy.cfg: the active's, as its Data Plane API gives it (the control plane's
// sections byte for byte), with this appliance's own sections kept (src/haproxy/merge.ts, as a
// re-apply merges them). Pure.
import { createHash } from 'node:crypto';
import { mergeHaproxyConfig, ownSections } from '../haproxy/merge.js';

const VERSION_LINE = /^# _version=(\d+)\r?$/m;

/** The Data Plane API's configuration version in a haproxy.cfg's header; undefined without one. */
export function configVersion(text: string | undefined): number | undefined {
  const m = text === undefined ? null : VERSION_LINE.exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface Followed {
  /** The new haproxy.cfg. */
  readonly content: string;
  /** The control plane's sections it holds ("frontend web", …). */
  readonly sections: readonly string[];
}

/**
 * This appliance's haproxy.cfg following the active's configuration at `activeVersion`; undefined when
 * `current` already holds it. Written as the active's Data Plane API writes it: its version, and an md5
 * line that matches. The local API then ignores the write (a valid md5 is its own save), so the control
 * plane's sections stay the active's bytes; a write without one would be re-read and re-written in the
 * layout of a file read from disk (`from unnamed_defaults_1` on every proxy) under a raised version.
 * The local API's memory is stale meanwhile: ovactl-ha.service restarts it when this appliance becomes
 * active, and it reads the file then.
 */
export function followedConfig(o: {
  readonly activeRaw: string;
  readonly activeVersion: number;
  readonly current: string | undefined;
}): Followed | undefined {
  const merged = mergeHaproxyConfig(o.activeRaw, o.current === undefined ? '' : ownSections(o.current));
  const content = withHeader(merged.content, o.activeVersion);
  if (o.current === content) return undefined;
  return { content, sections: merged.kept };
}

/** The API's header: `# _md5hash=` of everything after line 1, then the rest with `# _version=N`. */
function withHeader(text: string, version: number): string {
  const rest = text.replace(/^# _md5hash=.*\n/m, '');
  const versioned = VERSION_LINE.test(rest)
    ? rest.replace(VERSION_LINE, `# _version=${version}`)
    : `# _version=${version}\n${rest}`;
  return `# _md5hash=${createHash('md5').update(versioned).digest('hex')}\n${versioned}`;
}
