// Writing the status where the admin looks: status.json and the console banner (files), and
// guestinfo (vmware-rpctool). Shared by first boot and `ovactl ready`, which finishes its work.
import { issueText, statusJson, type Status } from '../plan/status.js';
import { CACERT_GUESTINFO, ISSUE_FILE, STATUS_FILE, STATUS_GUESTINFO } from '../appliance/paths.js';
import { whyFailed, type System } from './system.js';
import { writeAtomic } from '../core/atomic-write.js';

const statusFile = (path: string, content: string) => ({
  path,
  mode: 0o644,
  owner: 'root',
  group: 'root',
  content,
  restarts: [],
  reloads: [],
});

/** status.json and the console banner, each only when it changes. Returns the JSON. */
export function writeStatus(root: string, status: Status, lines: string[]): string {
  const json = statusJson(status);
  // The banner first, status.json last: whoever sees a state in status.json (a script, a test, doctor) finds
  // the console already saying it.
  for (const f of [statusFile(ISSUE_FILE, issueText(status)), statusFile(STATUS_FILE, json + '\n')]) {
    if (writeAtomic(root, f)) lines.push(`wrote ${f.path}`);
  }
  return json;
}

/** guestinfo is how `govc vm.info -e` and PowerCLI see the result; best effort outside vSphere. */
export async function publishGuestinfo(opts: {
  readonly system: System;
  readonly json: string | undefined;
  readonly caCert: string | undefined;
  readonly lines: string[];
}): Promise<void> {
  const { system, json, caCert, lines } = opts;
  const pairs: [string, string][] = [];
  if (json) pairs.push([STATUS_GUESTINFO, json.trim()]);
  if (caCert) pairs.push([CACERT_GUESTINFO, Buffer.from(caCert).toString('base64')]);
  if (!system.live) {
    if (pairs.length) lines.push(`would publish ${pairs.map(([k]) => k).join(' and ')} with vmware-rpctool`);
    return;
  }
  for (const [key, value] of pairs) {
    const r = await system.run('vmware-rpctool', [`info-set ${key} ${value}`]);
    if (r.exitCode !== 0) {
      const why = whyFailed(r);
      lines.push(
        `${key} not published: ${why} (outside vSphere, or the VMX lacks guest_rpc.auth.cloud-init.set = FALSE)`,
      );
    }
  }
}
