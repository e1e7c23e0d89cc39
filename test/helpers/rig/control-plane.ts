// What the control plane (the Supervisor, through the Data Plane API) puts into haproxy.cfg: seed
// 003's Kubernetes API service — a frontend with two binds and switching rules, and its backends —
// with the addresses a test chooses. Test data, shared by the merge tests and the rig's stand-in.
import { createHash } from 'node:crypto';

export interface ServiceAddresses {
  /** The VIP the frontend binds (seed 003: 192.168.0.1). */
  readonly vip: string;
  /** The control-plane VMs behind it (seed 003: 192.168.128.0–2). */
  readonly servers: readonly string[];
}

const ID = 'domain-c50:b42f9558-a4eb-4e8f-8f0f-9a8f295f0a8e-kube-system-kube-apiserver-lb-svc';

/** Seed 003's sections as the Data Plane API writes them (two-space indent, a blank line between). */
export function seed003Sections(
  a: ServiceAddresses = { vip: '192.168.0.1', servers: ['192.168.128.0', '192.168.128.1', '192.168.128.2'] },
): string {
  const backend = (name: string, port: number) => [
    `backend ${ID}-${name}`,
    '  mode tcp',
    '  balance roundrobin',
    '  option tcp-check',
    `  log-tag ${ID}-${name}`,
    ...a.servers.map((s) => `  server ${ID}-${s}:${port} ${s}:${port} check weight 100 verify none`),
    '',
  ];
  return [
    `frontend ${ID}`,
    '  mode tcp',
    `  bind ${a.vip}:443 name ${ID}-${a.vip}:nginx`,
    `  bind ${a.vip}:6443 name ${ID}-${a.vip}:kube-apiserver`,
    `  log-tag ${ID}`,
    '  option tcplog',
    `  use_backend ${ID}-kube-apiserver if { dst_port 6443 }`,
    `  use_backend ${ID}-nginx if { dst_port 443 }`,
    '',
    ...backend('kube-apiserver', 6443),
    ...backend('nginx', 443),
  ].join('\n');
}

/**
 * A file as the Data Plane API (v2.9) saves it: `# _md5hash=` of everything after that line (valid, so
 * its watcher leaves the file alone), `# _version=N`, its two disclaimer lines, then `body`.
 */
export function apiFile(version: number, body: string): string {
  const rest =
    `# _version=${version}\n# Dataplaneapi managed File\n` +
    `# changing file directly can cause a conflict if dataplaneapi is running\n${body}`;
  return `# _md5hash=${createHash('md5').update(rest).digest('hex')}\n${rest}`;
}
