// Every validation rule, as a table: id, severity, what it checks (also the rule list in docs/properties.md), and
// a check over the Context. Field rules come first, then the cross-field rules the wizard cannot do.
import {
  contains,
  covers,
  hasHostBits,
  hostRange,
  isBroadcastAddress,
  isNetworkAddress,
  networkText,
  overlaps,
  parseIp,
  type Cidr,
} from '../net/ip.js';
import { specialRange } from '../net/special.js';
import { isHostName } from '../net/hostname.js';
import { isSyslogProblem, parseSyslogServer } from '../syslog/server.js';
import { splitList } from '../properties/schema.js';
import {
  PROPERTIES,
  isSecret as isSecretKey,
  type Kind,
  type PropertyKey,
  type PropertySpec,
} from '../properties/table.js';

type PropertySpecQ = Pick<PropertySpec, 'qualifiers'>;
import type { Context } from './context.js';
import { MAX_FINDINGS_PER_RULE, type Problem, type Severity } from './finding.js';
import { keyText } from '../core/quote.js';
import { HA_CHECKS } from './ha.js';

export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  readonly summary: string;
  check(ctx: Context): Iterable<Problem>;
}

/** A value quoted for a message; very long values are cut so one finding stays one line. */

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** The known key nearest to a misspelt one, when it is close enough to be a typo. */
function closestKey(k: string): string | undefined {
  if (k.length > 80) return undefined; // edit distance is O(n·m): a 4 MB key would take seconds
  const lower = k.toLowerCase();
  const best = PROPERTIES.map((s) => ({
    key: s.key,
    d: Math.min(distance(lower, s.key), distance(lower, s.ovfKey)),
  })).sort((a, b) => a.d - b.d)[0]!;
  return best.d <= Math.max(2, Math.floor(best.key.length / 5)) ? best.key : undefined;
}
const keysOfKind = (kind: Kind): PropertyKey[] => PROPERTIES.filter((p) => p.kind === kind).map((p) => p.key);
const p = (keys: readonly PropertyKey[], message: string, hint?: string): Problem =>
  hint === undefined ? { keys, message } : { keys, message, hint };

/** Rule-id prefix and wording per network-list property. */
const LISTS: Record<string, { rule: string; what: string }> = {
  'loadbalance.service_ip_range': { rule: 'vip', what: 'VIP range' },
  'network.additional_workload_networks': { rule: 'workload-networks', what: 'additional workload network' },
};

function alignedHint(ctx: Context, c: Cidr): string {
  const h = hostRange(c);
  return `use ${ctx.plain(networkText(c))} (hosts ${ctx.plain(h.first)}–${ctx.plain(h.last)})`;
}

// What a user name may hold: the Data Plane API's userlist is a haproxy.cfg token and HTTP Basic auth
// splits "user:password" at the first colon, so a conservative set that every layer takes as it is
// (no colon, no %, no braces or backquotes a template or shell could read): letters, digits, . _ -,
// starting with a letter or "_".
const USER_FIRST = /^[A-Za-z_]$/;
const USER_CHAR = /^[A-Za-z0-9._-]$/;

const charName = (c: string): string =>
  /^[\x20-\x7e]$/.test(c) ? JSON.stringify(c) : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Characters no password may hold: C0, DEL, C1 and format characters (a NUL cut the $6$ hash short). */
const PASSWORD_BAD = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}]/u; // \n and \r: password.line-break

/** Where a password breaks PASSWORD_BAD, by position (1-based, in characters) and class; never the value. */
function passwordProblem(pwd: string): string | undefined {
  let pos = 0;
  for (const ch of pwd) {
    pos++;
    if (!PASSWORD_BAD.test(ch)) continue;
    const cp = ch.codePointAt(0)!;
    const what =
      cp < 0x20 || cp === 0x7f
        ? 'a control character'
        : cp <= 0x9f
          ? 'a C1 control character'
          : 'an invisible Unicode format character';
    return `has ${what} at position ${pos}`;
  }
  return undefined;
}

function* typeProblems(ctx: Context, rule: string): Iterable<Problem> {
  for (const t of ctx.typeProblems.filter((t) => t.rule === rule)) {
    const value = isSecretKey(t.key) ? '' : ` = ${ctx.quote(ctx.rawText(t.key))}`;
    yield p([t.key], `${t.key}${value} ${t.message}`, t.hint);
  }
}

// ── route health injection: checked only when rhi.enabled is True ──────────────────────────
const rhiOn = (ctx: Context): boolean => ctx.props['rhi.enabled'] === true;
const RHI_KEYS = PROPERTIES.filter((s) => s.ovfClass === 'rhi' && s.key !== 'rhi.enabled').map((s) => s.key);
/** The checks that parse rhi.* values live in ./rhi.ts, loaded only when rhi.enabled is True. */
/** What else listens on the management address (TCP): the metrics port must be none of these. */
const MANAGEMENT_BINDS: readonly {
  by: string;
  keys: readonly PropertyKey[];
  port(ctx: Context): number;
  when(ctx: Context): boolean;
}[] = [
  { by: 'sshd', keys: [], port: () => 22, when: () => true },
  {
    by: 'the Data Plane API (loadbalance.dataplane_port)',
    keys: ['loadbalance.dataplane_port'],
    port: (ctx) => ctx.props['loadbalance.dataplane_port'] ?? 5556,
    when: () => true,
  },
  {
    // BIRD listens on *:179 as soon as it has a BGP peer.
    by: "BIRD's BGP sessions (rhi.enabled with rhi.peers)",
    keys: ['rhi.enabled'],
    port: () => 179,
    when: (ctx) => ctx.props['rhi.enabled'] === true && (ctx.props['rhi.peers'] ?? []).length > 0,
  },
];

