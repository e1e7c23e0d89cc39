// `ovactl doctor --collect FILE`: a support bundle (tar.gz) of the configuration, the status, the
// routes, the units and their journals — with every secret and private key removed.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { RANGES_FILE } from '../anyip/ranges-file.js';
import { ISSUE_FILE, STATUS_FILE } from '../apply/status.js';
import { STATE_FILE as RHI_STATE_FILE } from '../rhi/status.js';
import { RULES_FILE } from '../rhi/rules.js';
import { BIRD_CONF } from '../rhi/bird.js';
import { CA_CRT, DATAPLANE_YAML, HAPROXY_CFG, NETWORK_DIR, SERVER_CRT, type Context } from './checks.js';

const FILES = [RANGES_FILE, HAPROXY_CFG, DATAPLANE_YAML, CA_CRT, SERVER_CRT, STATUS_FILE, ISSUE_FILE, BIRD_CONF, RULES_FILE, RHI_STATE_FILE, '/etc/hosts', '/etc/hostname'];
const UNITS = ['ovactl-firstboot.service', 'anyip-routes.service', 'haproxy.service', 'dataplaneapi.service', 'bird.service', 'ovactl-rhi.service', 'systemd-networkd.service'];

/**
 * Secrets out of any text: private keys, crypt(3) hashes, the haproxy userlist's passwords, and
 * `password`/`secret`/`token` values in YAML, JSON, BIRD and key=value forms.
 */
export function scrub(text: string): string {
  return text
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[private key removed]')
    .replace(/\b((?:insecure-)?password)(\s+)\S+/gi, '$1$2[removed]')
    .replace(/("?[\w.-]*(?:password|passwd|pwd|secret|token)[\w.-]*"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}]+)/gi, '$1"[removed]"')
    .replace(/\$(?:1|2[aby]?|5|6|y|gy|7)\$[^\s:"']+/g, '[hash removed]');
}

export async function collect(ctx: Context, file: string, doctorJson: string): Promise<string[]> {
  const folder = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(folder).isDirectory();
  } catch {
    // missing
  }
  if (!isDir) throw new Error(`the folder ${folder} does not exist: give a path in an existing folder, e.g. /tmp/support.tar.gz`);
  const stage = mkdtempSync(join(tmpdir(), 'ovactl-collect-'));
  const notes: string[] = [];
  try {
    const put = (rel: string, text: string) => {
      const p = join(stage, 'bundle', rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, scrub(text));
    };
    let networks: string[] = [];
    try { networks = readdirSync(join(ctx.root, NETWORK_DIR)).filter((n) => /ovactl/.test(n)).map((n) => `${NETWORK_DIR}/${n}`); } catch { /* none */ }
    for (const f of [...FILES, ...networks]) {
      if (/\.key$/.test(f)) continue; // never the private keys
      let text: string;
      try { text = readFileSync(join(ctx.root, f), 'utf8'); } catch { continue; }
      put(f.replace(/^\//, ''), text);
    }
    put('doctor.json', doctorJson);
    if (ctx.live) {
      const cmd = (name: string, c: string, args: string[]) => {
        const r = ctx.exec(c, args);
        put(`commands/${name}`, `$ ${c} ${args.join(' ')}\n# exit ${r.code}\n${r.stdout}${r.stderr ? `\n# stderr\n${r.stderr}` : ''}`);
      };
      cmd('ip-route-local.json', 'ip', ['-json', 'route', 'show', 'table', 'local']);
      cmd('ip-route-all.txt', 'ip', ['route', 'show', 'table', 'all']);
      cmd('ip-rule.txt', 'ip', ['rule', 'show']);
      cmd('ip-addr.json', 'ip', ['-json', 'addr', 'show']);
      cmd('ss-ltn.txt', 'ss', ['-ltnH']);
      cmd('systemctl-status.txt', 'systemctl', ['status', '--no-pager', '-n', '0', ...UNITS]);
      for (const u of UNITS) cmd(`journal-${u.replace(/\.service$/, '')}.txt`, 'journalctl', ['-u', u, '-n', '200', '--no-pager']);
    } else notes.push('offline (--root): bundle holds the files only, no routes, units or journals');
    const out = resolve(file);
    const tar = ctx.exec('tar', ['-czf', out, '-C', stage, 'bundle']);
    if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr.trim()}`);
    chmodSync(out, 0o600);
    return notes;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
