// ovactl doctor on running appliances (issue 7): Debian 13 with systemd in systemd-nspawn (test/helpers/rig/),
// ovactl installed with build/install.sh, route health injection on, peering with a BIRD router in
// the rig's host namespace. One appliance is made healthy, then broken on purpose one way at a time
// (and repaired); `ovactl doctor --json`, run inside it, must name each problem. A second appliance,
// booted with a VIP range with host bits, must show the failed first boot. `--collect` runs live and
// its bundle is grepped for every secret the appliance holds.
//
// The Data Plane API is not a Debian package; the rig gives the appliance a stand-in at its path
// (/usr/local/bin/dataplaneapi): openssl s_server on the address, port and certificate of
// dataplaneapi.yaml, so the listening and certificate checks meet a real TLS listener.
//
// Addresses are documentation ranges, used only inside the rig's own network namespaces.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootAppliance, waitFor, type Appliance, type BootOptions } from './helpers/rig/appliance.js';
import { ovfEnvXml } from './helpers/rig/ovf-env.js';
import { deployValues, MANAGEMENT_IP, WORKLOAD_GATEWAY, WORKLOAD_IP } from './helpers/rig/values.js';
import { rigSuite } from './helpers/rig/suite.js';

const ROUTER_IP = WORKLOAD_GATEWAY;
const VIP_RANGE = '198.51.100.64/26';
const VIP = '198.51.100.70';
const ROOT_PWD = 'Doctor-Root-Secret-4711';
const API_PWD = 'Doctor-Api-Secret-4711';

const VALUES = deployValues({
  'appliance.root_pwd': ROOT_PWD,
  'loadbalance.haproxy_pwd': API_PWD,
  'loadbalance.service_ip_range': VIP_RANGE,
  'rhi.enabled': 'True',
  'rhi.local_as': '65010',
  'rhi.peers': `${ROUTER_IP}:65001`,
});

const NETWORK: Pick<BootOptions, 'managementHost' | 'workloadHost' | 'client' | 'clientRoutes'> = {
  managementHost: '192.0.2.1/24',
  workloadHost: `${ROUTER_IP}/24`,
  client: '198.51.100.200/24',
  clientRoutes: [{ to: VIP_RANGE, via: WORKLOAD_IP }],
};

// What the control plane adds through the Data Plane API: a VIP frontend, its backend, and (for the
// test) the origin it serves, inside haproxy itself.
const VIP_FRONTEND = `
frontend fe_vip70
    mode http
    bind ${VIP}:80
    default_backend be_web

backend be_web
    mode http
    server origin 127.0.0.1:8081 check inter 1s

listen origin
    mode http
    bind 127.0.0.1:8081
    http-request return status 200 content-type text/plain string served-by-the-appliance
`;

interface DoctorCheck {
  id: string;
  title: string;
  verdict: 'ok' | 'fail' | 'warn' | 'skip';
  detail: string;
  fix?: string;
}
interface DoctorRun {
  code: number | null;
  ok: boolean;
  checks: Map<string, DoctorCheck>;
  raw: string;
}

async function doctor(a: Appliance, ...args: string[]): Promise<DoctorRun> {
  const r = await a.exec(['ovactl', 'doctor', '--json', ...args], { timeoutMs: 60_000 });
  let parsed: { ok: boolean; checks: DoctorCheck[] } = { ok: false, checks: [] };
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    /* raw shows it */
  }
  return {
    code: r.code,
    ok: parsed.ok,
    checks: new Map(parsed.checks.map((c) => [c.id, c])),
    raw: r.stdout + r.stderr,
  };
}

const isRun = (x: unknown): x is DoctorRun => typeof x === 'object' && x !== null && 'checks' in x;
const failing = (d: DoctorRun) => [...d.checks.values()].filter((c) => c.verdict === 'fail').map((c) => c.id);