const rhiCheck =
  (id: string) =>
  (ctx: Context): Iterable<Problem> =>
    ctx.rhiProblems(id);

const HA_SUMMARY: Readonly<Record<string, string>> = {
  'ha.incomplete': 'Two appliances need both ha.address (the floating management address) and ha.peers.',
  'ha.management-static': 'Two appliances need static management addresses.',
  'ha.address-network': 'The floating management address (ha.address) is an address of the management network.',
  'ha.address-taken': "The floating address is none of the appliance's addresses or gateways, and not a peer's.",
  'ha.peer-syntax': 'Every peer (ha.peers) is an IP address.',
  'ha.peer-network': 'Every peer is in the management network.',
  'ha.peer-own': "No peer is one of this appliance's own addresses or gateways.",
  'ha.peer-duplicate': 'No peer is listed twice.',
  'ha.ca-required':
    'Two appliances present certificates of the same given CA (appliance.ca_cert and appliance.ca_cert_key), ' +
    'e.g. the one "ovactl export --for-successor" takes from the first appliance.',
};

const SYSLOG_SUMMARY = {
  'syslog.scheme': 'The syslog server is udp://, tcp:// or tls:// followed by host[:port].',
  'syslog.host': "The syslog server's host is an IP address ([brackets] for IPv6) or a host name.",
  'syslog.port': "The syslog server's port is 1–65535 (default 514 for udp and tcp, 6514 for tls).",
} as const;

