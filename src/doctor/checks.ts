// `ovactl doctor`: the troubleshooting checklists (VIP ranges, AnyIP, haproxy, the Data Plane API,
// RHI) as a table of checks. A check needs only files (runs against a rendered tree or an unpacked
// support bundle with --root) or the live system (skipped offline, with the reason).
import { X509Certificate } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readRegularFile } from '../core/regular-file.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseRangesFile, type RangesFile } from '../anyip/ranges-file.js';
import { localRoutes } from '../anyip/routes.js';
import { DATAPLANEAPI_YAML, HAPROXY_CFG, NETWORK_DIR, RANGES_FILE, STATUS_FILE } from '../appliance/paths.js';
import { readApiEndpoint, readNetworkFile, type NetworkFile } from '../plan/network.js';
import { contains, formatIp, networkText, parseCidr, parseIp, isCidr, type Cidr, type Ip } from '../net/ip.js';
import {
  answeredBy,
  arpingArgs,
  DAD_MAX,
  describeDuplicate,
  DUPLICATE_FIX,
  nicAddresses,
  onNic,
  ownMacs,
  ownTargets,
  type DadTarget,
} from '../net/dad.js';
import { parseHaproxyConfig } from '../rhi/auto.js';
import { TLS_PATHS } from '../tls/certificates.js';
import { BIRD_CONF } from '../rhi/bird.js';
import { CA_WARN_DAYS, RENEW_BEFORE_DAYS, caFinding, isGeneratedCa, outOfTime, renewDue } from '../tls/lifetime.js';
import { STATE_FILE as RHI_STATE_FILE, readStatus, running } from '../rhi/status.js';

export type Verdict = 'ok' | 'fail' | 'warn' | 'skip';
export interface Outcome {
  readonly verdict: Verdict;
  readonly detail: string;
  readonly fix?: string;
}
export interface CheckResult extends Outcome {
  readonly id: string;
  readonly title: string;
}

const CA_CRT = TLS_PATHS.caCert;
const SERVER_CRT = TLS_PATHS.serverCert;

/** An inclusive address interval, from `--vip-range A-B`. */
export interface Interval {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  readonly text: string;
}

export interface Context {
  /** Where the files are: '/' on the appliance, a rendered tree or unpacked bundle offline. */
  readonly root: string;
  readonly live: boolean;
  readonly vipRanges?: readonly Interval[];
  /** Runs a command (live checks only); injectable for tests. */
  readonly exec: (cmd: string, args: readonly string[]) => { code: number; stdout: string; stderr: string };
}

export interface Check {
  readonly id: string;
  readonly title: string;
  readonly needs: 'files' | 'live';
  run(ctx: Context, facts: Facts): Outcome | Promise<Outcome>;
}

const ok = (detail: string): Outcome => ({ verdict: 'ok', detail });
const fail = (detail: string, fix: string): Outcome => ({ verdict: 'fail', detail, fix });
const warn = (detail: string, fix?: string): Outcome => ({ verdict: 'warn', detail, ...(fix ? { fix } : {}) });
const skip = (detail: string): Outcome => ({ verdict: 'skip', detail });