async function sh(a: Appliance, script: string): Promise<string> {
  const r = await a.exec(['sh', '-c', script], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`in the appliance: ${script}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The router's view: BGP session state and the routes it learnt from the appliance. */
async function router(a: Appliance, socket: string, cmd: string): Promise<string> {
  return (await a.host(['birdc', '-s', socket, ...cmd.split(' ')])).stdout;
}

t.setTimeout(10 * 60_000);
const rig = await rigSuite(
  spawnSync('bird', ['--version']).status === 0
    ? undefined
    : 'bird2 is not installed on this machine (test/run.sh installs it)',
);
const skip = rig.skip;

t.before(() => {
  if (!skip) rig.ready();
});

t.test('a healthy appliance, then each failure made on purpose', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ovactl-doctor-live-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  const a = await bootAppliance({
    ...NETWORK,
    // The rig installs the Data Plane API's stand-in (test/standin): READY needs its /v2/info answer.
    ovfEnv: ovfEnvXml(VALUES),
  });
  t.teardown(() => a.stop());

  // The router: BIRD in the rig's host namespace, on the workload bridge (the appliance's peer).
  const socket = join(work, 'router.ctl');
  writeFileSync(
    join(work, 'router.conf'),
    [
      `router id ${ROUTER_IP};`,
      'protocol device {}',
      `protocol bgp appliance { local ${ROUTER_IP} as 65001; neighbor ${WORKLOAD_IP} as 65010; ipv4 { import all; export none; }; }`,
      '',
    ].join('\n'),
  );
  const startRouter = () =>
    a.hostSpawn(['bird', '-f', '-c', join(work, 'router.conf'), '-s', socket, '-P', join(work, 'router.pid')]);
  let routerProc = startRouter();

  // The control plane's frontend, added once first boot is done, as the Data Plane API would.
  await waitFor(
    async () => (await a.exec(['systemctl', 'is-active', 'haproxy.service'])).stdout.trim() === 'active' || undefined,
    90_000,
    {
      what: 'haproxy.service to be active',
      describe: () => a.diagnostics(),
    },
  );
  // Edited by hand with the API stopped: a running API takes a hand edit over (its file watcher) and, when
  // the reload it then runs fails, copies its last-known-good file back — the real API's behaviour, not
  // what these scenarios are about. It reads the file again when it starts.
  await sh(
    a,
    'systemctl stop dataplaneapi && ' +
      `cat >> /etc/haproxy/haproxy.cfg <<'CFG'\n${VIP_FRONTEND}CFG\nhaproxy -c -q -f /etc/haproxy/haproxy.cfg && systemctl reload haproxy`,
  );
  const cleanCfg = (await sh(a, 'cat /etc/haproxy/haproxy.cfg')).replace(/^# _md5hash=.*\n/m, '');
  await sh(a, 'systemctl start dataplaneapi');
  const handEdit = (script: string) => sh(a, `systemctl stop dataplaneapi && ${script}`);
  const restoreClean = () =>
    sh(a, `cat > /etc/haproxy/haproxy.cfg <<'CFG'\n${cleanCfg}CFG\nsystemctl start dataplaneapi`);

  const vipRange = '--vip-range=198.51.100.64-198.51.100.127';
  let last: DoctorRun | undefined;
  const healthy = await waitFor(
    async () => {
      last = await doctor(a, vipRange);
      // READY is ovactl-ready.service's to say, after first boot: until then the status is "starting".
      return last.code === 0 && !/^starting/.test(last.checks.get('status')?.detail ?? '') ? last : undefined;
    },
    120_000,
    {
      intervalMs: 1_000,
      what: 'doctor to find the appliance healthy',
      describe: async () => `${last?.raw}\n${await a.diagnostics()}`,
    },
  ).catch((e: Error) => e);
  if (healthy instanceof Error) {
    t.fail('the appliance becomes healthy', { error: healthy.message });
    return;
  }
  t.equal(healthy.ok, true, 'healthy: doctor exits 0 with "ok": true');
  // The one warning is the deploy values' own: with RHI the VIPs are reached by routing only, and this
  // rig's range lies in the workload network (its client routes to it, as routers would).
  t.same(
    [...healthy.checks.values()].filter((c) => c.verdict !== 'ok').map((c) => `${c.id} ${c.verdict}`),
    ['status warn'],
    "every check, live ones included, says ok (none skipped), but the status's warning",
  );
  t.match(
    healthy.checks.get('status')?.detail,
    /ready \(default deployment\), 1 warning\(s\):\nrhi\.vip-on-link/,
    'rhi.vip-on-link',
  );
  t.match(
    healthy.checks.get('kernel-routes')?.detail,
    /1 local route/,
    'kernel-routes: the one range is a local route',
  );
  t.match(
    healthy.checks.get('vips-serving')?.detail,
    new RegExp(`served: ${VIP.replace(/\./g, '\\.')}:80`),
    'vips-serving: the VIP frontend is listening',
  );
  t.match(
    healthy.checks.get('dataplane-listening')?.detail,
    `${MANAGEMENT_IP}:5556`,
    'dataplane-listening: the API listens on the management address',
  );
  t.match(
    healthy.checks.get('rhi')?.detail,
    /sessions established, 1\/1 rule\(s\) announced/,
    'rhi: BIRD up, session established, the VIP announced',
  );
  t.match(await router(a, socket, `show route ${VIP}/32`), `${VIP}/32`, 'and the router did learn the VIP route');
  const curl = await a.client(['curl', '-sS', '--max-time', '5', `http://${VIP}/`]);
  t.equal(curl.stdout, 'served-by-the-appliance', 'the client is served at the VIP', { err: curl.stderr });
  const text = await a.exec(['ovactl', 'doctor', vipRange]);
  t.equal(text.code, 0, 'the readable checklist exits 0 too');
  t.match(text.stdout, /✓ kernel local table holds exactly the ranges/, 'and shows ✓ lines');
  t.match(text.stdout, /all good/, 'and sums up "all good"');

  /** Break, check, repair, check healthy again. */
  const scenario = async (
    name: string,
    // break() may run doctor itself (at the right moment) and return its result.
    o: {
      break: () => Promise<unknown>;
      repair: () => Promise<unknown>;
      expect: (d: DoctorRun, t: Test) => void;
      args?: string[];
    },
  ) =>
    t.test(name, async (t) => {
      const early = await o.break();
      const d = isRun(early) ? early : await doctor(a, ...(o.args ?? [vipRange]));
      t.equal(d.code, 1, 'doctor exits 1', { failing: failing(d) });
      t.equal(d.ok, false, '"ok": false');
      o.expect(d, t);
      for (const c of d.checks.values())
        if (c.verdict === 'fail') t.ok(c.fix && c.fix.length > 10, `${c.id}: a fix is given`, { check: c });
      await o.repair();
      const again = await waitFor(
        async () => {
          const r = await doctor(a, vipRange);
          return r.code === 0 ? r : undefined;
        },
        60_000,
        {
          intervalMs: 500,
          what: `healthy again after "${name}"`,
          describe: async () =>
            JSON.stringify(
              [...(await doctor(a, vipRange)).checks.values()]
                .filter((c) => c.verdict === 'fail')
                .map((c) => `${c.id}: ${c.detail}`),
            ),
        },
      ).catch((e: Error) => e);
      t.notOk(
        again instanceof Error,
        'repaired: doctor exits 0 again',
        again instanceof Error ? { error: again.message } : {},
      );
    });

  await scenario('a VIP range route missing from the kernel', {
    // The watcher's periodic pass (every 60 s) repairs such drift: if it ran in between, try again.
    break: async () => {
      let d: DoctorRun | undefined;
      for (let i = 0; i < 3; i++) {
        await sh(a, `ip route del local ${VIP_RANGE} dev lo table local`);
        d = await doctor(a, vipRange);
        if (!(await sh(a, 'ip route show table local')).includes(VIP_RANGE)) break;
      }
      return d;
    },
    expect: (d, t) => {
      const k = d.checks.get('kernel-routes');
      t.equal(k?.verdict, 'fail', 'kernel-routes fails');
      t.match(k?.detail, `missing: ${VIP_RANGE}`, 'naming the missing range');
      t.match(k?.fix, /systemctl restart anyip-routes/, 'and the fix');
    },
    repair: () => sh(a, 'systemctl restart anyip-routes'),
  });
  await scenario('another host on the workload network answers for a VIP', {
    // The rig's host side (the router) takes the VIP too, as a squatter (a DHCP lease, an old
    // appliance left running) would: it answers ARP for it on the workload bridge.
    break: () => a.host(['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'brw']),
    expect: (d, t) => {
      const c = d.checks.get('duplicate-addresses');
      t.equal(c?.verdict, 'fail', 'duplicate-addresses fails');
      t.match(
        c?.detail,
        new RegExp(
          `${VIP.replace(/\./g, '\\.')} \\(VIP of frontend fe_vip70\\) is answered on workload by [0-9a-f:]{17}`,
          'i',
        ),
        'naming the VIP, the NIC and the MAC',
      );
    },
    repair: () => a.host(['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'brw']),
  });
  await scenario('anyip-routes stopped', {
    break: () => sh(a, 'systemctl stop anyip-routes'),
    expect: (d, t) => {
      const s = d.checks.get('anyip-service');
      t.equal(s?.verdict, 'fail', 'anyip-service fails');
      t.match(s?.detail, /anyip-routes\.service is enabled, inactive/, 'enabled but inactive');
      t.match(s?.detail, /last journal lines:/, 'with its last journal lines');
      t.equal(d.checks.get('kernel-routes')?.verdict, 'fail', 'and its routes are gone (ExecStopPost: anyip down)');
    },
    repair: () => sh(a, 'systemctl start anyip-routes'),
  });

  await scenario('a bad line in the ranges file', {
    break: () => sh(a, `printf '%s\\n' ${VIP_RANGE} 10.10.18.18/28 > /etc/vmware/anyip-routes.cfg`),
    expect: (d, t) => {
      const r = d.checks.get('ranges-file');
      t.equal(r?.verdict, 'fail', 'ranges-file fails');
      t.match(r?.detail, /line 2/, 'naming the line');
      t.match(r?.fix, /10\.10\.18\.16\/28/, 'and the aligned network');
    },
    repair: () => sh(a, `printf '%s\\n' ${VIP_RANGE} > /etc/vmware/anyip-routes.cfg`),
  });

  await scenario('a DHCP address inside a VIP range', {
    break: () => sh(a, 'ip addr add 198.51.100.90/24 dev workload valid_lft 600 preferred_lft 600'),
    expect: (d, t) => {
      const r = d.checks.get('ranges-vs-addresses');
      t.equal(r?.verdict, 'fail', 'ranges-vs-addresses fails');
      t.match(
        r?.detail,
        `${VIP_RANGE} contains 198.51.100.90 (workload DHCP address)`,
        'naming the range, the address and where it comes from',
      );
    },
    repair: () => sh(a, 'ip addr del 198.51.100.90/24 dev workload'),
  });

  await scenario('haproxy.cfg broken by an edit', {
    break: () =>
      handEdit(
        `printf 'frontend broken\\n    bind ${WORKLOAD_IP}:8443\\n    no-such-keyword here\\n' >> /etc/haproxy/haproxy.cfg`,
      ),
    expect: (d, t) => {
      const h = d.checks.get('haproxy');
      t.equal(h?.verdict, 'fail', 'haproxy fails');
      t.match(h?.detail, /haproxy -c:.*no-such-keyword/s, "with haproxy -c's own words");
    },
    repair: restoreClean,
  });

  await scenario('frontends configured but not reloaded, and one outside every range', {
    break: () =>
      handEdit(
        `printf 'frontend fe_vip72\\n    bind 198.51.100.72:80\\n    default_backend be_web\\nfrontend fe_stray\\n    bind 198.51.100.20:80\\n    default_backend be_web\\n' >> /etc/haproxy/haproxy.cfg`,
      ),
    expect: (d, t) => {
      const v = d.checks.get('vips-serving');
      t.equal(v?.verdict, 'fail', 'vips-serving fails');
      t.match(
        v?.detail,
        /configured but not listening: 198\.51\.100\.72:80 \(frontend fe_vip72\)/,
        'naming the VIP that answers ping but serves nothing',
      );
      const f = d.checks.get('frontends-in-ranges');
      t.equal(f?.verdict, 'fail', 'frontends-in-ranges fails');
      t.match(
        f?.detail,
        /frontend fe_stray binds 198\.51\.100\.20:80 \(haproxy\.cfg line \d+\), outside every VIP range/,
        'naming the frontend and its line',
      );
    },
    repair: restoreClean,
  });

  await scenario('haproxy stopped', {
    break: () => sh(a, 'systemctl stop haproxy'),
    expect: (d, t) => {
      t.match(d.checks.get('haproxy')?.detail, /haproxy\.service is enabled, inactive/, 'haproxy: enabled, inactive');
      t.equal(d.checks.get('vips-serving')?.verdict, 'fail', 'vips-serving: the VIP frontend does not listen');
    },
    repair: () => sh(a, 'systemctl start haproxy'),
  });

  await scenario('the Data Plane API down', {
    break: () => sh(a, 'systemctl stop dataplaneapi'),
    expect: (d, t) => {
      const c = d.checks.get('dataplane-listening');
      t.equal(c?.verdict, 'fail', 'dataplane-listening fails');
      t.match(c?.detail, `nothing listens on ${MANAGEMENT_IP}:5556`, 'naming the address and port');
      t.match(c?.detail, /dataplaneapi\.service is enabled, inactive/, 'and the unit');
    },
    repair: () => sh(a, 'systemctl start dataplaneapi'),
  });

  await scenario('the control plane range reaching past the AnyIP ranges', {
    args: ['--vip-range=198.51.100.60-198.51.100.130'],
    break: async () => undefined,
    expect: (d, t) => {
      const c = d.checks.get('vip-range');
      t.equal(c?.verdict, 'fail', 'vip-range fails');
      t.match(
        c?.detail,
        '198.51.100.60–198.51.100.63, 198.51.100.128–198.51.100.130 are outside every range',
        'naming the addresses outside',
      );
      t.same(failing(d), ['vip-range'], 'and nothing else');
    },
    repair: async () => undefined,
  });

  await scenario('the BGP session down (router stopped)', {
    break: async () => {
      a.stopBackground(routerProc);
      await waitFor(
        async () => (await doctor(a, vipRange)).checks.get('rhi')?.verdict === 'fail' || undefined,
        30_000,
        { intervalMs: 500, what: 'the session to drop' },
      );
    },
    expect: (d, t) => {
      const c = d.checks.get('rhi');
      t.equal(c?.verdict, 'fail', 'rhi fails');
      t.match(
        c?.detail,
        /BGP session \S+ is (Active|Connect|Idle|OpenSent|OpenConfirm)/,
        'naming the session and its state',
      );
    },
    repair: async () => {
      routerProc = startRouter();
    },
  });

  await scenario('BIRD stopped on the appliance', {
    break: () => sh(a, 'systemctl stop bird'),
    expect: (d, t) => {
      const c = d.checks.get('rhi');
      t.equal(c?.verdict, 'fail', 'rhi fails');
      t.match(c?.detail, /bird\.service is inactive/, 'bird.service inactive');
    },
    repair: () => sh(a, 'systemctl start bird'),
  });

  t.test('--collect, live: routes, units and journals in the bundle, no secret in it', async (t) => {
    const r = await a.exec(['ovactl', 'doctor', '--collect', '/root/support.tgz', vipRange], { timeoutMs: 60_000 });
    t.equal(r.code, 0, 'doctor --collect exits 0 on the healthy appliance', { err: r.stderr });
    t.match(r.stderr, /wrote support bundle \/root\/support\.tgz/, 'and says where the bundle is');
    t.notMatch(r.stderr, /offline/, 'with the live half (routes, units, journals)');
    const bundle = join(a.root, 'root/support.tgz');
    t.equal(statSync(bundle).mode & 0o777, 0o600, 'the bundle is readable by root only');
    const out = join(work, 'bundle');
    mkdirSync(out);
    const x = spawnSync('tar', ['-xzf', bundle, '-C', out], { encoding: 'utf8' });
    t.equal(x.status, 0, 'the bundle is a tar.gz', { err: x.stderr });
    const files = (readdirSync(join(out, 'bundle'), { recursive: true }) as string[])
      .map((f) => join(out, 'bundle', f))
      .filter((f) => statSync(f).isFile());
    const all = files.map((f) => ({ f, text: readFileSync(f, 'utf8') }));
    const get = (rel: string) => all.find((x) => x.f.endsWith(rel))?.text ?? '';
    t.match(get('commands/ip-route-local.json'), VIP_RANGE.split('/')[0]!, 'the kernel local table, with the range');
    t.match(get('commands/ss-ltn.txt'), `${VIP}:80`, 'the listening sockets, with the VIP frontend');
    t.match(get('commands/systemctl-status.txt'), /anyip-routes\.service/, "the units' status");
    t.match(get('commands/journal-ovactl-firstboot.txt'), /ovactl/, "first boot's journal");
    t.match(get('commands/journal-anyip-routes.txt'), /anyip/, "anyip-routes' journal");
    t.match(get('etc/haproxy/haproxy.cfg'), 'fe_vip70', 'the live haproxy.cfg');
    t.match(get('doctor.json'), /"ok":true/, "and doctor's own verdict");

    // Every secret the appliance holds, read from its disk: none may be in the bundle.
    const disk = (p: string) => {
      try {
        return readFileSync(join(a.root, p), 'utf8');
      } catch {
        return '';
      }
    };
    const keyLine = (pem: string) => pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l))[1];
    const secrets: [string, string | undefined][] = [
      ['the root password', ROOT_PWD],
      ['the Data Plane API password', API_PWD],
      [
        "the API user's hash in its users file",
        /^\s*user \S+ password (\S+)/m.exec(disk('etc/haproxy/dataplaneapi-users.cfg'))?.[1],
      ],
      ["root's hash in /etc/shadow", /^root:([^:]{20,}):/m.exec(disk('etc/shadow'))?.[1]],
      ['a line of server.key', keyLine(disk('etc/haproxy/server.key'))],
      ['a line of ca.key', keyLine(disk('etc/haproxy/ca.key'))],
      [
        'a line of the SSH host key',
        keyLine(disk('etc/ssh/ssh_host_ed25519_key')) ?? disk('etc/ssh/ssh_host_ed25519_key').split('\n')[1],
      ],
    ];
    for (const [what, value] of secrets) {
      if (!value) {
        t.comment(`${what}: not on this appliance`);
        continue;
      }
      const hits = all.filter((x) => x.text.includes(value)).map((x) => x.f.slice(out.length + 1));
      t.same(hits, [], `${what} is in no file of the bundle`);
    }
    t.ok(
      secrets.filter(([, v]) => v).length >= 5,
      'at least the passwords, the hashes and the TLS key were looked for',
    );
    t.notMatch(all.map((x) => x.text).join('\n'), /PRIVATE KEY-----\n[A-Za-z0-9+/]/, 'no private key block');
  });
  t.end();
});

t.test(
  'a failed first boot (a VIP range with host bits): doctor shows the findings and the fix',
  { skip },
  async (t) => {
    const bad = '10.10.18.18/28';
    const a = await bootAppliance({
      ...NETWORK,
      ovfEnv: ovfEnvXml({ ...VALUES, 'rhi.enabled': 'False', 'loadbalance.service_ip_range': bad }),
    });
    t.teardown(() => a.stop());
    await waitFor(
      async () => (await a.exec(['test', '-s', '/var/lib/ovactl/status.json'])).code === 0 || undefined,
      90_000,
      {
        what: 'the first-boot status',
        describe: () => a.diagnostics(),
      },
    );
    const d = await doctor(a);
    t.equal(d.code, 1, 'doctor exits 1', { raw: d.raw });
    const s = d.checks.get('status');
    t.equal(s?.verdict, 'fail', 'status fails');
    t.match(s?.detail, /state error/, 'state error');
    t.match(s?.detail, /vip\.host-bits/, 'the finding names the rule');
    t.match(s?.detail, bad, 'and the value');
    t.match(s?.fix, /10\.10\.18\.16\/28/, 'the fix gives the aligned network');
    t.match(s?.fix, /vApp options and reboot/, 'and how to apply it');
    t.equal(d.checks.get('anyip-service')?.verdict, 'fail', 'anyip-routes is not running');
    t.equal(d.checks.get('haproxy')?.verdict, 'fail', 'haproxy is not running');
    t.equal(d.checks.get('rhi')?.detail, 'not enabled', 'RHI: not enabled');
    const text = await a.exec(['ovactl', 'doctor']);
    t.match(text.stdout, /✗ first-boot status/, 'the checklist marks the status ✗');
    t.match(text.stdout, /problem\(s\) found/, 'and sums up the problems');
  },
);
