// First boot's policy as data (src/plan/boot.ts), without running anything: which steps, in which
// order, for the ways a boot goes. And `ovactl render` prints the steps `ovactl firstboot` runs.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootPlan, type BootFacts } from '../src/plan/boot.js';
import { describeStep, type Step } from '../src/plan/steps.js';
import { statusJson, type Status } from '../src/plan/status.js';
import type { Report } from '../src/validate/validate.js';
import { error as errorFinding } from '../src/validate/finding.js';
import { check, ROOT, withImage } from './helpers/values.js';
import { runCli } from './helpers/cli.js';
import { FIRST_BOOT_FACTS } from './helpers/facts.js';

const NOW = new Date('2026-12-02T06:00:00Z');
const FACTS: BootFacts = { ...FIRST_BOOT_FACTS, now: NOW };
const SECRETS = { 'appliance.root_pwd': 'Root-Pw-Boot-1', 'loadbalance.haproxy_pwd': 'Api-Pw-Boot-1' };

const kinds = (steps: readonly Step[]): string[] => steps.map((s) => s.kind);
const systemctl = (steps: readonly Step[]): string[] =>
  steps.flatMap((s) => (s.kind === 'systemctl' ? [s.args.join(' ')] : []));
const statusOf = (steps: readonly Step[]): Status | undefined =>
  steps.flatMap((s) => (s.kind === 'write-status' ? [s.status] : []))[0];
const plan = (report: Report, facts: Partial<BootFacts> = {}) =>
  bootPlan({ report, version: 'test', facts: { ...FACTS, ...facts } });
const SERVING = { appliedAt: '2026-11-30T10:00:00.000Z', ranges: ['192.0.2.64/27'] };

t.test('new valid values: certificates, then the check (the gate), then the files; the record last', async (t) => {
  const report = await check(SECRETS);
  const b = plan(report);
  const k = kinds(b.steps);
  t.ok(k.indexOf('issue-certificates') < k.indexOf('check-haproxy'), 'the metrics crt exists for haproxy -c');
  t.ok(k.indexOf('check-haproxy') < k.indexOf('write-files'), 'nothing is written before the check');
  t.equal(k.at(-1), 'record-state', 'the state record is the last step');
  t.notOk(k.includes('restart-changed'), 'a first boot restarts nothing: the units start');
  t.ok(systemctl(b.steps).includes('restart --no-block ovactl-ready.service'), 'READY is the probe’s to say');
  t.equal(b.outcome.state, 'starting');
  t.equal(statusOf(b.steps)?.state, 'starting');
  t.notMatch(JSON.stringify(b.steps), /Pw-Boot/, 'no step holds a password');
  t.notMatch(b.steps.map(describeStep).join('\n'), /Pw-Boot/, 'nor does its description');
  const again = plan(report, { previous: { inputs: 'old-values', state: 'ready', serving: SERVING } });
  const ka = kinds(again.steps);
  t.ok(ka.includes('restart-changed') && ka.includes('reload-changed'), 'changed values: changed units restart');
});

t.test('metrics switched on while haproxy runs: the folder is bound into the running unit', async (t) => {
  const on = await check({ ...SECRETS, 'appliance.metrics_port': '9100' });
  const previous = { inputs: 'old-values', state: 'ready' as const, serving: SERVING };
  const bind = (b: ReturnType<typeof plan>) => b.steps.filter((s) => s.kind === 'bind-into-unit');
  t.same(bind(plan(on, { previous })), [
    {
      kind: 'bind-into-unit',
      unit: 'haproxy.service',
      source: '/run/ovactl/metrics',
      target: '/var/lib/haproxy/ovactl-metrics',
    },
  ]);
  t.same(bind(plan(on)), [], 'a first boot: haproxy starts with the folder there');
  const already = plan(on, { previous }).steps.find((s) => s.kind === 'write-files');
  const cfg =
    already?.kind === 'write-files' ? already.files.find((f) => f.path.endsWith('ovactl-metrics.cfg')) : undefined;
  t.same(bind(plan(on, { previous, currentMetricsConfig: cfg?.content })), [], 'on before: bound since its start');
});

t.test('haproxy -c failed (second plan): the management NIC only, the data plane down', async (t) => {
  const report = await check(SECRETS);
  const b = plan(report, { haproxyProblem: "[ALERT] parsing [haproxy.cfg:12] : unknown keyword 'bogus'" });
  const k = kinds(b.steps);
  t.notOk(k.includes('check-haproxy'), 'no second check');
  t.notOk(k.includes('issue-certificates'));
  const status = statusOf(b.steps)!;
  t.same(
    status.errors.map((e) => e.rule),
    ['haproxy.config-check'],
  );
  t.match(status.errors[0]!.message, /unknown keyword 'bogus'/);
  t.equal(status.dataPlaneStarted, false);
  t.ok(systemctl(b.steps).some((c) => /^stop --no-block anyip-routes\.service haproxy\.service/.test(c)));
  t.notOk(
    systemctl(b.steps).some((c) => c.startsWith('start') && c.includes('haproxy.service')),
    'haproxy is not started',
  );
  const restart = b.steps.find((s) => s.kind === 'restart-changed');
  t.notOk(restart, 'no previous state: nothing restarts');
  const served = plan(report, {
    haproxyProblem: 'x',
    previous: { inputs: 'old-values', state: 'ready', serving: SERVING },
  });
  t.same(
    kinds(served.steps),
    ['write-status', 'boot-metrics', 'note', 'converge-anyip', 'publish-guestinfo', 'record-state'],
    'a serving appliance keeps serving: only the status changes',
  );
  t.same(served.outcome, { state: 'error', changed: true, serving: true });
});