export function defaultExec(cmd: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { code: 127, stdout: '', stderr: (r.error as Error).message };
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// ── the facts the checks share, read once ──────────────────────────────────────────────────────

export interface Bind {
  readonly frontend: string;
  readonly host: string;
  readonly port: string;
  readonly line: number;
}

export interface Facts {
  readonly read: (path: string) => string | undefined;
  readonly ranges: RangesFile | undefined;
  readonly networks: readonly NetworkFile[];
  readonly binds: readonly Bind[];
  readonly dataplane: { host: string; port: number } | undefined;
}

function readFacts(root: string): Facts {
  const cache = new Map<string, string | undefined>();
  const read = (path: string): string | undefined => {
    if (!cache.has(path)) {
      try {
        cache.set(path, readRegularFile(join(root, path))); // a FIFO in the tree must not hang doctor
      } catch {
        cache.set(path, undefined);
      }
    }
    return cache.get(path);
  };
  const rangesText = read(RANGES_FILE);
  let names: string[] = [];
  try {
    names = readdirSync(join(root, NETWORK_DIR))
      .filter((n) => /^20-ovactl-.*\.network$/.test(n))
      .sort();
  } catch {
    // no network files
  }
  const networks = names.map((n) => readNetworkFile(n, read(`${NETWORK_DIR}/${n}`) ?? ''));
  const cfg = read(HAPROXY_CFG);
  const yaml = read(DATAPLANEAPI_YAML);
  return {
    read,
    ranges: rangesText === undefined ? undefined : parseRangesFile(rangesText),
    networks,
    binds: cfg ? parseBinds(cfg) : [],
    dataplane: yaml ? readApiEndpoint(yaml) : undefined,
  };
}

/**
 * haproxy.cfg `bind` addresses of frontend/listen sections: `bind 198.51.100.70:443 ssl …`, `bind [::1]:80`,
 * `bind :80`. The sections and words come from route health injection's parser of the same file.
 */
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

/** `A-B[,C-D…]`, or a CIDR; a usage error message, or the intervals. */
export function parseVipRanges(text: string): Interval[] | string {
  const out: Interval[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const c = part.includes('/') ? parseCidr(part) : undefined;
    if (c !== undefined) {
      if (!isCidr(c)) return `--vip-range: "${part}" is not a network`;
      out.push({ family: c.family, first: c.network, last: c.last, text: networkText(c) });
      continue;
    }
    const [a, b = a] = part.split('-').map((s) => s.trim()) as [string, string?];
    const first = parseIp(a),
      last = parseIp(b!);
    if (!first || !last) return `--vip-range: "${part}" is not START-END (e.g. 198.51.100.64-198.51.100.127)`;
    if (first.family !== last.family) return `--vip-range: "${part}" mixes IPv4 and IPv6`;
    if (first.value > last.value) return `--vip-range: "${part}" ends before it starts`;
    out.push({ family: first.family, first: first.value, last: last.value, text: `${first.text}-${last.text}` });
  }
  return out.length ? out : '--vip-range: no range given';
}

/** The parts of an interval no range covers, as intervals. */
export function outside(iv: Interval, ranges: readonly Cidr[]): { first: bigint; last: bigint }[] {
  const covering = ranges
    .filter((r) => r.family === iv.family && r.network <= iv.last && r.last >= iv.first)
    .sort((a, b) => (a.network < b.network ? -1 : 1));
  const gaps: { first: bigint; last: bigint }[] = [];
  let next = iv.first;
  for (const r of covering) {
    if (r.network > next) gaps.push({ first: next, last: r.network - 1n < iv.last ? r.network - 1n : iv.last });
    if (r.last + 1n > next) next = r.last + 1n;
    if (next > iv.last) break;
  }
  if (next <= iv.last) gaps.push({ first: next, last: iv.last });
  return gaps;
}

const span = (g: { first: bigint; last: bigint }, family: 4 | 6): string =>
  g.first === g.last ? formatIp(g.first, family) : `${formatIp(g.first, family)}–${formatIp(g.last, family)}`;
const listOf = (xs: readonly string[], max = 8): string =>
  xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', ');
const rangesOf = (f: Facts): Cidr[] => [...(f.ranges?.ranges ?? [])];
const vipNic = (f: Facts): NetworkFile | undefined =>
  f.networks.find((n) => n.policyFrom.some((p) => !/\/(32|128)$/.test(p))) ??
  f.networks.find((n) => /workload|frontend/.test(n.name));
const unitName = 'anyip-routes.service';

/**
 * What duplicate address detection probes: the NICs' own IPv4 addresses (as the kernel has them: DHCP
 * included), then the VIPs that frontends bind inside the ranges and on a NIC's network.
 */
function dadTargets(ctx: Context, f: Facts): { targets: DadTarget[]; own: Set<string> } | string {
  const r = ctx.exec('ip', ['-j', '-4', 'addr', 'show']);
  if (r.code !== 0) return `ip -j addr show failed: ${r.stderr.trim().split('\n')[0] ?? ''}`;
  const nets = nicAddresses(r.stdout);
  if (typeof nets === 'string') return nets;
  const out = ownTargets(nets);
  for (const b of f.binds) {
    const ip = parseIp(b.host);
    if (ip && rangesOf(f).some((x) => contains(x, ip))) onNic(out, nets, ip.text, `VIP of frontend ${b.frontend}`);
  }
  return { targets: out, own: ownMacs(r.stdout) };
}

