// Log forwarding (appliance.syslog_server, issue 17): the validation rules, the plan on and off,
// Debian's rsyslogd -N1 over the rendered drop-in, and a real rsyslogd running it that forwards to a
// receiver (test/helpers/syslog-receiver.mjs) in a network namespace of this test, over udp, tcp and tls.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plan } from '../src/plan/plan.js';
import type { Facts, Plan } from '../src/plan/types.js';
import { PLAN_FACTS } from './helpers/facts.js';
import { SYSLOG_CA_FILE, SYSLOG_FORWARD_CONF, SYSTEM_CA_BUNDLE } from '../src/appliance/syslog.js';
import { validateDocument } from '../src/validate/validate.js';
import { check, doc, ROOT, rulesOf, valuesOf, withValues } from './helpers/values.js';
import { Netns, sleep } from './helpers/netns.js';
import { firstUnmet, isRoot, skipUnless } from './helpers/root.js';

// An image without the Data Plane API and BIRD: only rsyslog matters here.
const FACTS: Facts = { ...PLAN_FACTS, dataplaneapiInstalled: false, birdInstalled: false };
const HOSTNAME = 'lb1.example.test';
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-syslog-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

async function planFor(values: Record<string, string>, facts: Facts = FACTS): Promise<Plan> {
  const all = withValues({ 'network.hostname': HOSTNAME, ...values });
  const report = await validateDocument(await doc(JSON.stringify(all)));
  if (report.errors.length) throw new Error(report.errors.map((e) => e.message).join('; '));
  return plan({ properties: valuesOf(report), deployment: report.deployment, facts, scope: 'full' });
}
const dropIn = (p: Plan): string => p.files.find((f) => f.path === SYSLOG_FORWARD_CONF)!.content;
const rsyslogActions = (p: Plan) => p.actions.filter((a) => JSON.stringify(a).includes('rsyslog'));