t.test('invalid values: kept serving when serving, else the management NIC or nothing', async (t) => {
  const bad = await check({ ...SECRETS, 'loadbalance.dataplane_port': '99999' });
  t.notOk(bad.valid);
  const served = plan(bad, { previous: { inputs: 'old-values', state: 'ready', serving: SERVING } });
  t.notOk(kinds(served.steps).includes('write-files'), 'no file of the running data plane is rewritten');
  t.notOk(kinds(served.steps).includes('systemctl'), 'no unit touched');
  t.same(statusOf(served.steps)?.serving, SERVING);
  const fresh = plan(bad);
  const files = fresh.steps.flatMap((s) => (s.kind === 'write-files' ? s.files.map((f) => f.path) : []));
  t.ok(files.includes('/etc/systemd/network/20-ovactl-management.network'), 'the management NIC is configured');
  t.notOk(files.includes('/etc/haproxy/haproxy.cfg'), 'haproxy is not');
  t.equal(statusOf(fresh.steps)?.managementConfigured, true);
  const nothing = await check({ ...SECRETS, 'network.management_ip': '192.0.2.300/24' });
  const none = plan(nothing);
  t.same(
    none.steps.flatMap((s) => (s.kind === 'write-files' ? s.files : [])),
    [],
    'no valid management values: no file',
  );
  t.equal(statusOf(none.steps)?.managementConfigured, false);
  t.equal(none.outcome.state, 'error');
});

t.test('the values applied before: the status starts again, nothing else is written', async (t) => {
  const report = await check(SECRETS);
  const probeFailed: Status = {
    state: 'error',
    version: 'test',
    deployment: 'default',
    errors: [errorFinding('dataplaneapi.not-answering', [], 'no answer', 'wait')],
    warnings: [],
    apiUrl: 'https://192.0.2.10:5556',
    ranges: [],
    managementConfigured: true,
  };
  const previous = { inputs: 'new-values', state: 'ready' as const, serving: SERVING };
  const b = plan(report, { previous, currentStatus: statusJson(probeFailed) });
  t.notOk(kinds(b.steps).includes('write-files'));
  t.notOk(kinds(b.steps).includes('record-state'), 'the record stands');
  const status = statusOf(b.steps)!;
  t.equal(status.state, 'starting', "the last boot's probe failure is dropped");
  t.same(status.errors, []);
  t.equal(b.outcome.state, 'starting');
  t.equal(b.outcome.changed, false);
  const other: Status = { ...probeFailed, errors: [errorFinding('haproxy.config-check', [], 'x', 'y')] };
  const stays = plan(report, { previous, currentStatus: statusJson(other) });
  t.equal(statusOf(stays.steps)?.state, 'error', 'another error is not the probe’s: it stays');
  t.notOk(
    systemctl(stays.steps).some((c) => c.includes('ovactl-ready')),
    'and READY is not probed',
  );
  const offline = plan(report, { previous, currentStatus: statusJson(probeFailed), live: false });
  t.notOk(kinds(offline.steps).includes('publish-guestinfo'), 'under --root nothing is published');
});

t.test('the image: no Data Plane API is an error; RHI without BIRD is one and starts no BIRD', async (t) => {
  const report = await check(SECRETS);
  const b = plan(report, { dataplaneapiInstalled: false, image: { dataplaneapi: 'none' } });
  const status = statusOf(b.steps)!;
  t.same(
    status.errors.map((e) => e.rule),
    ['dataplaneapi.missing'],
  );
  t.match(status.errors[0]!.message, /built with DATAPLANEAPI=none/);
  t.same(b.outcome, { state: 'error', changed: true, dataPlaneStarted: true });
});

const dir = mkdtempSync(join(tmpdir(), 'ovactl-bootplan-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('render prints the commands firstboot --root runs on the same tree', async (t) => {
  const env = join(ROOT, 'examples/ovf-env.xml');
  const rendered = runCli(['render', '--env', env, '--root', withImage(join(dir, 'render'))]);
  t.equal(rendered.code, 0, rendered.err);
  const booted = runCli(['firstboot', '--env', env, '--root', withImage(join(dir, 'boot'))]);
  t.equal(booted.code, 0, booted.err);
  const planned = [...rendered.out.matchAll(/^ +\d+\. (systemctl .*|chpasswd) ?.*$/gm)].map((m) => m[1]);
  const ran = [...booted.out.matchAll(/^would run: (systemctl .*|chpasswd)(?: \(stdin\))?$/gm)].map((m) => m[1]);
  t.ok(planned.length >= 4, rendered.out);
  t.same(ran, planned, 'the same commands, in the same order');
});
