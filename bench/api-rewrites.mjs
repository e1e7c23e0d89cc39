// Re-applies of values that leave ovactl's haproxy.cfg sections meaning the same (a nameserver changed),
// over the file as the real Data Plane API left it (test/fixtures/dataplaneapi-rewrites/04, recorded
// from client-native v5.1.27's parser), with the API's stand-in (test/standin/dataplaneapi.cjs, test
// code) running and watching the file as the real one does. Per re-apply: haproxy reloads ovactl asks
// for, haproxy.cfg writes by ovactl, and version bumps seen by a client of the API once it has settled
// (ovactl's own and the API's re-read of a file with a stale md5). Goal: 0 reloads, 0 bumps.
// `node bench/api-rewrites.mjs [OTHER_CHECKOUT] [RE-APPLIES]`: this checkout and, given one, another
// built checkout (e.g. commit b483295, for before and after). Prints figures; asserts nothing.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const other = process.argv[2] && resolve(process.argv[2]);
const count = Number(process.argv[3] ?? 6);
if (other && !existsSync(join(other, 'dist/ovactl.js'))) {
  console.log('usage: node bench/api-rewrites.mjs [OTHER_CHECKOUT [RE-APPLIES]] (built: npm run build)');
  process.exit(2);
}
const STANDIN = join(here, 'test/standin/dataplaneapi.cjs');
const RECORDED = join(here, 'test/fixtures/dataplaneapi-rewrites/04-api-third-service-one-request-each.cfg');
const ENV_XML = readFileSync(join(here, 'examples/ovf-env.xml'), 'utf8');
const NAMESERVERS = /oe:key="network\.nameservers" oe:value="[^"]*"/;
const env = { ...process.env };
delete env.NODE_OPTIONS;
const scratch = mkdtempSync(join(tmpdir(), 'ovactl-api-rewrites-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RELOAD = /systemctl (try-reload-or-restart|reload|restart|try-restart) .*haproxy\.service/;

const envFile = (nameservers) => {
  const f = join(scratch, `ovf-env-${nameservers.replace(/\W/g, '_')}.xml`);
  writeFileSync(f, ENV_XML.replace(NAMESERVERS, `oe:key="network.nameservers" oe:value="${nameservers}"`));
  return f;
};

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function get(port, path) {
  return new Promise((resolveGet, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        headers: { Authorization: `Basic ${Buffer.from('bench:bench').toString('base64')}` },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolveGet(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** haproxy.cfg once the API has taken it: its md5 line matches the rest (or 3 s passed). */
async function settled(cfg) {
  const until = Date.now() + 3000;
  for (;;) {
    const [first, ...rest] = readFileSync(cfg, 'utf8').split('\n');
    const md5 = createHash('md5').update(rest.join('\n')).digest('hex');
    if (first === `# _md5hash=${md5}` || Date.now() > until) return;
    await sleep(20);
  }
}

async function measure(label, checkout) {
  const root = mkdtempSync(join(scratch, 'root-'));
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  copyFileSync(STANDIN, join(root, 'usr/local/bin/dataplaneapi'));
  chmodSync(join(root, 'usr/local/bin/dataplaneapi'), 0o755);
  const ovactl = (nameservers) =>
    spawnSync(
      process.execPath,
      [join(checkout, 'dist/ovactl.js'), 'firstboot', '--root', root, '--env', envFile(nameservers)],
      {
        encoding: 'utf8',
        env,
      },
    );
  const first = ovactl('192.0.2.53, 192.0.2.54');
  if (first.status !== 0) throw new Error(`${label}: first boot failed: ${first.stdout}${first.stderr}`);
  const cfg = join(root, 'etc/haproxy/haproxy.cfg');
  copyFileSync(RECORDED, cfg);

  const port = await freePort();
  const reloadsFile = join(root, 'api-reloads');
  writeFileSync(join(root, 'users.cfg'), 'userlist controller\n  user bench insecure-password bench\n');
  writeFileSync(join(root, 'reload.sh'), `#!/bin/sh\necho >> ${reloadsFile}\n`, { mode: 0o755 });
  const yaml = join(root, 'bench-dataplaneapi.yaml');
  writeFileSync(
    yaml,
    [
      'config_version: 2',
      'dataplaneapi:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      '  scheme:',
      '    - http',
      '  userlist:',
      `    userlist_file: ${join(root, 'users.cfg')}`,
      '  transaction:',
      `    transaction_dir: ${join(root, 'transactions')}`,
      'haproxy:',
      `  config_file: ${cfg}`,
      '  reload:',
      '    reload_delay: 1',
      `    reload_cmd: ${join(root, 'reload.sh')}`,
      '',
    ].join('\n'),
  );
  const api = spawn(process.execPath, [STANDIN, '-f', yaml], { stdio: 'ignore', env });
  try {
    for (let i = 0; ; i++) {
      try {
        await get(port, '/v2/info');
        break;
      } catch (e) {
        if (i > 150) throw e;
        await sleep(100);
      }
    }
    const version = () => get(port, '/v2/services/haproxy/configuration/version');
    const v0 = await version();
    let reloads = 0;
    let writes = 0;
    for (let i = 0; i < count; i++) {
      const r = ovactl(i % 2 === 0 ? '192.0.2.54' : '192.0.2.53, 192.0.2.54');
      if (r.status !== 0) throw new Error(`${label}: re-apply failed: ${r.stdout}${r.stderr}`);
      reloads += r.stdout.split('\n').filter((l) => RELOAD.test(l)).length;
      writes += r.stdout.split('\n').filter((l) => l === 'wrote /etc/haproxy/haproxy.cfg').length;
      await settled(cfg);
      await sleep(200);
    }
    const bumps = (await version()) - v0;
    const apiReloads = existsSync(reloadsFile) ? readFileSync(reloadsFile, 'utf8').split('\n').length - 1 : 0;
    const per = (n) => (n / count).toFixed(2);
    console.log(
      `${label}: per re-apply of unchanged-meaning values (${count} re-applies): ` +
        `haproxy reloads ${per(reloads + apiReloads)}, version bumps ${per(bumps)}, haproxy.cfg writes by ovactl ${per(writes)}`,
    );
  } finally {
    api.kill('SIGTERM');
  }
}

try {
  await measure('this checkout', here);
  if (other) await measure(`other (${other})`, other);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