// ── the checks ─────────────────────────────────────────────────────────────────────────────────

export const CHECKS: readonly Check[] = [
  {
    id: 'ranges-file',
    title: `VIP ranges file ${RANGES_FILE}`,
    needs: 'files',
    run: (_ctx, f) => {
      if (!f.ranges)
        return fail(
          `${RANGES_FILE} does not exist`,
          'first boot writes it from loadbalance.service_ip_range: check the first-boot status below, or write ' +
            'one network CIDR a line',
        );
      const { ranges, problems } = f.ranges;
      if (problems.length) {
        return fail(
          problems.map((p) => `line ${p.line}: ${p.message}`).join('\n'),
          problems.map((p) => `line ${p.line}: ${p.hint}`).join('\n'),
        );
      }
      if (!ranges.length)
        return fail(
          'no ranges: the appliance answers no VIP',
          `add one network CIDR a line to ${RANGES_FILE}, e.g. 198.51.100.64/26`,
        );
      return ok(ranges.map((r) => r.text).join(', '));
    },
  },
  {
    id: 'configs',
    title: 'rendered configuration present',
    needs: 'files',
    run: (_ctx, f) => {
      const need = [HAPROXY_CFG, DATAPLANEAPI_YAML, CA_CRT, SERVER_CRT];
      const missing = need.filter((p) => f.read(p) === undefined);
      if (!f.networks.length) missing.push(`${NETWORK_DIR}/20-ovactl-*.network`);
      if (missing.length)
        return fail(
          `missing: ${missing.join(', ')}`,
          'first boot did not complete: see the first-boot status, then run "systemctl restart ' +
            'ovactl-firstboot" (or ovactl firstboot)',
        );
      return ok(`haproxy.cfg, dataplaneapi.yaml, certificates, ${f.networks.map((n) => n.name).join(', ')}`);
    },
  },
  {
    id: 'ranges-policy-routing',
    title: 'VIP ranges routed back through their NIC',
    needs: 'files',
    run: (_ctx, f) => {
      if (!f.ranges || !f.networks.length) return skip('needs the ranges file and the network files');
      const nic = vipNic(f);
      if (!nic) return skip('no NIC carries the VIPs (management-only deployment?)');
      const rules = new Set(
        nic.policyFrom.map((p) => {
          const c = parseCidr(p);
          return isCidr(c) ? networkText(c) : p;
        }),
      );
      const ranges = rangesOf(f).map(networkText);
      const unrouted = ranges.filter((r) => !rules.has(r));
      const stale = [...rules].filter((r) => !/\/(32|128)$/.test(r) && !ranges.includes(r));
      if (!unrouted.length && !stale.length) return ok(`${nic.name}: ${ranges.join(', ')}`);
      const parts = [
        ...(unrouted.length
          ? [
              `${listOf(unrouted)} in the ranges file but without a policy rule in ${nic.name}: ` +
                "replies leave by the management NIC's default route",
            ]
          : []),
        ...(stale.length ? [`policy rule for ${listOf(stale)}, no longer in the ranges file`] : []),
      ];
      return warn(
        parts.join('\n'),
        'the ranges file was edited after first boot: change loadbalance.service_ip_range (vApp options) to ' +
          'the same ranges and reboot, so first boot renders both again',
      );
    },
  },
  {
    id: 'ranges-vs-addresses',
    title: 'no VIP range covers an appliance, gateway, nameserver or DHCP address',
    needs: 'files',
    run: (ctx, f) => {
      if (!f.ranges) return skip('needs the ranges file');
      const named: { what: string; ip: Ip }[] = [];
      for (const n of f.networks) {
        for (const a of n.addresses) named.push({ what: `${n.name} address`, ip: a.address });
        for (const g of n.gateways) named.push({ what: `${n.name} gateway`, ip: g });
        for (const d of n.dns) named.push({ what: 'nameserver', ip: d });
      }
      let note = '';
      if (ctx.live) {
        const r = ctx.exec('ip', ['-json', 'addr', 'show']);
        if (r.code === 0) {
          try {
            for (const link of JSON.parse(r.stdout) as {
              ifname: string;
              addr_info?: { local: string; dynamic?: boolean; scope?: string }[];
            }[]) {
              for (const a of link.addr_info ?? []) {
                const ip = parseIp(a.local);
                if (
                  ip &&
                  a.scope !== 'host' &&
                  !named.some((x) => x.ip.value === ip.value && x.ip.family === ip.family)
                )
                  named.push({ what: `${link.ifname} ${a.dynamic ? 'DHCP ' : ''}address`, ip });
              }
            }
          } catch {
            note = ' (could not read "ip -json addr")';
          }
        } else note = ` ("ip addr" failed: ${r.stderr.trim()})`;
      }
      const hits = named.flatMap((x) =>
        rangesOf(f)
          .filter((r) => contains(r, x.ip))
          .map((r) => `${r.text} contains ${x.ip.text} (${x.what})`),
      );
      if (hits.length)
        return fail(
          hits.join('\n'),
          'the appliance would answer for that address in place of its owner: shrink the range (e.g. split it ' +
            'around the address) in loadbalance.service_ip_range and the ranges file, ' +
            'or exclude the VIP range from the DHCP scope',
        );
      return ok(
        `${named.length} addresses checked` +
          `${ctx.live ? '' : ' (offline: addresses from the network files only)'}${note}`,
      );
    },
  },
  {
    id: 'status',
    title: `first-boot status ${STATUS_FILE}`,
    needs: 'files',
    run: (ctx, f) => {
      const text = f.read(STATUS_FILE);
      if (text === undefined)
        return fail(
          'no status: first boot has not run',
          'run "journalctl -u ovactl-firstboot" to see why; "ovactl validate --json" shows the deploy values\' ' +
            'problems',
        );
      let s: {
        state?: string;
        deployment?: string;
        serving?: { appliedAt: string; ranges: string[] };
        errors?: { rule: string; message: string; hint?: string }[];
        warnings?: { rule: string; message: string; hint?: string }[];
      };
      try {
        s = JSON.parse(text);
      } catch {
        return fail('the status file is not JSON', 'run first boot again: systemctl restart ovactl-firstboot');
      }
      const line = (x: { rule: string; message: string }) => `${x.rule}: ${x.message}`;
      if (s.state === 'starting') {
        // Applied; READY is ovactl-ready.service's to say once the Data Plane API answers.
        const what =
          `starting (${s.deployment ?? '?'} deployment): ` +
          'the values are applied; READY once the Data Plane API answers';
        if (!ctx.live) return ok(`${what} (offline: ovactl-ready.service probes it on the appliance)`);
        return warn(
          `${what}, and it has not yet`,
          'systemctl status ovactl-ready: it says READY, or why not, within two minutes of first boot',
        );
      }
      if (s.state !== 'ready') {
        const errs = s.errors ?? [];
        if (s.serving && typeof s.serving === 'object') {
          // New values refused on a serving appliance: it serves on with the values in force.
          const servingRanges = (Array.isArray(s.serving.ranges) ? s.serving.ranges.join(', ') : '') || 'none';
          const held =
            'the new values were not applied; the last good configuration keeps serving ' +
            `(applied ${s.serving.appliedAt}, VIP ranges ${servingRanges})`;
          return fail(
            `state ${s.state} — ${held}${errs.length ? '\n' + errs.map(line).join('\n') : ''}`,
            errs.map((e) => e.hint ?? `fix the deploy value behind ${e.rule}`).join('\n') +
              '\nthen change the vApp options and reboot (or run ovactl firstboot)',
          );
        }
        return fail(
          `state ${s.state ?? '?'}${errs.length ? '\n' + errs.map(line).join('\n') : ''}`,
          errs.map((e) => e.hint ?? `fix the deploy value behind ${e.rule}`).join('\n') +
            '\nthen change the vApp options and reboot',
        );
      }
      const w = s.warnings ?? [];
      if (w.length)
        return warn(
          `ready (${s.deployment ?? '?'} deployment), ${w.length} warning(s):\n${w.map(line).join('\n')}`,
          w
            .map((x) => x.hint)
            .filter(Boolean)
            .join('\n') || undefined,
        );
      return ok(`ready (${s.deployment ?? '?'} deployment)`);
    },
  },
  {
    id: 'frontends-in-ranges',
    title: 'haproxy frontends bound inside the VIP ranges',
    needs: 'files',
    run: (_ctx, f) => {
      if (f.read(HAPROXY_CFG) === undefined) return skip(`no ${HAPROXY_CFG}`);
      const own = f.networks.flatMap((n) => n.addresses.map((a) => a.address.text));
      const specific = f.binds.filter(
        (b) =>
          b.host !== '' &&
          b.host !== '*' &&
          b.host !== '0.0.0.0' &&
          b.host !== '::' &&
          !b.host.startsWith('127.') &&
          b.host !== '::1' &&
          !own.includes(b.host),
      );
      const out = specific.filter((b) => {
        const ip = parseIp(b.host);
        return !ip || !rangesOf(f).some((r) => contains(r, ip));
      });
      if (out.length)
        return fail(
          out
            .map(
              (b) =>
                `frontend ${b.frontend} binds ${b.host}:${b.port} (haproxy.cfg line ${b.line}), ` +
                'outside every VIP range',
            )
            .join('\n'),
          'the control plane hands out VIPs outside the appliance\'s ranges: make its "IP Address Ranges for ' +
            'Virtual Servers" a subset of the ranges file (see --vip-range), or add the range to the ranges file',
        );
      return ok(
        specific.length
          ? `${specific.length} VIP bind(s), all inside the ranges`
          : 'no VIP frontend yet (the control plane adds them through the Data Plane API)',
      );
    },
  },
  {
    id: 'vip-range',
    title: "control plane's VIP range inside the AnyIP ranges",
    needs: 'files',
    run: (ctx, f) => {
      if (!ctx.vipRanges)
        return skip('no --vip-range given (the wizard\'s "IP Address Ranges for Virtual Servers", START-END)');
      if (!f.ranges) return skip('needs the ranges file');
      const gaps = ctx.vipRanges.flatMap((iv) => outside(iv, rangesOf(f)).map((g) => span(g, iv.family)));
      if (gaps.length)
        return fail(
          `${listOf(gaps)} ${gaps.length === 1 && !gaps[0]!.includes('–') ? 'is' : 'are'} outside every range (${
            rangesOf(f)
              .map((r) => r.text)
              .join(', ') || 'none'
          })`,
          "the appliance does not answer there: shrink the control plane's range to a subset of the ranges file, " +
            'or add those addresses (as network CIDRs) to the ranges file',
        );
      return ok(
        `${ctx.vipRanges.map((v) => v.text).join(', ')} inside ${rangesOf(f)
          .map((r) => r.text)
          .join(', ')}`,
      );
    },
  },
  {
    id: 'dataplane-cert',
    title: 'Data Plane API certificate valid for its address and signed by ca.crt',
    needs: 'files',
    run: (_ctx, f) => {
      const crt = f.read(SERVER_CRT),
        ca = f.read(CA_CRT);
      if (!crt || !ca || !f.dataplane) return skip('needs server.crt, ca.crt and dataplaneapi.yaml');
      let cert: X509Certificate, caCert: X509Certificate;
      try {
        cert = new X509Certificate(crt);
        caCert = new X509Certificate(ca);
      } catch (e) {
        return fail(`cannot read the certificates: ${(e as Error).message}`, 'reboot: first boot issues them again');
      }
      const problems: string[] = [];
      const now = Date.now();
      if (Date.parse(cert.validFrom) > now) problems.push(`not valid before ${cert.validFrom} (is the clock right?)`);
      if (Date.parse(cert.validTo) < now) problems.push(`expired ${cert.validTo}`);
      const host = f.dataplane.host;
      if (host !== '0.0.0.0' && host !== '::' && cert.checkIP(host) === undefined && cert.checkHost(host) === undefined)
        problems.push(`not valid for ${host} (SAN ${cert.subjectAltName ?? 'none'})`);
      if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey))
        problems.push('not signed by /etc/haproxy/ca.crt: the control plane, which trusts that CA, refuses it');
      if (problems.length)
        return fail(
          problems.join('\n'),
          'remove /etc/haproxy/server.crt and server.key and reboot: first boot issues a new one from the CA ' +
            '(with appliance.ca_cert, give the matching key)',
        );
      if (renewDue(cert, new Date(now))) {
        return warn(
          `ends ${cert.validTo}, within ${RENEW_BEFORE_DAYS} days: it should have been renewed`,
          'ovactl certificates renew (ovactl-certificates.timer runs it daily: ' +
            'systemctl status ovactl-certificates.timer; journalctl -u ovactl-certificates)',
        );
      }
      return ok(`valid until ${cert.validTo}, for ${host}`);
    },
  },
  {
    id: 'dataplane-ca',
    title: `CA of the Data Plane API (ca.crt) valid for ${CA_WARN_DAYS} days more`,
    needs: 'files',
    run: (_ctx, f) => {
      const ca = f.read(CA_CRT);
      if (!ca) return skip('needs ca.crt');
      let x509: X509Certificate;
      try {
        x509 = new X509Certificate(ca);
      } catch (e) {
        return fail(`cannot read ca.crt: ${(e as Error).message}`, 'reboot: first boot repairs it');
      }
      const now = new Date(),
        finding = caFinding(x509, now),
        late = outOfTime(x509, now);
      const refused = `ca.crt is ${late}: the Supervisor refuses the Data Plane API`;
      if (late) return fail(refused, finding?.hint ?? 'is the clock right? then reboot');
      if (finding) return warn(finding.message, finding.hint);
      return ok(`${isGeneratedCa(x509) ? 'generated' : 'given'} CA, valid until ${x509.validTo}`);
    },
  },
  // ── live ──
  {
    id: 'kernel-routes',
    title: 'kernel local table holds exactly the ranges',
    needs: 'live',
    run: async (_ctx, f) => {
      if (!f.ranges) return skip('needs the ranges file');
      let have: { owned: string[]; foreign: string[] };
      try {
        have = await localRoutes();
      } catch (e) {
        return fail((e as Error).message, 'run as root on the appliance');
      }
      const want = rangesOf(f).map(networkText);
      const held = want.filter((r) => !have.owned.includes(r) && have.foreign.includes(r));
      const missing = want.filter((r) => !have.owned.includes(r) && !held.includes(r)),
        extra = have.owned.filter((r) => !want.includes(r));
      if (missing.length || extra.length)
        return fail(
          [
            ...(missing.length ? [`missing: ${listOf(missing)} (these VIPs do not answer)`] : []),
            ...(extra.length ? [`not in the file: ${listOf(extra)}`] : []),
          ].join('\n'),
          'systemctl restart anyip-routes (and see its journal); "ip route list table local" shows the routes',
        );
      if (held.length)
        return warn(
          `${listOf(held)}: a local route not made by anyip-routes ` +
            '(it answers, but anyip-routes will not remove it when the range goes)',
          `to hand it over: ip route del local ${held[0]} table local; systemctl restart anyip-routes`,
        );
      return ok(`${want.length} local route(s) on lo`);
    },
  },
  {
    id: 'anyip-service',
    title: 'anyip-routes service enabled and active',
    needs: 'live',
    run: (ctx) => unitOutcome(ctx, unitName),
  },
  {
    id: 'haproxy',
    title: 'haproxy active, configuration valid',
    needs: 'live',
    run: (ctx) => {
      const u = unitOutcome(ctx, 'haproxy.service');
      const c = ctx.exec('haproxy', ['-c', '-f', HAPROXY_CFG]);
      if (c.code !== 0)
        return fail(
          `${u.verdict === 'ok' ? '' : u.detail + '\n'}haproxy -c: ` +
            (c.stderr + c.stdout).trim().split('\n').slice(-5).join('\n'),
          `fix ${HAPROXY_CFG} (the Data Plane API's last change, or an edit), then systemctl reload haproxy`,
        );
      return u.verdict === 'ok' ? ok('active; haproxy -c: configuration valid') : u;
    },
  },
  {
    id: 'vips-serving',
    title: 'VIPs that answer are served by a frontend',
    needs: 'live',
    run: (ctx, f) => {
      if (!f.ranges) return skip('needs the ranges file');
      const listening = listeners(ctx);
      if (typeof listening === 'string') return fail(listening, 'run as root on the appliance');
      const inRange = f.binds.filter((b) => {
        const ip = parseIp(b.host);
        return ip && rangesOf(f).some((r) => contains(r, ip));
      });
      const notListening = inRange.filter(
        (b) =>
          !listening.some((l) => l.port === b.port && (l.host === b.host || l.host === '*' || l.host === '0.0.0.0')),
      );
      const served = listening.filter((l) => {
        const ip = parseIp(l.host);
        return ip && rangesOf(f).some((r) => contains(r, ip));
      });
      if (notListening.length)
        return fail(
          'configured but not listening: ' +
            listOf(notListening.map((b) => `${b.host}:${b.port} (frontend ${b.frontend})`)) +
            ': these VIPs answer ping but serve nothing',
          "journalctl -u haproxy -n 50; is the address in the kernel's local table (kernel-routes)? " +
            'is haproxy reloaded (systemctl reload haproxy)?',
        );
      if (!served.length)
        return warn(
          'every address of the ranges answers ping, none is served: pingable is not serving (no frontend bound yet)',
          'test a VIP with curl, not ping; the control plane creates frontends when a LoadBalancer Service is created',
        );
      return ok(
        `served: ${listOf(served.map((l) => `${l.host}:${l.port}`))}; ` +
          'every other address of the ranges answers ping but serves nothing',
      );
    },
  },
  {
    id: 'dataplane-listening',
    title: 'Data Plane API listening on the management address',
    needs: 'live',
    run: (ctx, f) => {
      if (!f.dataplane) return skip(`no ${DATAPLANEAPI_YAML}`);
      const listening = listeners(ctx);
      if (typeof listening === 'string') return fail(listening, 'run as root on the appliance');
      const { host, port } = f.dataplane;
      const hit = listening.find(
        (l) =>
          l.port === String(port) && (l.host === host || l.host === '*' || l.host === '0.0.0.0' || l.host === '::'),
      );
      if (hit) return ok(`${hit.host}:${port}`);
      const u = unitOutcome(ctx, 'dataplaneapi.service');
      return fail(
        `nothing listens on ${host}:${port}${u.verdict === 'ok' ? '' : '\n' + u.detail}`,
        u.fix ?? 'systemctl restart dataplaneapi; journalctl -u dataplaneapi -n 20',
      );
    },
  },
  {
    id: 'duplicate-addresses',
    title: "no other host answers for the appliance's addresses or its VIPs",
    needs: 'live',
    run: (ctx, f) => {
      const dad = dadTargets(ctx, f);
      if (typeof dad === 'string') return skip(dad);
      const { targets, own } = dad;
      if (ctx.exec('arping', ['-V']).code === 127) return skip('arping is not installed (Debian: iputils-arping)');
      const probed = targets.slice(0, DAD_MAX);
      const dups = probed.flatMap((x) => {
        const mac = answeredBy(ctx.exec('arping', arpingArgs(x)), own);
        return mac ? [describeDuplicate(x, mac)] : [];
      });
      const more = targets.length > probed.length ? ` (${targets.length - probed.length} more not probed)` : '';
      if (dups.length) return fail(`another host uses these addresses: ${dups.join('; ')}`, DUPLICATE_FIX);
      return ok(`${probed.length} address(es) probed, nobody else answers: ${listOf(probed.map((x) => x.ip))}${more}`);
    },
  },
  {
    id: 'rhi',
    title: 'route health injection (when enabled)',
    needs: 'live',
    run: (ctx, f) => {
      if (
        f.read(BIRD_CONF) === undefined ||
        ctx.exec('systemctl', ['is-enabled', 'ovactl-rhi.service']).stdout.trim() !== 'enabled'
      )
        return ok('not enabled');
      const problems: string[] = [];
      const bird = ctx.exec('systemctl', ['is-active', 'bird.service']).stdout.trim();
      if (bird !== 'active') problems.push(`bird.service is ${bird || 'unknown'}`);
      const s = readStatus(join(ctx.root, RHI_STATE_FILE));
      if (!s || !running(s)) problems.push(`ovactl-rhi is not running (${RHI_STATE_FILE})`);
      else {
        // The daemon's error may start with "BIRD:" itself: said once.
        const why = (s.bird.error ?? 'unknown').replace(/^BIRD:\s*/, '');
        if (!s.bird.inSync) problems.push(`BIRD did not take the routes: ${why}`);
        if (!s.haproxy.reachable) problems.push(`ovactl-rhi cannot reach haproxy: ${s.haproxy.error ?? 'unknown'}`);
        for (const e of s.config.errors) problems.push(`rules: ${e}`);
        for (const r of s.rules)
          if (r.healthy !== r.announced && !r.holdDownUntil)
            problems.push(`${r.rule}: ${r.healthy ? 'healthy but not announced' : 'unhealthy but announced'}`);
      }
      const bc = ctx.exec('birdc', ['show', 'protocols']);
      if (bc.code === 0)
        for (const l of bc.stdout.split('\n')) {
          const m = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+\S+\s+(\S+)/.exec(l);
          if (m && m[3] !== 'Established') problems.push(`BGP session ${m[1]} is ${m[3]}`);
        }
      else problems.push(`birdc show protocols failed: ${(bc.stderr || bc.stdout).trim()}`);
      if (problems.length)
        return fail(
          problems.join('\n'),
          'ovactl rhi status shows each rule and why; journalctl -u ovactl-rhi -u bird -n 30',
        );
      const announced = s!.rules.filter((r) => r.announced).length;
      return ok(`BIRD running, sessions established, ${announced}/${s!.rules.length} rule(s) announced`);
    },
  },
];

