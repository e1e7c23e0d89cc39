// The route health injection checks (rhi.* values): the bodies of the rules.ts entries that name
// them. Loaded by validate only when rhi.enabled is True, so `ovactl validate` on an appliance
// without RHI — every boot — does not load the rules parser (bench/cold-start.mjs).
import { contains, covers, isCidr, networkText, parseCidr, parseIp } from '../net/ip.js';
import { parseRules, type ParsedRules } from '../rhi/rules.js';
import { parseAs, parseOspfArea, parsePeer } from '../rhi/settings.js';
import type { PropertyKey } from '../properties/table.js';
import type { Context } from './context.js';
import type { Problem } from './finding.js';
import type { ManagementProperties, RhiValues } from './values.js';

const p = (keys: readonly PropertyKey[], message: string, hint?: string): Problem =>
  hint === undefined ? { keys, message } : { keys, message, hint };
const rhiOn = (ctx: Context): boolean => ctx.props['rhi.enabled'] === true;
const peersOf = (ctx: Context) =>
  ctx.list('rhi.peers').map((text) => ({ text, parsed: parsePeer(text, (x) => ctx.holdsSecret(x)) }));
// Parsed once per validation: the checks and rhiValues share the result.
const parsedRules = new WeakMap<Context, ParsedRules | undefined>();
const rulesOf = (ctx: Context): ParsedRules | undefined => {
  if (!parsedRules.has(ctx)) {
    const s = ctx.str('rhi.rules');
    parsedRules.set(ctx, s === undefined ? undefined : parseRules(s, (x) => ctx.holdsSecret(x)));
  }
  return parsedRules.get(ctx);
};

/** The rhi.* values parsed for plan (read only when the report has no errors). */
export function rhiValues(ctx: Context, management: ManagementProperties): RhiValues {
  const local = ctx.str('rhi.local_as');
  const localAs = local === undefined ? undefined : parseAs(local);
  const area = ctx.str('rhi.ospf_area');
  const address = management['network.management_ip'];
  return {
    rules: rulesOf(ctx) ?? parseRules('auto'),
    localAs: localAs && 'as' in localAs ? localAs.as : undefined,
    peers: peersOf(ctx).flatMap(({ parsed }) =>
      'problem' in parsed ? [] : [{ address: parsed.ip.text, family: parsed.ip.family, as: parsed.as }],
    ),
    bfd: ctx.props['rhi.bfd'] === true,
    ospfArea: area === undefined ? undefined : parseOspfArea(area),
    routerId: ctx.str('rhi.router_id') ?? (address?.family === 4 ? address.address.text : undefined),
  };
}

