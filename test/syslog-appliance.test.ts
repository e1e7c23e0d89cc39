// Log forwarding in the appliance (appliance.syslog_server, issue 17), the nspawn rig with real
// systemd, journald and Debian's rsyslog: first boot enables rsyslog with the drop-in, and the journal
// lines of the appliance's units reach a syslog receiver (test/helpers/syslog-receiver.mjs) on the
// management network as RFC 5424 with network.hostname; a unit outside the list is not forwarded.
import t from 'tap';
import { rigSuite } from './helpers/rig/suite.js';
import { bootAppliance, REPO, waitFor } from './helpers/rig/appliance.js';
import { ovfEnvXml } from './helpers/rig/ovf-env.js';
import { deployValues } from './helpers/rig/values.js';

const LOG_SERVER = '192.0.2.1';
const VALUES = deployValues({ 'appliance.syslog_server': `udp://${LOG_SERVER}:514` });
const HOSTNAME = VALUES['network.hostname']!;

t.setTimeout(8 * 60_000);
const rig = await rigSuite();
const skip = rig.skip;

t.test("the appliance's journal reaches the log server; other units' lines do not", { skip }, async (t) => {
  rig.ready();
  const a = await bootAppliance({
    managementHost: `${LOG_SERVER}/24`,
    workloadHost: '198.51.100.1/24',
    client: '198.51.100.200/24',
    ovfEnv: ovfEnvXml(VALUES),
    dataplaneapi: 'standin',
  });
  t.teardown(() => a.stop());
  const receiver = a.hostSpawn([
    '/usr/bin/env',
    '-u',
    'NODE_OPTIONS',
    process.execPath,
    `${REPO}test/helpers/syslog-receiver.mjs`,
    LOG_SERVER,
  ]);
  t.teardown(() => a.stopBackground(receiver));
  const got: { proto: string; msg: string }[] = [];
  let listening = false;
  let buf = '';
  receiver.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const o = JSON.parse(line) as { listening?: boolean; proto?: string; msg?: string };
      if (o.listening) listening = true;
      else if (o.msg !== undefined) got.push({ proto: o.proto ?? '', msg: o.msg });
    }
  });
  await waitFor(() => (listening ? true : undefined), 10_000, { what: 'the receiver to listen' });
  await waitFor(
    async () => ((await a.unit('rsyslog.service', ['ActiveState'])).ActiveState === 'active' ? true : undefined),
    90_000,
    { what: 'rsyslog, started by first boot', describe: () => a.diagnostics() },
  );

  // Not one of the appliance's units: kept out. Then a boot's worth of ovactl-firstboot lines, after it.
  await a.exec(['systemd-run', '--unit=ovactl-test-other', '--wait', '--quiet', 'echo', 'not-for-the-log-server']);
  t.equal((await a.exec(['systemctl', 'restart', 'ovactl-firstboot.service'], { timeoutMs: 120_000 })).code, 0);
  const line = await waitFor(() => got.find((m) => m.msg.includes('no changes: the deploy values')), 60_000, {
    what: "first boot's journal line at the log server",
    describe: async () => `${JSON.stringify(got.slice(-10))}\n${await a.diagnostics()}`,
  }).catch(() => undefined);
  t.ok(line, "ovactl-firstboot's journal line arrived");
  t.equal(line?.proto, 'udp');
  // RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID …
  t.match(line?.msg ?? '', new RegExp(`^<\\d+>1 \\S+ ${HOSTNAME.replace(/\./g, '\\.')} ovactl `), 'RFC 5424, named');
  const other = await a.exec(['journalctl', '-u', 'ovactl-test-other', '--no-pager', '-o', 'cat']);
  t.match(other.stdout, /not-for-the-log-server/, 'the other unit did log it (to the journal)');
  t.notOk(
    got.some((m) => m.msg.includes('not-for-the-log-server')),
    'a unit outside the list is not forwarded',
  );
});