export const RULES: readonly Rule[] = [
  // ── the input itself ──────────────────────────────────────────────────────────────────────
  {
    id: 'property.unknown',
    severity: 'warning',
    summary: 'Keys that are not properties of this appliance (typos) are reported, with the closest known key.',
    *check(ctx) {
      // The typo hint costs an edit distance to every key: only for the findings shown (the rest are counted).
      for (const [i, k] of ctx.doc.unknownKeys.entries()) {
        const near = i < MAX_FINDINGS_PER_RULE ? closestKey(k) : undefined;
        yield p(
          [],
          `${keyText(k)} is not a property of this appliance; it is ignored`,
          near ? `did you mean ${near}?` : 'see the property reference: ovactl docs',
        );
      }
    },
  },
  {
    id: 'source.unterminated-quote',
    severity: 'warning',
    summary: 'A value in the Supervisor-log form lost its closing quote and was read to the end of its line.',
    *check(ctx) {
      for (const n of ctx.doc.notes.filter((n) => n.rule === 'source.unterminated-quote'))
        yield p(n.keys, n.message, n.hint);
    },
  },
  {
    id: 'deployment.unknown',
    severity: 'error',
    summary: 'The deployment option is "default" (2 NICs) or "frontend" (3 NICs).',
    *check(ctx) {
      if (ctx.deploymentProblem) yield p([], ctx.deploymentProblem, 'use "default" or "frontend"');
    },
  },
  // ── required values and types ──────────────────────────────────────────────────────────────
  {
    id: 'value.required',
    severity: 'error',
    summary: 'Required properties (root password, HAProxy password, VIP ranges) are set.',
    *check(ctx) {
      for (const s of PROPERTIES) {
        if (
          'required' in s &&
          s.required &&
          ctx.props[s.key] === undefined &&
          !ctx.typeProblems.some((t) => t.key === s.key)
        ) {
          yield p(
            [s.key],
            `${s.key} (${s.label}) is not set`,
            `set ${s.key}${'example' in s ? `, e.g. ${s.example}` : ''}`,
          );
        }
      }
    },
  },
  {
    id: 'value.too-long',
    severity: 'error',
    summary: 'No value is longer than 4096 characters (65535 for the PEM fields).',
    check: (ctx) => typeProblems(ctx, 'value.too-long'),
  },
  {
    id: 'boolean.syntax',
    severity: 'error',
    summary: 'Booleans are True/False (any case; yes/no, on/off, 1/0 also accepted).',
    check: (ctx) => typeProblems(ctx, 'boolean.syntax'),
  },
  {
    id: 'port.syntax',
    severity: 'error',
    summary: "Ports (the Data Plane API's, the metrics port) are whole numbers.",
    check: (ctx) => typeProblems(ctx, 'port.syntax'),
  },
  // ── one value at a time ───────────────────────────────────────────────────────────────────
  {
    id: 'address.syntax',
    severity: 'error',
    summary: 'Interface addresses are IP/prefix (e.g. 192.0.2.10/24).',
    *check(ctx) {
      for (const key of keysOfKind('interfaceAddress')) {
        if (ctx.cidrResult(key) === 'syntax')
          yield p(
            [key],
            `${key} = ${ctx.quote(ctx.str(key)!)} is not an IP address with a prefix length`,
            'write address/prefix, e.g. 192.0.2.10/24, or leave it blank for DHCP',
          );
      }
    },
  },
  {
    id: 'address.family',
    severity: 'error',
    summary:
      'NIC addresses and gateways are IPv4: the Data Plane API URL, its certificate, networkd and the per-NIC ' +
      'routing are built and tested for IPv4 only.',
    *check(ctx) {
      for (const nic of ctx.nics) {
        for (const key of [nic.ip, nic.gateway]) {
          const family = key === nic.ip ? ctx.iface(key)?.family : ctx.ip(key)?.family;
          if (family === 6)
            yield p(
              [key],
              `${key} = ${ctx.quote(ctx.str(key)!)} is an IPv6 address; the ${nic.name} NIC supports IPv4 only ` +
                '(the published Data Plane API URL and the routing policy are IPv4)',
              'give an IPv4 address, e.g. 192.0.2.10/24; IPv6 VIP ranges are supported',
            );
        }
      }
    },
  },
  {
    id: 'address.prefix-required',
    severity: 'error',
    summary: 'Interface addresses carry their prefix length; no silent /8 as on the original appliance.',
    *check(ctx) {
      for (const key of keysOfKind('interfaceAddress')) {
        if (ctx.cidrResult(key) === 'no-prefix')
          yield p(
            [key],
            `${key} = ${ctx.quote(ctx.str(key)!)} has no prefix length (the original appliance silently made it a /8)`,
            `add the prefix of its network, e.g. ${ctx.plain(ctx.str(key)!)}/24`,
          );
      }
    },
  },
  {
    id: 'address.network-or-broadcast',
    severity: 'error',
    summary: 'An interface address is not the network or broadcast address of its prefix.',
    *check(ctx) {
      for (const key of keysOfKind('interfaceAddress')) {
        const c = ctx.iface(key);
        if (!c) continue;
        if (c.prefix === 0) {
          yield p(
            [key],
            `${key} = ${ctx.quote(ctx.str(key)!)} has prefix /0`,
            'use the prefix length of the network the NIC is on, e.g. /24',
          );
        } else if (isNetworkAddress(c) || isBroadcastAddress(c)) {
          const h = hostRange(c);
          yield p(
            [key],
            `${key} = ${ctx.quote(ctx.str(key)!)} is the ${isNetworkAddress(c) ? 'network' : 'broadcast'} address of ` +
              ctx.plain(networkText(c)),
            `pick a host address from ${ctx.plain(h.first)} to ${ctx.plain(h.last)}`,
          );
        }
      }
    },
  },
  {
    id: 'gateway.syntax',
    severity: 'error',
    summary: 'Gateways and the floating management address (ha.address) are plain IP addresses, without a prefix.',
    *check(ctx) {
      for (const { key, example } of PROPERTIES.filter((x) => x.kind === 'address')) {
        const s = ctx.str(key);
        if (s === undefined || parseIp(s)) continue;
        const bare = s.split('/')[0]!;
        yield p(
          [key],
          `${key} = ${ctx.quote(s)} is not an IP address`,
          s.includes('/') && parseIp(bare)
            ? `drop the prefix: ${bare}`
            : `write one IPv4 address, e.g. ${example ?? '192.0.2.1'}`,
        );
      }
    },
  },
  {
    id: 'nameservers.syntax',
    severity: 'error',
    summary: 'Every nameserver is an IP address.',
    *check(ctx) {
      for (const s of ctx.list('network.nameservers')) {
        if (!parseIp(s))
          yield p(
            ['network.nameservers'],
            `network.nameservers entry ${ctx.quote(s)} is not an IP address`,
            'list DNS servers by IP address, comma-separated, e.g. 192.0.2.53, 192.0.2.54',
          );
      }
    },
  },
  {
    id: 'nameservers.count',
    severity: 'error',
    summary: 'At most three nameservers (the resolver uses no more).',
    *check(ctx) {
      const n = ctx.list('network.nameservers');
      if (n.length > 3)
        yield p(
          ['network.nameservers'],
          `network.nameservers lists ${n.length} servers; at most 3 are used`,
          `keep three: ${n.slice(0, 3).join(', ')}`,
        );
    },
  },
  {
    id: 'nameservers.duplicate',
    severity: 'warning',
    summary: 'A nameserver listed twice is used once.',
    *check(ctx) {
      const raw = ctx.rawText('network.nameservers');
      const seen = new Set<string>();
      for (const e of splitList(raw)) {
        const ip = parseIp(e)?.text ?? e;
        if (seen.has(ip))
          yield p(
            ['network.nameservers'],
            `network.nameservers lists ${ctx.quote(ip)} twice; it is written once`,
            'remove the duplicate',
          );
        seen.add(ip);
      }
    },
  },
  {
    id: 'ntp.syntax',
    severity: 'error',
    summary: 'Every NTP server is an IP address or a host name.',
    *check(ctx) {
      for (const s of ctx.list('network.ntp_servers')) {
        if (!parseIp(s) && !isHostName(s))
          yield p(
            ['network.ntp_servers'],
            `network.ntp_servers entry ${ctx.quote(s)} is neither an IP address nor a host name`,
            'e.g. 192.0.2.123, ntp.example.com',
          );
      }
    },
  },
  {
    id: 'hostname.syntax',
    severity: 'error',
    summary: 'The host name is a valid fully qualified domain name.',
    *check(ctx) {
      const h = ctx.str('network.hostname');
      if (h === undefined) return;
      if (!isHostName(h))
        yield p(
          ['network.hostname'],
          `network.hostname = ${ctx.quote(h)} is not a valid host name`,
          'use letters, digits and hyphens in dot-separated labels of at most 63 characters, e.g. haproxy.example.com',
        );
      else if (!h.includes('.'))
        yield p(
          ['network.hostname'],
          `network.hostname = ${ctx.quote(h)} is not fully qualified`,
          `add the domain, e.g. ${ctx.plain(h)}.example.com (or ${ctx.plain(h)}.local)`,
        );
    },
  },
  {
    id: 'hostname.case',
    severity: 'warning',
    summary: 'The host name is written in lower case (DNS names ignore case; the files and certificate get one form).',
    *check(ctx) {
      const h = ctx.str('network.hostname');
      const raw = ctx.rawText('network.hostname').trim().replace(/\.$/, '');
      if (h !== undefined && raw !== h && raw.toLowerCase() === h)
        yield p(
          ['network.hostname'],
          `network.hostname = ${ctx.quote(raw)} has upper-case letters; it is written as ${ctx.quote(h)}`,
          'write the host name in lower case',
        );
    },
  },
  {
    id: 'port.range',
    severity: 'error',
    summary: "Ports (the Data Plane API's, the metrics port) are 1–65535.",
    *check(ctx) {
      for (const key of keysOfKind('port')) {
        const v = ctx.props[key];
        const port = typeof v === 'number' ? v : undefined;
        const hint =
          key === 'loadbalance.dataplane_port'
            ? 'use the default 5556 or another free port'
            : 'use a free port, e.g. 9100';
        if (port !== undefined && (port < 1 || port > 65535))
          yield p([key], `${key} = ${port} is outside 1–65535`, hint);
      }
    },
  },
  {
    id: 'integer.range',
    severity: 'error',
    summary: 'Whole-number values (the VRRP priority and router ID) are within their range.',
    *check(ctx) {
      yield* typeProblems(ctx, 'integer.syntax');
      for (const spec of PROPERTIES.filter((s) => s.kind === 'integer')) {
        const v = ctx.props[spec.key];
        const { minValue = 0, maxValue = Number.MAX_SAFE_INTEGER } = (spec as PropertySpecQ).qualifiers ?? {};
        if (typeof v === 'number' && (v < minValue || v > maxValue))
          yield p(
            [spec.key],
            `${spec.key} = ${v} is outside ${minValue}–${maxValue}`,
            `use ${spec.default ?? minValue}`,
          );
      }
    },
  },
  {
    id: 'metrics.port-taken',
    severity: 'error',
    summary:
      'The metrics port is none of the others bound on the management address: 22 (sshd), the Data Plane API port, ' +
      '179 (BGP, with route health injection and peers).',
    *check(ctx) {
      const port = ctx.props['appliance.metrics_port'];
      if (port === undefined) return;
      for (const b of MANAGEMENT_BINDS) {
        if (!b.when(ctx) || b.port(ctx) !== port) continue;
        yield p(
          ['appliance.metrics_port', ...b.keys],
          `appliance.metrics_port = ${port} is taken by ${b.by} on the management address`,
          `use another port, e.g. ${[9100, 9101, 9102].find((n) => n !== port)}`,
        );
      }
    },
  },
  {
    id: 'port.ssh',
    severity: 'error',
    summary: 'The Data Plane API port is not 22: sshd listens on the same management address.',
    *check(ctx) {
      if (ctx.props['loadbalance.dataplane_port'] === 22)
        yield p(
          ['loadbalance.dataplane_port'],
          'loadbalance.dataplane_port = 22 is taken by sshd on the management address',
          'use the default 5556',
        );
    },
  },
  {
    id: 'password.characters',
    severity: 'error',
    summary:
      'Passwords hold no control characters (C0, DEL, C1) and no Unicode format characters (zero-width space, ' +
      'bidi marks).',
    *check(ctx) {
      for (const key of keysOfKind('password')) {
        const v = ctx.str(key);
        const why = v === undefined ? undefined : passwordProblem(v);
        if (why)
          yield p(
            [key],
            `${key} ${why}`,
            'type the password again without invisible characters; a NUL or a zero-width space cannot be ' +
              'entered at a login prompt',
          );
      }
    },
  },
  {
    id: 'user.syntax',
    severity: 'error',
    summary:
      'The HAProxy user name is 1–64 of the letters, digits and . _ - (what the Data Plane API userlist and ' +
      'HTTP Basic auth both take), starting with a letter or _.',
    *check(ctx) {
      const u = ctx.str('loadbalance.haproxy_user');
      if (u === undefined) return;
      const chars = [...u];
      const at = chars.findIndex((c, i) => !(i === 0 ? USER_FIRST : USER_CHAR).test(c));
      if (at >= 0)
        yield p(
          ['loadbalance.haproxy_user'],
          `loadbalance.haproxy_user = ${ctx.quote(u)} ` +
            `${at === 0 && USER_CHAR.test(chars[0]!) ? 'starts with' : 'contains'} ` +
            `${charName(chars[at]!)} at position ${at + 1}, which the Data Plane API's login cannot take`,
          'use letters, digits and . _ - only, starting with a letter or _, e.g. wcp',
        );
      else if (chars.length > 64)
        yield p(
          ['loadbalance.haproxy_user'],
          `loadbalance.haproxy_user is ${chars.length} characters long; at most 64 are allowed`,
          'choose a shorter user name',
        );
    },
  },
  {
    id: 'password.length',
    severity: 'error',
    summary: 'Passwords are 6–128 characters (any characters, including a leading "-").',
    *check(ctx) {
      for (const key of keysOfKind('password')) {
        const s = ctx.str(key);
        if (s === undefined) continue;
        const n = [...s].length;
        if (n < 6 || n > 128)
          yield p(
            [key],
            `${key} is ${n} characters long; it must be 6 to 128`,
            n < 6 ? 'choose a longer password' : 'choose a shorter password',
          );
      }
    },
  },
  {
    id: 'password.line-break',
    severity: 'error',
    summary: 'Passwords hold no line break (chpasswd and openssl passwd read one line).',
    *check(ctx) {
      for (const key of keysOfKind('password')) {
        if (/[\r\n]/.test(ctx.str(key) ?? ''))
          yield p(
            [key],
            `${key} contains a line break, which cannot be set as a password`,
            'type the password on one line',
          );
      }
    },
  },
  {
    id: 'password.whitespace',
    severity: 'warning',
    summary: 'A password that begins or ends with whitespace is kept as typed; often a paste accident.',
    *check(ctx) {
      for (const key of keysOfKind('password')) {
        const s = ctx.str(key);
        if (s !== undefined && s !== s.trim())
          yield p(
            [key],
            `${key} begins or ends with whitespace, which is kept as part of the password`,
            'remove the spaces unless they are meant to be there',
          );
      }
    },
  },
  {
    id: 'ca.pair',
    severity: 'error',
    summary: 'The CA certificate and key are given together or not at all.',
    check: (ctx) => ctx.caProblems('ca.pair'),
  },
  {
    id: 'ca.cert-parse',
    severity: 'error',
    summary: 'The CA certificate is a readable PEM X.509 certificate.',
    check: (ctx) => ctx.caProblems('ca.cert-parse'),
  },
  {
    id: 'ca.not-ca',
    severity: 'error',
    summary: 'The CA certificate has basicConstraints CA:TRUE.',
    check: (ctx) => ctx.caProblems('ca.not-ca'),
  },
  {
    id: 'ca.not-yet-valid',
    severity: 'error',
    summary: 'The CA certificate is already valid.',
    check: (ctx) => ctx.caProblems('ca.not-yet-valid'),
  },
  {
    id: 'ca.expired',
    severity: 'error',
    summary: 'The CA certificate has not expired.',
    check: (ctx) => ctx.caProblems('ca.expired'),
  },
  {
    id: 'ca.key-parse',
    severity: 'error',
    summary: 'The CA key is a readable PEM private key (RSA, EC or PKCS#8).',
    check: (ctx) => ctx.caProblems('ca.key-parse'),
  },
  {
    id: 'ca.key-encrypted',
    severity: 'error',
    summary: 'The CA key is not passphrase-protected (nobody can type it at boot).',
    check: (ctx) => ctx.caProblems('ca.key-encrypted'),
  },
  {
    id: 'ca.key-mismatch',
    severity: 'error',
    summary: 'The CA key belongs to the CA certificate.',
    check: (ctx) => ctx.caProblems('ca.key-mismatch'),
  },
  // ── network lists: VIP ranges and additional workload networks ──────────────────────────────
  ...(['vip', 'workload-networks'] as const).flatMap((prefix): Rule[] => {
    const key = Object.entries(LISTS).find(([, v]) => v.rule === prefix)![0] as PropertyKey;
    const what = LISTS[key]!.what;
    return [
      {
        id: `${prefix}.syntax`,
        severity: 'error',
        summary: `Every ${what} is a network in CIDR form.`,
        *check(ctx) {
          for (const e of ctx.entries(key)) {
            if (e.parsed === 'syntax')
              yield p(
                [key],
                `${key} entry ${ctx.quote(e.text)} is not a network in CIDR form`,
                'write network/prefix, e.g. 192.0.2.64/26; separate ranges with commas',
              );
            else if (e.parsed === 'no-prefix')
              yield p(
                [key],
                `${key} entry ${ctx.quote(e.text)} has no prefix length`,
                `add one: ${ctx.plain(e.text)}/32 for a single address, ` +
                  `or the range's prefix, e.g. ${ctx.plain(e.text)}/28`,
              );
          }
        },
      },
      {
        id: `${prefix}.host-bits`,
        severity: 'error',
        summary: `No ${what} has host bits set (10.10.18.18/28 → 10.10.18.16/28); the kernel refuses it.`,
        *check(ctx) {
          for (const c of ctx.networks(key)) {
            if (hasHostBits(c))
              yield p(
                [key],
                `${key} entry ${ctx.quote(c.text)} has host bits set; ` +
                  'the kernel refuses it ("Invalid prefix for given prefix length")',
                alignedHint(ctx, c),
              );
          }
        },
      },
      {
        id: `${prefix}.overlap`,
        severity: 'error',
        summary: `${what[0]!.toUpperCase() + what.slice(1)}s do not overlap each other.`,
        *check(ctx) {
          const nets = ctx.networks(key);
          for (let i = 0; i < nets.length; i++) {
            for (let j = i + 1; j < nets.length; j++) {
              const a = nets[i]!,
                b = nets[j]!;
              if (!overlaps(a, b)) continue;
              yield a.text === b.text
                ? p([key], `${key} lists ${ctx.quote(a.text)} twice`, 'remove the duplicate')
                : p(
                    [key],
                    `${key} entries ${ctx.quote(a.text)} and ${ctx.quote(b.text)} overlap`,
                    covers(a, b)
                      ? `remove ${ctx.plain(b.text)}: ${ctx.plain(a.text)} already covers it`
                      : covers(b, a)
                        ? `remove ${ctx.plain(a.text)}: ${ctx.plain(b.text)} already covers it`
                        : 'make the ranges disjoint',
                  );
            }
          }
        },
      },
    ];
  }),
  {
    id: 'vip.special',
    severity: 'error',
    summary:
      'No VIP range is or contains the default route, loopback, link-local, multicast, broadcast or reserved ' +
      'addresses: a local route for it cuts the appliance off.',
    *check(ctx) {
      for (const c of ctx.networks('loadbalance.service_ip_range')) {
        const why = specialRange(c);
        if (why)
          yield p(
            ['loadbalance.service_ip_range'],
            `loadbalance.service_ip_range entry ${ctx.plain(c.text)} ${why}; ` +
              'as a VIP range it would route those addresses to the appliance itself',
            'give only the VIP ranges on the workload or frontend network, e.g. 192.0.2.64/26',
          );
      }
    },
  },
  {
    id: 'vip.empty',
    severity: 'error',
    summary: 'At least one VIP range: with none the appliance serves nothing.',
    *check(ctx) {
      if (ctx.isSet('loadbalance.service_ip_range') && ctx.list('loadbalance.service_ip_range').length === 0) {
        yield p(
          ['loadbalance.service_ip_range'],
          `loadbalance.service_ip_range = ${ctx.quote(ctx.rawText('loadbalance.service_ip_range'))} holds no range`,
          'give at least one network CIDR, e.g. 192.0.2.64/26',
        );
      }
    },
  },
  {
    id: 'vip.contains-infrastructure',
    severity: 'error',
    summary:
      'No VIP range contains an appliance address, a gateway, a nameserver or an NTP server: the appliance ' +
      'would answer for it.',
    *check(ctx) {
      for (const r of ctx.networks('loadbalance.service_ip_range')) {
        for (const inf of ctx.infrastructure()) {
          if (!contains(r, inf.ip)) continue;
          yield p(
            ['loadbalance.service_ip_range', inf.key],
            `VIP range ${ctx.plain(r.text)} contains ${inf.what} ${ctx.plain(inf.ip.text)} (${inf.key}); ` +
              'the appliance would answer for it and traffic to it would be lost',
            `shrink or move the range so that it excludes ${ctx.plain(inf.ip.text)}, or change ${inf.key}`,
          );
        }
      }
    },
  },
  {
    id: 'vip.dhcp',
    severity: 'warning',
    summary:
      'When a NIC uses DHCP, remind that the DHCP pool must exclude the VIP ranges (a leased address inside ' +
      'one is lost).',
    *check(ctx) {
      const dhcp = ctx.nics.filter((n) => !ctx.isSet(n.ip));
      const ranges = ctx.networks('loadbalance.service_ip_range');
      if (dhcp.length === 0 || ranges.length === 0) return;
      yield p(
        ['loadbalance.service_ip_range', ...dhcp.map((n) => n.ip)],
        `${dhcp.map((n) => n.name).join(' and ')} use${dhcp.length === 1 ? 's' : ''} DHCP; ` +
          `an address leased inside ${ctx.plain(ranges.map((r) => r.text).join(', '))} ` +
          'would be answered by the VIP ranges',
        "make sure the DHCP server's pool excludes the VIP ranges",
      );
    },
  },
  {
    id: 'vip.routed',
    severity: 'warning',
    summary:
      'A VIP range outside every appliance network is reached only through a route to the appliance: the route ' +
      'to add is named (unless rhi.enabled announces it).',
    *check(ctx) {
      if (rhiOn(ctx)) return;
      const nets = ctx.nics.flatMap((n) => {
        const c = ctx.iface(n.ip);
        return c ? [{ nic: n, c }] : [];
      });
      // With a DHCP NIC its network is unknown here: the range may well be on it.
      if (nets.length < ctx.nics.length) return;
      const vipNic = nets.find((x) => x.nic.name === (ctx.deployment === 'frontend' ? 'frontend' : 'workload'));
      for (const r of ctx.networks('loadbalance.service_ip_range')) {
        if (nets.some((x) => overlaps(x.c, r))) continue;
        const via = vipNic ? `${ctx.plain(networkText(r))} via ${ctx.plain(vipNic.c.address.text)}` : networkText(r);
        yield p(
          ['loadbalance.service_ip_range'],
          `VIP range ${ctx.plain(r.text)} is outside the appliance's networks ` +
            `(${nets.map((x) => `${x.nic.name} ${ctx.plain(networkText(x.c))}`).join(', ')}): ` +
            'no client reaches it unless a router sends it to the appliance',
          `ask the network team for the static route "${ctx.plain(via)}" (the ${vipNic?.nic.name ?? 'VIP'} address), ` +
            'or set rhi.enabled to True to announce it over BGP',
        );
      }
    },
  },
  {
    id: 'rhi.vip-on-link',
    severity: 'warning',
    summary:
      'With route health injection the VIPs are reached by routing only (the appliance answers no ARP for ' +
      'them): a VIP range inside a network the appliance is on is not reachable from that network.',
    *check(ctx) {
      if (!rhiOn(ctx)) return;
      for (const r of ctx.networks('loadbalance.service_ip_range')) {
        for (const nic of ctx.nics) {
          const c = ctx.iface(nic.ip);
          if (!c || !overlaps(c, r)) continue;
          yield p(
            ['loadbalance.service_ip_range', 'rhi.enabled', nic.ip],
            `VIP range ${ctx.plain(r.text)} lies in the ${nic.name} network ${ctx.plain(networkText(c))}; ` +
              'with rhi.enabled the appliance answers no ARP for its VIPs (several appliances would answer for ' +
              'the same addresses), so clients on that network cannot reach them',
            "use a VIP range outside the appliance's networks, which the routers learn over BGP, " +
              'or set rhi.enabled to False to answer ARP for it',
          );
        }
      }
    },
  },
  // ── gateways and networks together ────────────────────────────────────────────────────────
  {
    id: 'gateway.outside-subnet',
    severity: 'error',
    summary: "A gateway lies inside its interface's subnet.",
    *check(ctx) {
      for (const nic of ctx.nics) {
        const a = ctx.iface(nic.ip),
          g = ctx.ip(nic.gateway);
        if (!a || !g || contains(a, g)) continue;
        const h = hostRange(a);
        yield p(
          [nic.gateway, nic.ip],
          `${nic.gateway} = ${ctx.plain(g.text)} is outside the ${nic.name} network ` +
            `${ctx.plain(networkText(a))} (${nic.ip} = ${ctx.plain(a.text)})`,
          `use a gateway from ${ctx.plain(h.first)} to ${ctx.plain(h.last)}, or correct the prefix of ${nic.ip}`,
        );
      }
    },
  },
  {
    id: 'gateway.equals-address',
    severity: 'error',
    summary: "A gateway is not the interface's own address.",
    *check(ctx) {
      for (const nic of ctx.nics) {
        const a = ctx.iface(nic.ip),
          g = ctx.ip(nic.gateway);
        if (a && g && a.address.value === g.value)
          yield p(
            [nic.gateway, nic.ip],
            `${nic.gateway} = ${ctx.plain(g.text)} is the ${nic.name} NIC's own address`,
            'give the address of the router on that network',
          );
      }
    },
  },
  {
    id: 'gateway.without-address',
    severity: 'warning',
    summary: 'A gateway given for a DHCP interface is ignored: DHCP provides it.',
    *check(ctx) {
      for (const nic of ctx.nics) {
        if (ctx.isSet(nic.gateway) && !ctx.isSet(nic.ip))
          yield p(
            [nic.gateway, nic.ip],
            `${nic.gateway} is set but ${nic.ip} is blank (DHCP); the DHCP server's gateway is used instead`,
            `set ${nic.ip} for a static address, or clear ${nic.gateway}`,
          );
      }
    },
  },
  {
    id: 'network.overlap',
    severity: 'error',
    summary: "The appliance's networks (management, workload, frontend) do not overlap each other.",
    *check(ctx) {
      const nets = ctx.nics
        .map((n) => ({ nic: n, c: ctx.iface(n.ip) }))
        .filter((x): x is { nic: typeof x.nic; c: Cidr } => !!x.c);
      for (let i = 0; i < nets.length; i++) {
        for (let j = i + 1; j < nets.length; j++) {
          const a = nets[i]!,
            b = nets[j]!;
          if (overlaps(a.c, b.c))
            yield p(
              [a.nic.ip, b.nic.ip],
              `the ${a.nic.name} network ${ctx.plain(networkText(a.c))} and ` +
                `the ${b.nic.name} network ${ctx.plain(networkText(b.c))} ` +
                'overlap; replies would leave by the wrong NIC',
              'put each NIC on its own subnet, or correct the prefix lengths',
            );
        }
      }
    },
  },
  {
    id: 'workload-networks.includes-primary',
    severity: 'error',
    summary: 'Additional workload networks do not include (or overlap) the primary workload network.',
    *check(ctx) {
      const w = ctx.iface('network.workload_ip');
      if (!w) return;
      for (const n of ctx.networks('network.additional_workload_networks')) {
        if (overlaps(n, w))
          yield p(
            ['network.additional_workload_networks', 'network.workload_ip'],
            `additional workload network ${ctx.plain(n.text)} overlaps the primary workload network ` +
              ctx.plain(networkText(w)),
            `remove ${ctx.plain(n.text)}: the workload network is reached directly`,
          );
      }
    },
  },
  {
    id: 'workload-networks.overlap-vip',
    severity: 'error',
    summary: 'Additional workload networks do not overlap a VIP range.',
    *check(ctx) {
      for (const n of ctx.networks('network.additional_workload_networks')) {
        for (const r of ctx.networks('loadbalance.service_ip_range')) {
          if (overlaps(n, r))
            yield p(
              ['network.additional_workload_networks', 'loadbalance.service_ip_range'],
              `additional workload network ${ctx.plain(n.text)} overlaps VIP range ${ctx.plain(r.text)}`,
              'VIPs are answered locally and cannot also be routed to the workload gateway; make them disjoint',
            );
        }
      }
    },
  },
  {
    id: 'workload-networks.overlap-network',
    severity: 'error',
    summary: 'Additional workload networks do not overlap the management or frontend network.',
    *check(ctx) {
      for (const n of ctx.networks('network.additional_workload_networks')) {
        for (const nic of ctx.nics.filter((x) => x.name !== 'workload')) {
          const a = ctx.iface(nic.ip);
          if (a && overlaps(n, a))
            yield p(
              ['network.additional_workload_networks', nic.ip],
              `additional workload network ${ctx.plain(n.text)} overlaps the ${nic.name} network ` +
                ctx.plain(networkText(a)),
              'remove it or correct its prefix',
            );
        }
      }
    },
  },
  {
    id: 'workload-networks.no-gateway',
    severity: 'error',
    summary: 'Additional workload networks need a workload gateway when the workload address is static.',
    *check(ctx) {
      if (
        ctx.list('network.additional_workload_networks').length &&
        ctx.iface('network.workload_ip') &&
        !ctx.isSet('network.workload_gateway')
      ) {
        yield p(
          ['network.additional_workload_networks', 'network.workload_gateway'],
          'network.additional_workload_networks are routed through the workload gateway, but ' +
            'network.workload_gateway is blank',
          'set network.workload_gateway to the router of the workload network',
        );
      }
    },
  },
  // ── route health injection ─────────────────────────────────────────────────────────────────
  {
    id: 'rhi.ignored',
    severity: 'warning',
    summary: 'Route health injection values given while rhi.enabled is False are ignored.',
    *check(ctx) {
      if (rhiOn(ctx)) return;
      // vSphere and govc hand every property over, defaults included: only values that differ count.
      const set = RHI_KEYS.filter(
        (k) =>
          ctx.isSet(k) &&
          ctx.rawText(k).trim().toLowerCase() !==
            (PROPERTIES.find((x) => x.key === k) as { default?: string }).default?.toLowerCase(),
      );
      if (set.length)
        yield p(
          set,
          `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set, ` +
            'but rhi.enabled is False; route health injection stays off',
          'set rhi.enabled to True to announce the VIPs, or clear the values',
        );
    },
  },
  {
    id: 'rhi.required',
    severity: 'error',
    summary: 'With route health injection on: BGP peers (or an OSPF area) to announce to, and the local AS for BGP.',
    check: rhiCheck('rhi.required'),
  },
  {
    id: 'rhi.as-syntax',
    severity: 'error',
    summary: "AS numbers (rhi.local_as, each peer's) are whole numbers (asplain).",
    check: rhiCheck('rhi.as-syntax'),
  },
  {
    id: 'rhi.as-range',
    severity: 'error',
    summary: 'AS numbers are 1–4294967295, and not 23456 (AS_TRANS).',
    check: rhiCheck('rhi.as-range'),
  },
  {
    id: 'rhi.router-id',
    severity: 'error',
    summary: 'The router ID is an IPv4 address other than 0.0.0.0.',
    check: rhiCheck('rhi.router-id'),
  },
  {
    id: 'rhi.router-id-dhcp',
    severity: 'warning',
    summary:
      'Without rhi.router_id and a static management address, BIRD picks the router ID from an interface address.',
    check: rhiCheck('rhi.router-id-dhcp'),
  },
  {
    id: 'rhi.peer-syntax',
    severity: 'error',
    summary: 'Every BGP peer is address:AS, e.g. 192.0.2.1:65001 or [2001:db8::1]:65001.',
    check: rhiCheck('rhi.peer-syntax'),
  },
  {
    id: 'rhi.peer-duplicate',
    severity: 'error',
    summary: 'No BGP peer address is listed twice.',
    check: rhiCheck('rhi.peer-duplicate'),
  },
  {
    id: 'rhi.peer-unreachable',
    severity: 'error',
    summary:
      "Every BGP peer is on one of the appliance's networks (management, workload, frontend): " +
      'sessions are direct, not multihop.',
    check: rhiCheck('rhi.peer-unreachable'),
  },
  {
    id: 'rhi.peer-conflict',
    severity: 'error',
    summary: 'A BGP peer is neither an appliance address nor inside a VIP range.',
    check: rhiCheck('rhi.peer-conflict'),
  },
  {
    id: 'rhi.ospf-area',
    severity: 'error',
    summary: 'The OSPF area is a number or a dotted quad (0, 0.0.0.0).',
    check: rhiCheck('rhi.ospf-area'),
  },
  {
    id: 'rhi.rules-syntax',
    severity: 'error',
    summary: 'The announcement rules parse (each problem with its column in rhi.rules).',
    check: rhiCheck('rhi.rules-syntax'),
  },
  {
    id: 'rhi.rules-outside-vip',
    severity: 'error',
    summary: 'Every network the rules announce lies inside a load balancer IP range.',
    check: rhiCheck('rhi.rules-outside-vip'),
  },
  {
    id: 'rhi.family',
    severity: 'warning',
    summary: 'IPv6 VIPs need an IPv6 BGP peer (and IPv4 VIPs an IPv4 peer or OSPF) to be announced.',
    check: rhiCheck('rhi.family'),
  },
  // ── two appliances: checked when ha.address or ha.peers is set (src/validate/ha.ts) ───────────
  ...Object.entries(HA_SUMMARY).map(
    ([id, summary]): Rule => ({
      id,
      severity: 'error',
      summary,
      check: HA_CHECKS[id]!,
    }),
  ),
  // ── log forwarding: checked only when appliance.syslog_server is set ─────────────────────────
  ...(['syslog.scheme', 'syslog.host', 'syslog.port'] as const).map(
    (id): Rule => ({
      id,
      severity: 'error',
      summary: SYSLOG_SUMMARY[id],
      *check(ctx) {
        const v = ctx.str('appliance.syslog_server');
        const r = v === undefined ? undefined : parseSyslogServer(v);
        if (v !== undefined && r && isSyslogProblem(r) && r.rule === id) {
          yield p(['appliance.syslog_server'], `appliance.syslog_server = ${ctx.quote(v)} ${r.message}`, r.hint);
        }
      },
    }),
  ),
  {
    id: 'syslog.tls-ip',
    severity: 'warning',
    summary: 'A tls:// syslog server given by IP address: its certificate must carry that address as a name.',
    *check(ctx) {
      const v = ctx.str('appliance.syslog_server');
      const r = v === undefined ? undefined : parseSyslogServer(v);
      if (!r || isSyslogProblem(r) || r.scheme !== 'tls' || !r.hostIsIp) return;
      const message =
        `appliance.syslog_server = ${ctx.quote(v!)} names the TLS server by IP address; rsyslog accepts its ` +
        `certificate only if that certificate names ${r.host}`;
      const hint = 'give the host name its certificate was issued for, e.g. tls://logs.example.com:6514';
      yield p(['appliance.syslog_server'], message, hint);
    },
  },
  // ── the deployment option ─────────────────────────────────────────────────────────────────
  {
    id: 'frontend.ignored',
    severity: 'warning',
    summary: 'Frontend values under the 2-NIC default deployment are ignored.',
    *check(ctx) {
      if (ctx.deployment !== 'default') return;
      const set = PROPERTIES.filter((s) => s.deployment === 'frontend' && ctx.isSet(s.key)).map((s) => s.key);
      if (set.length)
        yield p(
          set,
          `${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set, ` +
            `but the default deployment has no frontend NIC; ${set.length === 1 ? 'it is' : 'they are'} ignored`,
          'deploy with the "frontend" deployment option (govc: "Deployment": "frontend") to use a frontend ' +
            'network, or clear the values',
        );
    },
  },
];