function unitOutcome(ctx: Context, unit: string): Outcome {
  const enabled = ctx.exec('systemctl', ['is-enabled', unit]).stdout.trim();
  const active = ctx.exec('systemctl', ['is-active', unit]).stdout.trim();
  if (enabled === 'enabled' && active === 'active') return ok('enabled, active');
  const journal = ctx.exec('journalctl', ['-u', unit, '-n', '10', '--no-pager']);
  const tail = journal.code === 0 && journal.stdout.trim() ? `\nlast journal lines:\n${journal.stdout.trimEnd()}` : '';
  return fail(
    `${unit} is ${enabled || 'unknown'}, ${active || 'unknown'}${tail}`,
    `systemctl enable --now ${unit}; journalctl -u ${unit} for the reason`,
  );
}

/** TCP listeners (`ss -ltnH`): host and port. */
function listeners(ctx: Context): { host: string; port: string }[] | string {
  const r = ctx.exec('ss', ['-ltnH']);
  if (r.code !== 0) return `ss -ltnH failed: ${r.stderr.trim()}`;
  return r.stdout.split('\n').flatMap((l) => {
    const local = l.trim().split(/\s+/)[3];
    const m = local ? /^\[?(.*?)(?:%\S+)?\]?:(\d+|\*)$/.exec(local) : null;
    return m ? [{ host: m[1]!, port: m[2]! }] : [];
  });
}

export async function runChecks(ctx: Context): Promise<CheckResult[]> {
  const facts = readFacts(ctx.root);
  const out: CheckResult[] = [];
  for (const c of CHECKS) {
    let o: Outcome;
    if (c.needs === 'live' && !ctx.live) o = skip('offline (--root): needs the running appliance');
    else {
      try {
        o = await c.run(ctx, facts);
      } catch (e) {
        o = fail(`the check failed: ${(e as Error).message}`, 'run as root on the appliance');
      }
    }
    out.push({ id: c.id, title: c.title, ...o });
  }
  return out;
}