export const RHI_CHECKS: Readonly<Record<string, (ctx: Context) => Iterable<Problem>>> = {
  'rhi.required': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const peers = ctx.list('rhi.peers').length > 0;
    if (!peers && !ctx.isSet('rhi.ospf_area'))
      yield p(
        ['rhi.enabled', 'rhi.peers', 'rhi.ospf_area'],
        'rhi.enabled is True but neither rhi.peers nor rhi.ospf_area is set: the VIPs would be announced to nobody',
        'list the BGP routers in rhi.peers, e.g. 192.0.2.1:65001, or set rhi.ospf_area',
      );
    if (peers && !ctx.isSet('rhi.local_as'))
      yield p(
        ['rhi.local_as', 'rhi.peers'],
        'rhi.peers are given but rhi.local_as is not set',
        "set the appliance's AS number, e.g. 65010",
      );
  },
  'rhi.as-syntax': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const local = ctx.str('rhi.local_as');
    const r = local === undefined ? undefined : parseAs(local);
    if (r && 'problem' in r && r.problem === 'syntax')
      yield p(['rhi.local_as'], `rhi.local_as = ${ctx.quote(local!)} is not an AS number`, r.hint);
    for (const e of peersOf(ctx))
      if ('problem' in e.parsed && e.parsed.asProblem === 'syntax')
        yield p(['rhi.peers'], `rhi.peers entry ${ctx.quote(e.text)} ${e.parsed.problem}`, e.parsed.hint);
  },
  'rhi.as-range': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const local = ctx.str('rhi.local_as');
    const r = local === undefined ? undefined : parseAs(local);
    if (r && 'problem' in r && r.problem === 'range')
      yield p(['rhi.local_as'], `rhi.local_as = ${ctx.quote(local!)} is not a usable AS number`, r.hint);
    for (const e of peersOf(ctx))
      if ('problem' in e.parsed && e.parsed.asProblem === 'range')
        yield p(['rhi.peers'], `rhi.peers entry ${ctx.quote(e.text)} ${e.parsed.problem}`, e.parsed.hint);
  },
  'rhi.router-id': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const s = ctx.str('rhi.router_id');
    if (s === undefined) return;
    const ip = parseIp(s);
    if (!ip || ip.family !== 4 || ip.value === 0n)
      yield p(
        ['rhi.router_id'],
        `rhi.router_id = ${ctx.quote(s)} is not a router ID`,
        'an IPv4 address unique among the routers (it need not be configured anywhere), e.g. the management ' +
          'address; blank uses the management address',
      );
  },
  'rhi.router-id-dhcp': function* (ctx) {
    if (rhiOn(ctx) && !ctx.isSet('rhi.router_id') && !ctx.iface('network.management_ip'))
      yield p(
        ['rhi.router_id', 'network.management_ip'],
        'rhi.router_id is blank and the management address comes from DHCP: ' +
          "BIRD picks one of the appliance's IPv4 addresses as its router ID",
        "set rhi.router_id so that it stays the same and differs from the other appliances'",
      );
  },
  'rhi.peer-syntax': function* (ctx) {
    if (!rhiOn(ctx)) return;
    for (const e of peersOf(ctx))
      if ('problem' in e.parsed && !e.parsed.asProblem)
        yield p(['rhi.peers'], `rhi.peers entry ${ctx.quote(e.text)} ${e.parsed.problem}`, e.parsed.hint);
  },
  'rhi.peer-duplicate': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const seen = new Set<string>();
    for (const e of peersOf(ctx)) {
      if ('problem' in e.parsed) continue;
      if (seen.has(e.parsed.ip.text))
        yield p(
          ['rhi.peers'],
          `rhi.peers lists ${ctx.plain(e.parsed.ip.text)} twice`,
          'one session per router: remove the duplicate',
        );
      seen.add(e.parsed.ip.text);
    }
  },
  'rhi.peer-unreachable': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const nets = ctx.nics.map((n) => ({ nic: n, c: ctx.iface(n.ip) }));
    if (nets.some((x) => !x.c)) return; // a DHCP network: its subnet is not known before boot
    for (const e of peersOf(ctx)) {
      if ('problem' in e.parsed) continue;
      const ip = e.parsed.ip;
      if (nets.some((x) => contains(x.c!, ip))) continue;
      yield p(
        ['rhi.peers', ...nets.map((x) => x.nic.ip)],
        `BGP peer ${ctx.plain(ip.text)} is on none of the appliance's networks ` +
          `(${nets.map((x) => `${x.nic.name} ${ctx.plain(networkText(x.c!))}`).join(', ')}); ` +
          'the session would never come up',
        "peer with a router on one of these networks (its address there), or correct the network's prefix",
      );
    }
  },
  'rhi.peer-conflict': function* (ctx) {
    if (!rhiOn(ctx)) return;
    for (const e of peersOf(ctx)) {
      if ('problem' in e.parsed) continue;
      const ip = e.parsed.ip;
      for (const nic of ctx.nics) {
        const a = ctx.iface(nic.ip);
        if (a && a.address.value === ip.value && a.family === ip.family)
          yield p(
            ['rhi.peers', nic.ip],
            `BGP peer ${ctx.plain(ip.text)} is the appliance's own ${nic.name} address`,
            "give the router's address",
          );
      }
      for (const r of ctx.networks('loadbalance.service_ip_range')) {
        if (contains(r, ip))
          yield p(
            ['rhi.peers', 'loadbalance.service_ip_range'],
            `BGP peer ${ctx.plain(ip.text)} is inside VIP range ${ctx.plain(r.text)}: ` +
              'the appliance would answer for it itself',
            "give the router's address on one of the appliance's networks",
          );
      }
    }
  },
  'rhi.ospf-area': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const s = ctx.str('rhi.ospf_area');
    if (s !== undefined && parseOspfArea(s) === undefined)
      yield p(
        ['rhi.ospf_area'],
        `rhi.ospf_area = ${ctx.quote(s)} is not an OSPF area ID`,
        'e.g. 0 (the backbone) or 0.0.0.1; blank for no OSPF',
      );
  },
  'rhi.rules-syntax': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const r = rulesOf(ctx);
    if (!r) return;
    for (const e of r.errors)
      yield p(
        ['rhi.rules'],
        `rhi.rules${r.errors.length && ctx.str('rhi.rules')!.includes('\n') ? ` line ${e.line},` : ''} ` +
          `column ${e.column}: ${e.message}`,
        e.hint,
      );
    if (r.errors.length === 0 && r.rules.length === 0 && !r.auto)
      yield p(['rhi.rules'], 'rhi.rules holds no rule', 'write auto, or rules such as 192.0.2.70 = all(b:be_app)');
  },
  'rhi.rules-outside-vip': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const ranges = ctx.networks('loadbalance.service_ip_range');
    if (ranges.length === 0) return;
    for (const rule of rulesOf(ctx)?.rules ?? []) {
      for (const t of rule.targets) {
        const c = parseCidr(t.network);
        if (isCidr(c) && !ranges.some((r) => covers(r, c)))
          yield p(
            ['rhi.rules', 'loadbalance.service_ip_range'],
            `rhi.rules announces ${ctx.plain(t.network)}, which is not inside the VIP ranges ` +
              `(${ctx.plain(ranges.map((r) => r.text).join(', '))}): the appliance does not answer it`,
            'announce addresses of loadbalance.service_ip_range only, or add the range there',
          );
      }
    }
  },
  'rhi.family': function* (ctx) {
    if (!rhiOn(ctx)) return;
    const peers = peersOf(ctx).flatMap((e) => ('problem' in e.parsed ? [] : [e.parsed.ip.family]));
    if (peers.length === 0 && !ctx.isSet('rhi.ospf_area')) return;
    const r = rulesOf(ctx);
    const networks = [
      ...(r?.rules ?? []).flatMap((x) => x.targets.map((t) => ({ text: t.network, family: t.family }))),
      ...(r?.auto ? ctx.networks('loadbalance.service_ip_range').map((c) => ({ text: c.text, family: c.family })) : []),
    ];
    for (const family of [4, 6] as const) {
      const carried = peers.includes(family) || (family === 4 && ctx.isSet('rhi.ospf_area'));
      const affected = networks.filter((n) => n.family === family).map((n) => n.text);
      if (!carried && affected.length)
        yield p(
          ['rhi.peers', 'rhi.rules'],
          `${ctx.plain(affected.join(', '))} ${affected.length === 1 ? 'is' : 'are'} IPv${family} ` +
            `but no IPv${family} BGP peer${family === 4 ? ' (nor OSPF)' : ''} is given: ` +
            `${affected.length === 1 ? 'it' : 'they'} would be announced to nobody`,
          `add an IPv${family} peer to rhi.peers`,
        );
    }
  },
};
