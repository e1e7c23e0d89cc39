// doctor's checks of the files: what runs offline too, against a rendered tree or an unpacked support
// bundle (--root).
import { X509Certificate } from 'node:crypto';
import {
  DATAPLANEAPI_YAML,
  HAPROXY_CFG,
  NETWORK_DIR,
  RANGES_FILE,
  STATUS_FILE,
  TLS_PATHS,
} from '../appliance/paths.js';
import { contains, networkText, parseCidr, parseIp, isCidr, type Ip } from '../net/ip.js';
import { CA_WARN_DAYS, RENEW_BEFORE_DAYS, caFinding, isGeneratedCa, outOfTime, renewDue } from '../tls/lifetime.js';
import { fail, ok, skip, warn, type Check } from './check.js';
import { listOf, outside, rangesOf, span, vipNic } from './facts.js';

export const FILE_CHECKS: readonly Check[] = [
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
      const need = [HAPROXY_CFG, DATAPLANEAPI_YAML, TLS_PATHS.caCert, TLS_PATHS.serverCert];
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
        findings?: { rule: string; message: string; hint?: string }[];
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
      const live = s.findings ?? [];
      if (s.state === 'degraded')
        return warn(
          `degraded (${s.deployment ?? '?'} deployment): serving, with ${live.length} live finding(s):\n` +
            live.map(line).join('\n'),
          live
            .map((x) => x.hint)
            .filter(Boolean)
            .join('\n') || undefined,
        );
      if (s.state !== 'ready') {
        const errs = [...(s.errors ?? []), ...live];
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
      const crt = f.read(TLS_PATHS.serverCert),
        ca = f.read(TLS_PATHS.caCert);
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
      const ca = f.read(TLS_PATHS.caCert);
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
];
