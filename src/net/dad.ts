// Duplicate address detection with iputils' arping -D: ARP requests sent from 0.0.0.0, so nobody
// learns anything from them, answered (exit 1) only by a host that holds the address. Shared by
// `ovactl doctor` (duplicate-addresses) and the boot's READY step (apply/ready.ts), which takes nothing
// when someone answers. A handful of probes, one second each, never a sweep of the VIP ranges.
import { contains, hostRange, isCidr, parseCidr, parseIp, type Cidr } from './ip.js';

/** At most this many probes. */
export const DAD_MAX = 8;
const APPLIANCE_NICS = ['management', 'workload', 'frontend'];
export const DUPLICATE_FIX =
  'an old appliance with the same values must be powered off first (docs/upgrade.md); ' +
  "otherwise find the host by its MAC (the switch's MAC table, the DHCP server's leases) and take the address off " +
  'it; keep the VIP ranges out of every DHCP pool';

export interface DadTarget {
  readonly ip: string;
  readonly nic: string;
  /** What the address is to the appliance: "the management address", "VIP of frontend x". */
  readonly what: string;
}

export interface NicAddress {
  readonly nic: string;
  readonly c: Cidr;
}

export interface Answer {
  readonly code: number | null;
  readonly stdout: string;
}

export const arpingArgs = (t: DadTarget): string[] => ['-D', '-c', '1', '-w', '1', '-I', t.nic, t.ip];

/**
 * The MAC of the host that answered (arping -D exits 1 and prints the reply), or undefined when nobody did.
 * A reply from one of this host's own NICs is not another host: two NICs on one segment (management and
 * workload on one port group) answer for each other's addresses, as Linux does by default (arp_ignore 0).
 */
export function answeredBy(r: Answer, own: ReadonlySet<string> = new Set()): string | undefined {
  if (r.code !== 1) return undefined;
  // Only a reply is a duplicate: arping also exits 1 without one (a NIC that lost its carrier mid-probe).
  const mac = /reply from \S+ \[([0-9a-f:]{17})\]/i.exec(r.stdout)?.[1];
  return mac && !own.has(mac.toLowerCase()) ? mac : undefined;
}

/** The MACs of every NIC in `ip -j addr show` (or `ip -j link show`) output. */
export function ownMacs(ipJson: string): Set<string> {
  try {
    const links = JSON.parse(ipJson) as { address?: string }[];
    return new Set(links.flatMap((l) => (typeof l.address === 'string' ? [l.address.toLowerCase()] : [])));
  } catch {
    return new Set();
  }
}

export const describeDuplicate = (t: DadTarget, mac: string): string =>
  `${t.ip} (${t.what}) is answered on ${t.nic} by ${mac}`;

/** The appliance NICs' IPv4 addresses from `ip -j addr show`, or why they could not be read. */
export function nicAddresses(ipJson: string): NicAddress[] | string {
  let links: { ifname?: string; addr_info?: { local?: string; prefixlen?: number }[] }[];
  try {
    links = JSON.parse(ipJson);
  } catch {
    return 'ip -j addr show printed no JSON';
  }
  return links
    .filter((l) => APPLIANCE_NICS.includes(l.ifname ?? ''))
    .flatMap((l) =>
      (l.addr_info ?? []).flatMap((a) => {
        const c = parseCidr(`${a.local}/${a.prefixlen}`);
        return isCidr(c) && c.family === 4 ? [{ nic: l.ifname!, c }] : [];
      }),
    );
}

/** The NICs' own addresses as targets. */
export const ownTargets = (nets: readonly NicAddress[]): DadTarget[] =>
  nets.map((n) => ({ ip: n.c.address.text, nic: n.nic, what: `the ${n.nic} address` }));

/** `ip` as a target on the NIC whose network holds it (ARP reaches no further), unless already listed. */
export function onNic(out: DadTarget[], nets: readonly NicAddress[], ipText: string, what: string): void {
  const ip = parseIp(ipText);
  if (!ip || out.some((o) => o.ip === ip.text)) return;
  const on = nets.find((n) => contains(n.c, ip));
  if (on) out.push({ ip: ip.text, nic: on.nic, what });
}

/** A VIP range's first and last address: whoever serves the range answers for every address in it. */
export function rangeSamples(out: DadTarget[], nets: readonly NicAddress[], ranges: readonly string[]): void {
  for (const r of ranges) {
    const c = parseCidr(r);
    if (!isCidr(c) || c.family !== 4) continue;
    const { first, last } = hostRange(c);
    onNic(out, nets, first, `a VIP of ${c.text}`);
    onNic(out, nets, last, `a VIP of ${c.text}`);
  }
}

/** The first DAD_MAX targets, probed at once (one second in all), and those someone else answers for. */
export async function probeDuplicates(
  targets: readonly DadTarget[],
  run: (cmd: string, args: string[]) => Promise<Answer>,
  own: ReadonlySet<string>,
): Promise<{ found: { target: DadTarget; mac: string }[]; probed: DadTarget[] }> {
  const probed = targets.slice(0, DAD_MAX);
  const answers = await Promise.all(probed.map((t) => run('arping', arpingArgs(t))));
  const found = probed.flatMap((target, i) => {
    const mac = answeredBy(answers[i]!, own);
    return mac ? [{ target, mac }] : [];
  });
  return { found, probed };
}
