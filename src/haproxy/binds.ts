// haproxy.cfg's `bind` addresses of frontend and listen sections, as the live checks and doctor read
// them. Pure: the sections and words come from route health injection's parser of the same file.
import { parseHaproxyConfig } from '../rhi/auto.js';

/** haproxy.cfg's `bind` of a frontend or listen section. */
export interface Bind {
  readonly frontend: string;
  readonly host: string;
  readonly port: string;
  readonly line: number;
}

/** `bind 198.51.100.70:443 ssl …`, `bind [::1]:80`, `bind :80`. */
export function parseBinds(cfg: string): Bind[] {
  return parseHaproxyConfig(cfg).frontends.flatMap((fe) =>
    fe.binds.flatMap((b) => {
      const m = /^\[?([^\]]*?)\]?:([\d-]+)$/.exec(b.address);
      return m
        ? [{ frontend: fe.name || (fe.listen ? 'listen' : 'frontend'), host: m[1]!, port: m[2]!, line: b.line }]
        : [];
    }),
  );
}
