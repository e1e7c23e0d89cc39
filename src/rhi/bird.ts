// BIRD's side of route health injection: bird.conf (rendered at first boot from templates/bird/),
// the route files its static protocols include (rewritten by the daemon, atomically), and reading
// back from a bird.conf which static protocols take routes from which file.
import { dirname, join } from 'node:path';
import type { Family } from '../net/ip.js';
import { template } from '../render/templates.js';

/** Where the daemon writes the route files: tmpfs, so a reboot starts with nothing announced. */
export const ROUTES_DIR = '/run/ovactl/rhi';
export const BIRD_CONF = '/etc/bird/bird.conf';
export const BIRD_SOCKET = '/run/bird/bird.ctl';

export interface Peer {
  readonly address: string;
  readonly family: Family;
  readonly as: number;
}

export interface BirdSettings {
  readonly routerId?: string;
  readonly localAs?: number;
  readonly peers: readonly Peer[];
  readonly bfd: boolean;
  /** OSPFv2 area and the interface it runs on, when OSPF is wanted. */
  readonly ospf?: { readonly area: string; readonly interface: string };
  /** The static protocols, each fed by `<routesDir>/<name>.conf`. */
  readonly protocols: ReadonlyMap<string, Family>;
  readonly routesDir?: string;
  /** `syslog` on the appliance (the journal); `stderr` in the tests. */
  readonly log?: 'syslog' | 'stderr';
  /** BGP hold time in seconds (keepalives at a third of it). */
  readonly holdTime?: number;
}

export const routesFile = (dir: string, protocol: string): string => join(dir, `${protocol}.conf`);

/** bird.conf text for these settings. */
export function birdConf(s: BirdSettings): string {
  const dir = s.routesDir ?? ROUTES_DIR;
  const protocols = [...s.protocols]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, family]) => ({ name, family: family === 4 ? 'ipv4' : 'ipv6', file: routesFile(dir, name) }));
  const names = (family: 'ipv4' | 'ipv6') => protocols.filter((p) => p.family === family).map((p) => p.name);
  const filter = (family: 'ipv4' | 'ipv6') => {
    const n = names(family);
    return n.length ? n.map((x) => `proto = "${x}"`).join(' || ') : 'false';
  };
  return template('bird/bird.conf')({
    logTo: s.log ?? 'syslog',
    routerId: s.routerId ?? null,
    protocols,
    bfd: s.bfd,
    holdTime: s.holdTime ?? 9,
    peers: s.peers.map((p, i) => ({
      name: `peer${i + 1}`,
      address: p.address,
      as: p.as,
      localAs: s.localAs,
      channel: p.family === 4 ? 'ipv4' : 'ipv6',
      exportFilter: filter(p.family === 4 ? 'ipv4' : 'ipv6'),
    })),
    ospf: s.ospf ? { area: s.ospf.area, interface: s.ospf.interface, exportFilter: filter('ipv4') } : null,
  });
}

/** A route file: the routes a static protocol announces now. */
export const routesText = (routes: readonly string[]): string => template('bird/rhi-routes.conf')({ routes });

export interface StaticProtocol {
  readonly name: string;
  readonly family: Family;
  readonly file: string;
}

/**
 * The static protocols of a bird.conf that take their routes from a file in `dir`: `protocol static
 * NAME { ipv4|ipv6 …; include "DIR/NAME.conf"; }`. Comments are ignored; braces are counted.
 */
export function staticProtocols(conf: string, dir: string): StaticProtocol[] {
  const text = conf.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/#[^\n]*/g, '');
  const out: StaticProtocol[] = [];
  const head = /protocol\s+static\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:from\s+\S+\s*)?\{/g;
  for (let m = head.exec(text); m; m = head.exec(text)) {
    let depth = 1;
    let i = head.lastIndex;
    while (i < text.length && depth > 0) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
      i++;
    }
    const body = text.slice(head.lastIndex, i - 1);
    const fam = /\b(ipv4|ipv6)\b/.exec(body);
    const inc = /^\s*include\s+"([^"]+)"\s*;/m.exec(body);
    if (fam && inc && dirname(inc[1]!) === dir)
      out.push({ name: m[1]!, family: fam[1] === 'ipv4' ? 4 : 6, file: inc[1]! });
  }
  return out;
}