t.test('validation: scheme, host and port; tls by IP address is a warning', async (t) => {
  const cases: [string, string[]][] = [
    ['udp://192.0.2.50:514', []],
    ['tcp://logs.example.com', []],
    ['TLS://logs.example.com:6514', []],
    ['udp://[2001:db8::5]:1514', []],
    ['tls://192.0.2.50:6514', ['syslog.tls-ip']],
    ['logs.example.com:514', ['syslog.scheme']],
    ['http://logs.example.com', ['syslog.scheme']],
    ['udp://', ['syslog.host']],
    ['udp://logs_example.com:514', ['syslog.host']],
    ['udp://[logs.example.com]:514', ['syslog.host']],
    ['tcp://logs.example.com:0', ['syslog.port']],
    ['tcp://logs.example.com:65536', ['syslog.port']],
    ['tcp://logs.example.com:syslog', ['syslog.port']],
  ];
  for (const [value, want] of cases) {
    const r = await check({ 'appliance.syslog_server': value });
    t.same(
      rulesOf(r).filter((x) => x.startsWith('syslog.')),
      want,
      value,
    );
    for (const f of [...r.errors, ...r.warnings].filter((f) => f.rule.startsWith('syslog.'))) {
      t.match(f.message, /^appliance\.syslog_server = "/, 'the finding names the property and the value');
      t.notMatch(f.message, /\n/, 'one line');
    }
  }
  const blank = rulesOf(await check({ 'appliance.syslog_server': '' }));
  t.same(
    blank.filter((x) => x.startsWith('syslog.')),
    [],
    'blank: off',
  );
});

t.test('plan: set → rsyslog on, the drop-in forwards; blank → rsyslog off, the drop-in empty', async (t) => {
  const on = await planFor({ 'appliance.syslog_server': 'tcp://192.0.2.50:1514' });
  t.same(rsyslogActions(on), [{ kind: 'enable-start', unit: 'rsyslog.service' }]);
  t.same(on.files.find((f) => f.path === SYSLOG_FORWARD_CONF)!.restarts, ['rsyslog.service']);
  t.match(dropIn(on), /target="192\.0\.2\.50" port="1514"\s+protocol="tcp" template="RSYSLOG_SyslogProtocol23Format"/);
  t.match(dropIn(on), /global\(localHostname="lb1\.example\.test"\)/, "the appliance's host name in every line");
  t.match(dropIn(on), /"haproxy\.service",\n\s+"dataplaneapi\.service"/, 'the units whose journal is forwarded');
  t.notMatch(dropIn(on), /StreamDriver/, 'no TLS over tcp://');

  const off = await planFor({});
  t.same(rsyslogActions(off), [{ kind: 'disable-stop', units: ['rsyslog.service'] }]);
  t.notMatch(dropIn(off), /^[^#\n]/m, 'only comments: nothing forwarded when cleared');
  t.same(off.files.find((f) => f.path === SYSLOG_FORWARD_CONF)!.restarts, []);
  const noRsyslog = await planFor(
    { 'appliance.syslog_server': 'udp://192.0.2.50' },
    { ...FACTS, rsyslogInstalled: false },
  );
  t.same(rsyslogActions(noRsyslog), [], 'no systemctl of a unit that is not installed');

  const tls = await planFor({ 'appliance.syslog_server': 'tls://logs.example.test' });
  t.match(dropIn(tls), /port="6514"/, 'tls defaults to 6514');
  t.match(dropIn(tls), /StreamDriverAuthMode="x509\/name"\s+StreamDriverPermittedPeers="logs\.example\.test"/);
  t.match(dropIn(tls), `StreamDriver.CAFile="${SYSTEM_CA_BUNDLE}"`, "no given CA: Debian's bundle");
  t.notOk(tls.files.some((f) => f.path === SYSLOG_CA_FILE));
});

// ── real rsyslogd ───────────────────────────────────────────────────────────────────────────
const haveRsyslog = existsSync('/usr/sbin/rsyslogd');
const haveGtls = existsSync('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so');
const NO_RSYSLOG = 'rsyslogd is not installed (test/run.sh installs rsyslog)';

const openssl = (...args: string[]) => {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
};
/** A CA, and a server certificate for `name` signed by it (openssl, EC P-256). */
function makeCerts(dir: string, name: string) {
  mkdirSync(dir, { recursive: true });
  const f = (x: string) => join(dir, x);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=syslog test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  openssl('req', ...ec, '-subj', `/CN=${name}`, '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('ext'), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext'),
    '-out',
    f('server.crt'),
  );
  const ca = readFileSync(f('ca.crt'), 'utf8'),
    caKey = readFileSync(f('ca.key'), 'utf8');
  return { ca, caKey, cert: f('server.crt'), key: f('server.key') };
}

/** Debian's rsyslog.conf and haproxy's 49-haproxy.conf, with ours, in a folder: what the appliance loads. */
function debianConfig(dir: string, ours: string): string {
  mkdirSync(join(dir, 'rsyslog.d'), { recursive: true });
  const main = join(dir, 'rsyslog.conf');
  writeFileSync(main, readFileSync('/etc/rsyslog.conf', 'utf8').replaceAll('/etc/rsyslog.d/', `${dir}/rsyslog.d/`));
  const haproxy = '/etc/rsyslog.d/49-haproxy.conf';
  if (existsSync(haproxy)) writeFileSync(join(dir, 'rsyslog.d/49-haproxy.conf'), readFileSync(haproxy));
  writeFileSync(join(dir, 'rsyslog.d/40-ovactl-forward.conf'), ours);
  return main;
}
const validate = (conf: string) => spawnSync('rsyslogd', ['-N1', '-f', conf], { encoding: 'utf8' });

const skipN1 = skipUnless(
  firstUnmet([
    [haveRsyslog, NO_RSYSLOG],
    [existsSync('/etc/rsyslog.conf'), 'no /etc/rsyslog.conf'],
  ]),
);
t.test(
  "rsyslogd -N1 accepts the drop-in with Debian's rsyslog.conf and 49-haproxy.conf",
  { skip: skipN1 },
  async (t) => {
    const tls = haveGtls ? ['tls://logs.example.test:6514'] : [];
    const values = ['udp://192.0.2.50', 'tcp://[2001:db8::5]:1514', ...tls, ''];
    for (const [i, v] of values.entries()) {
      const r = validate(
        debianConfig(join(scratch, `n1-${i}`), dropIn(await planFor({ 'appliance.syslog_server': v }))),
      );
      t.equal(r.status, 0, `rsyslogd -N1: ${v || '(off)'}`, { output: r.stdout + r.stderr });
    }
    // The check bites: a misspelt action parameter is refused.
    const good = dropIn(await planFor({ 'appliance.syslog_server': 'udp://192.0.2.50' }));
    const bad = good.replace('protocol=', 'protocoll=');
    t.not(validate(debianConfig(join(scratch, 'n1-bad'), bad)).status, 0, 'a broken drop-in fails rsyslogd -N1');
  },
);

const skipNs = skipUnless(
  firstUnmet([
    [haveRsyslog, NO_RSYSLOG],
    [isRoot, 'needs root (network namespaces)'],
  ]),
);
const SENDER = '10.217.17.1',
  RECEIVER = '10.217.17.2',
  LOG_HOST = 'logs.example.test';

t.test(
  'a real rsyslogd forwards RFC 5424 lines with the host name to a receiver in a namespace',
  { skip: skipNs },
  async (t) => {
    // Two namespaces joined by a veth pair: the appliance's (the sender) and the log server's.
    const app = Netns.create(t, 'syslog-app');
    const logs = Netns.create(t, 'syslog-srv');
    app.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', logs.name);
    app.ip('addr', 'add', `${SENDER}/24`, 'dev', 'eth0');
    app.ip('link', 'set', 'eth0', 'up');
    logs.ip('addr', 'add', `${RECEIVER}/24`, 'dev', 'eth0');
    logs.ip('link', 'set', 'eth0', 'up');
    // The log server's name, for the sender only: ip netns exec binds /etc/netns/NS/hosts on /etc/hosts.
    const etc = join('/etc/netns', app.name);
    mkdirSync(etc, { recursive: true });
    t.teardown(() => rmSync(etc, { recursive: true, force: true }));
    writeFileSync(join(etc, 'hosts'), `127.0.0.1 localhost\n${RECEIVER} ${LOG_HOST}\n`);

    const certs = makeCerts(join(scratch, 'certs'), LOG_HOST);
    const node = ['/usr/bin/env', '-u', 'NODE_OPTIONS', process.execPath];
    const receiver = logs.spawn([
      ...node,
      join(ROOT, 'test/helpers/syslog-receiver.mjs'),
      RECEIVER,
      certs.cert,
      certs.key,
    ]);
    t.ok(await receiver.waitFor(/"listening":true/, 10_000), 'the receiver listens', { err: receiver.err });

    const servers: [string, Record<string, string>][] = [
      ['udp', { 'appliance.syslog_server': `udp://${RECEIVER}:514` }],
      ['tcp', { 'appliance.syslog_server': `tcp://${RECEIVER}` }],
    ];
    const tlsValues = (ca: { ca: string; caKey: string }) => ({
      'appliance.syslog_server': `tls://${LOG_HOST}`,
      'appliance.ca_cert': ca.ca,
      'appliance.ca_cert_key': ca.caKey,
    });
    // The same tls:// server, but the CA given is another one: rsyslog must refuse the certificate.
    const other = makeCerts(join(scratch, 'other-ca'), LOG_HOST);
    if (haveGtls) servers.push(['tls', tlsValues(certs)], ['tls-untrusted', tlsValues(other)]);
    if (!haveGtls) t.comment('rsyslog-gnutls is not installed (test/run.sh installs it): tls not run');
    for (const [proto, values] of servers) {
      await t.test(proto, async (t) => {
        const p = await planFor(values);
        const dir = join(scratch, `run-${proto}`);
        mkdirSync(join(dir, 'spool'), { recursive: true });
        // The plan's CA file, where the drop-in expects it (the appliance path rewritten into the scratch folder).
        const ca = p.files.find((f) => f.path === SYSLOG_CA_FILE);
        if (proto.startsWith('tls')) t.ok(ca, 'the given CA is written for rsyslog');
        if (ca) writeFileSync(join(dir, 'syslog-ca.crt'), ca.content);
        writeFileSync(join(dir, 'forward.conf'), dropIn(p).replaceAll(SYSLOG_CA_FILE, join(dir, 'syslog-ca.crt')));
        // Test harness: rsyslog's own folders, and one imuxsock socket standing in for the one
        // 49-haproxy.conf adds in haproxy's chroot (haproxy.cfg: log /dev/log); the drop-in as rendered.
        const sock = join(dir, 'dev-log');
        writeFileSync(
          join(dir, 'rsyslog.conf'),
          [
            `global(workDirectory="${dir}/spool")`,
            'module(load="imuxsock" SysSock.Use="off")',
            `input(type="imuxsock" Socket="${sock}")`,
            `include(file="${dir}/forward.conf")`,
            '',
          ].join('\n'),
        );
        const rsyslogd = app.spawn([
          'rsyslogd',
          '-n',
          '-f',
          join(dir, 'rsyslog.conf'),
          '-i',
          join(dir, 'rsyslogd.pid'),
        ]);
        t.teardown(() => rsyslogd.stop());
        for (let i = 0; i < 500 && !existsSync(sock) && rsyslogd.alive(); i++) await sleep(10);
        t.ok(existsSync(sock), 'rsyslogd runs the rendered drop-in', { err: rsyslogd.err });

        const mark = `ovactl-syslog-${proto}-${process.pid}`;
        if (proto === 'tls-untrusted') {
          const errors = receiver.err.length;
          t.equal(app.exec(['logger', '-u', sock, '-t', 'haproxy', `${mark} refused`]).status, 0, 'logger');
          // TLS 1.3: the server's side of the handshake completes before the client checks the certificate.
          const hungUp = /tls connection\ntls handshake done\ntls connection closed/;
          const closed = () => hungUp.test(receiver.err.slice(errors));
          for (let i = 0; i < 2000 && !closed(); i++) await sleep(10);
          t.ok(closed(), 'rsyslog connects, gets the certificate and hangs up', { err: receiver.err.slice(errors) });
          t.notOk(receiver.out.includes(mark), 'nothing is delivered to an unverified server');
          await rsyslogd.stop();
          return;
        }
        const logger = (tag: string, prio: string, msg: string) =>
          t.equal(
            app.exec(['logger', '-u', sock, '--id=4242', '-t', tag, '-p', prio, msg]).status,
            0,
            `logger -t ${tag}`,
          );
        logger('haproxy', 'local0.info', `${mark} 192.0.2.77:40000 [frontend] GET /`);
        logger('sshd', 'auth.info', `${mark} not forwarded`);
        logger('haproxy', 'local0.notice', `${mark} last`);
        const lastSeen = new RegExp(`${mark} last`);
        t.ok(await receiver.waitFor(lastSeen, 20_000), `the receiver got the ${proto} lines`, {
          err: rsyslogd.err + receiver.err,
        });
        const got = receiver.out
          .split('\n')
          .filter((l) => l.includes(mark))
          .map((l) => JSON.parse(l) as { proto: string; msg: string });
        const framing = proto === 'udp' ? '' : ' (octet-counted)';
        t.same(
          got.map((g) => g.proto),
          [proto, proto],
          `haproxy's two lines, over ${proto}${framing}`,
        );
        // RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG; local0.info = 16*8+6. (rsyslog's
        // MSG keeps the space that followed "haproxy[4242]:", as RSYSLOG_SyslogProtocol23Format always does.)
        const host = HOSTNAME.replaceAll('.', '\\.');
        const time = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+[+-]\\d\\d:\\d\\d';
        const rfc5424 = new RegExp(`^<134>1 ${time} ${host} haproxy 4242 - - ? ?${mark} 192`);
        t.match(got[0]?.msg, rfc5424, "RFC 5424 with the appliance's host name and haproxy as APP-NAME");
        t.notOk(receiver.out.includes(`${mark} not forwarded`), "other programs' lines are not forwarded");
        await rsyslogd.stop();
      });
    }
  },
);
