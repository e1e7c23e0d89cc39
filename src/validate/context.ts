// What the rules look at: the normalised properties, the deployment option, and the parsed forms of
// the network values (memoised, and only for values that parse, so one typo is reported once).
import { isCidr, parseCidr, parseIp, type Cidr, type CidrProblem, type Ip } from '../net/ip.js';
import { isSetIn, type Properties, type RawValues } from '../properties/schema.js';
import { PROPERTIES, type PropertyKey } from '../properties/table.js';
import { q } from '../core/quote.js';
import { NICS, type Deployment, type Nic } from '../appliance/nics.js';
import type { TypeProblem } from '../properties/schema.js';
import type { DeployDocument } from '../source/document.js';
import type { CaProblem } from './ca.js';
import type { Problem } from './finding.js';

export interface ListEntry {
  readonly text: string;
  readonly parsed: Cidr | CidrProblem;
}

/** What a validation run hands its rules. */
export interface ContextInput {
  readonly doc: DeployDocument;
  readonly props: Properties;
  readonly typeProblems: readonly TypeProblem[];
  readonly deployment: Deployment;
  /** Why the deployment option the source named could not be used, if so. */
  readonly deploymentProblem?: string | undefined;
  /** The CA checks' results (ca.ts loads node:crypto, so validate runs it only when a CA is given). */
  readonly ca: readonly CaProblem[];
  /** The route health injection checks (rhi.ts), loaded only when rhi.enabled is True. */
  readonly rhiChecks?: Readonly<Record<string, (ctx: Context) => Iterable<Problem>>> | undefined;
}

/** A secret this long is hidden inside longer text too (shorter ones, only as the whole value). */
const MIN_SECRET_IN_TEXT = 6;
const HIDDEN = '(a value equal to a secret of these values, not shown)';

export class Context {
  private readonly cidrs = new Map<PropertyKey, Cidr | CidrProblem | undefined>();
  readonly doc: DeployDocument;
  readonly props: Properties;
  readonly typeProblems: readonly TypeProblem[];
  readonly deployment: Deployment;
  readonly deploymentProblem: string | undefined;
  private readonly ca: readonly CaProblem[];
  private readonly rhiChecks: ContextInput['rhiChecks'];
  /** The secret values of this input (passwords, the CA key), as written and trimmed. */
  private readonly secrets: readonly string[];

  constructor(input: ContextInput) {
    this.secrets = PROPERTIES.filter((s) => s.secret)
      .flatMap((s) => [input.doc.values.get(s.key), input.props[s.key]])
      .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
      .flatMap((v) => [v, v.trim()]);
    this.doc = input.doc;
    this.props = input.props;
    this.typeProblems = input.typeProblems;
    this.deployment = input.deployment;
    this.deploymentProblem = input.deploymentProblem;
    this.ca = input.ca;
    this.rhiChecks = input.rhiChecks;
  }

  /** Findings of one route health injection rule; none when RHI is off (rhi.ts not loaded). */
  rhiProblems(rule: string): Problem[] {
    const check = this.rhiChecks?.[rule];
    return check ? [...check(this)] : [];
  }

  get raw(): RawValues {
    return this.doc.values;
  }

  /**
   * A value quoted for a message: the only way the rules quote one (they do not import core/quote).
   * A value equal to a secret of this input, or holding one, is never quoted — the root password
   * typed as the host name must not reach the console, the status or guestinfo.
   */
  quote(text: string): string {
    return this.holdsSecret(text) ? HIDDEN : q(text);
  }

  /** A value (an address as parsed) put into a message unquoted: as quote(), never a secret. */
  plain(text: string): string {
    return this.holdsSecret(text) ? HIDDEN : text;
  }

  /** Whether `text` is, or holds, a secret of this input. */
  holdsSecret(text: string): boolean {
    const t = text.trim();
    return this.secrets.some((s) => t === s || (s.length >= MIN_SECRET_IN_TEXT && text.includes(s)));
  }

  /** The value as the source wrote it, for messages (never called for secrets). */
  rawText(key: PropertyKey): string {
    return this.doc.values.get(key) ?? '';
  }

  /** CA findings of one rule. */
  caProblems(rule: string): Problem[] {
    const keysOf = {
      cert: ['appliance.ca_cert'],
      key: ['appliance.ca_cert_key'],
      pair: ['appliance.ca_cert', 'appliance.ca_cert_key'],
    } as const;
    return this.ca
      .filter((c) => c.rule === rule)
      .map((c) => ({ keys: keysOf[c.on], message: c.message, ...(c.hint ? { hint: c.hint } : {}) }));
  }

  /** A text value (an address, a name, a port's text); undefined when unset or of another kind. */
  str(key: PropertyKey): string | undefined {
    const v = this.props[key];
    return typeof v === 'string' ? v : undefined;
  }

  /** A list value (ranges, nameservers); empty when unset or of another kind. */
  list(key: PropertyKey): readonly string[] {
    const v = this.props[key];
    return Array.isArray(v) ? v : [];
  }

  /** Whether the source set the key itself (a default does not count). */
  isSet(key: PropertyKey): boolean {
    return isSetIn(this.raw, key);
  }

  /** NICs of this deployment option. */
  get nics(): readonly Nic[] {
    return NICS.filter((n) => !n.onlyIn || n.onlyIn === this.deployment);
  }

  /** Parse result of an IP/prefix value, undefined when unset. */
  cidrResult(key: PropertyKey): Cidr | CidrProblem | undefined {
    if (!this.cidrs.has(key)) {
      const s = this.str(key);
      this.cidrs.set(key, s === undefined ? undefined : parseCidr(s));
    }
    return this.cidrs.get(key);
  }

  /** The static interface address of a NIC, when it is set and valid. */
  iface(key: PropertyKey): Cidr | undefined {
    const c = this.cidrResult(key);
    return c && isCidr(c) ? c : undefined;
  }

  ip(key: PropertyKey): Ip | undefined {
    const s = this.str(key);
    return s === undefined ? undefined : parseIp(s);
  }

  entries(key: PropertyKey): ListEntry[] {
    return this.list(key).map((text) => ({ text, parsed: parseCidr(text) }));
  }

  /** Entries of a network list that parse (host bits or not). */
  networks(key: PropertyKey): Cidr[] {
    return this.entries(key)
      .map((e) => e.parsed)
      .filter(isCidr);
  }

  /** Infrastructure addresses a VIP range must never contain, each with the key it came from. */
  infrastructure(): { key: PropertyKey; ip: Ip; what: string }[] {
    const out: { key: PropertyKey; ip: Ip; what: string }[] = [];
    for (const nic of this.nics) {
      const a = this.iface(nic.ip);
      if (a) out.push({ key: nic.ip, ip: a.address, what: `the ${nic.name} address` });
      const g = this.ip(nic.gateway);
      if (g) out.push({ key: nic.gateway, ip: g, what: `the ${nic.name} gateway` });
    }
    for (const s of this.list('network.nameservers')) {
      const ip = parseIp(s);
      if (ip) out.push({ key: 'network.nameservers', ip, what: 'a nameserver' });
    }
    for (const s of this.list('network.ntp_servers')) {
      const ip = parseIp(s);
      if (ip) out.push({ key: 'network.ntp_servers', ip, what: 'an NTP server' });
    }
    const floating = this.ip('ha.address');
    if (floating) out.push({ key: 'ha.address', ip: floating, what: 'the floating management address' });
    for (const s of this.list('ha.peers')) {
      const ip = parseIp(s);
      if (ip) out.push({ key: 'ha.peers', ip, what: "a peer appliance's management address" });
    }
    return out;
  }
}
