// doctor's checks of the running appliance: the kernel's routes, the units, the listeners, ARP and
// BIRD (skipped offline, with the reason).
import { join } from 'node:path';
import { localRoutes } from '../anyip/routes.js';
import { DATAPLANEAPI_YAML, HAPROXY_CFG } from '../appliance/paths.js';
import { contains, networkText, parseIp } from '../net/ip.js';
import { answeredBy, arpingArgs, DAD_MAX, describeDuplicate, DUPLICATE_FIX } from '../net/dad.js';
import { BIRD_CONF } from '../rhi/bird.js';
import { STATE_FILE as RHI_STATE_FILE, readStatus, running } from '../rhi/status.js';
import { fail, ok, skip, warn, type Check, type Context, type Outcome } from './check.js';
import { gatherLiveFacts } from '../live/facts.js';
import { liveFindings } from '../live/rules.js';
import { liveSystem } from '../apply/system.js';
import { HA_NIC, HA_STANDBY_FILE, HA_STATE_FILE } from '../appliance/ha.js';
import { hasAddress } from '../net/local-address.js';
import { parseHaReport } from '../ha/state.js';
import { dadTargets, listOf, rangesOf, unitName } from './facts.js';

export const LIVE_CHECKS: readonly Check[] = [
  {
    id: 'live-state',
    title: 'live state (what ovactl-watch.service reports)',
    needs: 'live',
    run: async (ctx) => {
      const found = liveFindings(await gatherLiveFacts({ root: ctx.root, system: liveSystem() }));
      if (!found.length)
        return ok('haproxy serves haproxy.cfg; its VIPs are inside the ranges; routes, API and certificate fine');
      const detail = found.map((f) => `${f.rule}: ${f.message}`).join('\n');
      const fix = found.map((f) => f.hint ?? `see ${f.rule} in docs/properties.md`).join('\n');
      return found.some((f) => f.severity === 'error') ? fail(detail, fix) : warn(detail, fix);
    },
  },
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
      // A pair's standby keeps no route on purpose (ovactl-ha.service): the active answers for the VIPs.
      const standby = f.read(HA_STANDBY_FILE) !== undefined;
      const want = standby ? [] : rangesOf(f).map(networkText);
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
      return ok(
        standby ? 'standby of a pair: no local route (the active has them)' : `${want.length} local route(s) on lo`,
      );
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
      if (parseHaReport(f.read(HA_STATE_FILE) ?? '')?.apiStopped)
        return ok("a pair's standby: stopped on purpose (the active's API takes the changes; it starts on takeover)");
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
  {
    id: 'pair',
    title: 'two appliances (when ha.address is set)',
    needs: 'live',
    run: (ctx, f) => {
      if (ctx.exec('systemctl', ['is-enabled', 'ovactl-ha.service']).stdout.trim() !== 'enabled')
        return ok('not a pair member (ha.address is not set)');
      const problems: string[] = [];
      for (const unit of ['keepalived.service', 'ovactl-ha.service']) {
        const active = ctx.exec('systemctl', ['is-active', unit]).stdout.trim();
        if (active !== 'active') problems.push(`${unit} is ${active || 'unknown'}`);
      }
      const s = parseHaReport(f.read(HA_STATE_FILE) ?? '');
      if (!s) problems.push(`${HA_STATE_FILE} is missing or not ovactl-ha's state: ovactl-ha.service has said nothing`);
      else {
        const holds = hasAddress(HA_NIC, s.address);
        if (holds !== (s.role === 'active'))
          problems.push(
            `ovactl-ha says ${s.role} but this appliance ${holds ? 'holds' : 'does not hold'} ${s.address}`,
          );
        const actives = [s.role, ...s.peers.map((p) => p.role)].filter((r) => r === 'active').length;
        if (actives === 0) problems.push(`no appliance of the pair holds ${s.address}: the Supervisor reaches no API`);
        if (actives > 1) problems.push(`${actives} appliances say they are active (split brain)`);
        for (const p of s.peers) if (p.error) problems.push(`peer ${p.address}: ${p.error}`);
        for (const p of s.problems) if (p.rule !== 'ha.peer-unreachable') problems.push(`${p.rule}: ${p.message}`);
      }
      if (problems.length || !s)
        return fail(
          problems.join('\n'),
          'ovactl ha status; journalctl -u ovactl-ha -u keepalived -n 30; the same values (and CA) on every ' +
            'appliance, VRRP (IP protocol 112) and TCP 5557 open between them',
        );
      const peers = s.peers.map((p) => `${p.address} ${p.role}`).join(', ');
      const follows = s.follows ? `, follows ${s.follows} (version ${s.version}, ${s.behind ?? '?'} behind)` : '';
      return ok(`${s.role}${follows}; peers: ${peers}; same values and CA (their status verified)`);
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
