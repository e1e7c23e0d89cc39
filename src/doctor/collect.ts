// `ovactl doctor --collect FILE`: a support bundle (tar.gz) of the configuration, the status, the
// routes, the units and their journals — with every secret and private key removed.
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { errnoError } from '../core/fs-error.js';
import { readRegularFile } from '../core/regular-file.js';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { STATE_FILE as RHI_STATE_FILE } from '../rhi/status.js';
import { RULES_FILE } from '../rhi/rules.js';
import { HA_STATE_FILE, KEEPALIVED_CONF } from '../appliance/ha.js';
import { BIRD_CONF } from '../rhi/bird.js';
import { scrub } from './scrub.js';
import type { Context } from './check.js';
import {
  DATAPLANEAPI_YAML,
  HAPROXY_CFG,
  ISSUE_FILE,
  NETWORK_DIR,
  RANGES_FILE,
  STATUS_FILE,
  SYSTEM_FILES,
  TLS_PATHS,
} from '../appliance/paths.js';

const FILES = [
  RANGES_FILE,
  HAPROXY_CFG,
  DATAPLANEAPI_YAML,
  TLS_PATHS.caCert,
  TLS_PATHS.serverCert,
  STATUS_FILE,
  ISSUE_FILE,
  BIRD_CONF,
  RULES_FILE,
  RHI_STATE_FILE,
  SYSTEM_FILES.hosts,
  SYSTEM_FILES.hostname,
  // Two appliances: keepalived's configuration and ovactl-ha's state (neither holds a secret).
  KEEPALIVED_CONF,
  HA_STATE_FILE,
];
const UNITS = [
  'ovactl-firstboot.service',
  'anyip-routes.service',
  'haproxy.service',
  'dataplaneapi.service',
  'bird.service',
  'ovactl-rhi.service',
  'systemd-networkd.service',
  'keepalived.service',
  'ovactl-ha.service',
];

export { scrub } from './scrub.js';

/**
 * Checks that the bundle can be written to `file` before anything is collected: throws the errno
 * error (EISDIR for a folder, ENOENT for a missing folder, EACCES/EROFS for one that cannot be written).
 */
export function checkBundlePath(file: string): void {
  const out = resolve(file);
  let exists = true;
  try {
    if (statSync(out).isDirectory()) throw errnoError('EISDIR', 'open', file, `${file} is a folder`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    exists = false;
  }
  const folder = dirname(out);
  if (!statSync(folder).isDirectory()) throw errnoError('ENOTDIR', 'open', folder, `${folder} is not a folder`);
  accessSync(exists ? out : folder, constants.W_OK);
}

export async function collect(ctx: Context, file: string, doctorJson: string): Promise<string[]> {
  const folder = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(folder).isDirectory();
  } catch {
    // missing
  }
  if (!isDir)
    throw new Error(`the folder ${folder} does not exist: give a path in an existing folder, e.g. /tmp/support.tar.gz`);
  const stage = mkdtempSync(join(tmpdir(), 'ovactl-collect-'));
  const notes: string[] = [];
  try {
    const put = (rel: string, text: string) => {
      const p = join(stage, 'bundle', rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, scrub(text), { mode: 0o600 });
    };
    let networks: string[] = [];
    try {
      networks = readdirSync(join(ctx.root, NETWORK_DIR))
        .filter((n) => /ovactl/.test(n))
        .map((n) => `${NETWORK_DIR}/${n}`);
    } catch {
      /* none */
    }
    for (const f of [...FILES, ...networks]) {
      if (/\.key$/.test(f)) continue; // never the private keys
      let text: string;
      const path = join(ctx.root, f);
      try {
        // Known files only, and only regular ones: a symlink or FIFO in their place is noted, not followed.
        if (!lstatSync(path).isFile()) {
          notes.push(`${f}: not a regular file, not collected`);
          continue;
        }
        text = readRegularFile(path);
      } catch {
        continue;
      }
      put(f.replace(/^\//, ''), text);
    }
    put('doctor.json', doctorJson);
    if (ctx.live) {
      const cmd = (name: string, c: string, args: string[]) => {
        const r = ctx.exec(c, args);
        put(
          `commands/${name}`,
          `$ ${c} ${args.join(' ')}\n# exit ${r.code}\n${r.stdout}${r.stderr ? `\n# stderr\n${r.stderr}` : ''}`,
        );
      };
      cmd('ip-route-local.json', 'ip', ['-json', 'route', 'show', 'table', 'local']);
      cmd('ip-route-all.txt', 'ip', ['route', 'show', 'table', 'all']);
      cmd('ip-rule.txt', 'ip', ['rule', 'show']);
      cmd('ip-addr.json', 'ip', ['-json', 'addr', 'show']);
      cmd('ss-ltn.txt', 'ss', ['-ltnH']);
      cmd('systemctl-status.txt', 'systemctl', ['status', '--no-pager', '-n', '0', ...UNITS]);
      for (const u of UNITS)
        cmd(`journal-${u.replace(/\.service$/, '')}.txt`, 'journalctl', ['-u', u, '-n', '200', '--no-pager']);
    } else notes.push('offline (--root): bundle holds the files only, no routes, units or journals');
    const out = resolve(file);
    // The bundle is 0600 from its first byte: created so (or truncated and chmod-ed if it existed)
    // before tar opens it, and tar runs under umask 077 as well.
    closeSync(openSync(out, 'w', 0o600));
    chmodSync(out, 0o600);
    const umask = process.umask(0o077);
    let tar: ReturnType<Context['exec']>;
    try {
      tar = ctx.exec('tar', ['-czf', out, '-C', stage, 'bundle']);
    } finally {
      process.umask(umask);
    }
    if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr.trim().split('\n')[0]}`);
    chmodSync(out, 0o600);
    return notes;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
