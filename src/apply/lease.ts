// The management NIC's DHCP lease, as the kernel has it: where the Data Plane API listens when the
// management address is not static. First boot and `ovactl ready` ask the same way.
import { runIp } from '../net/iproute.js';
import { parseAddresses } from '../routetables/rules.js';

export async function managementLease(): Promise<string | undefined> {
  const r = await runIp(['-4', '-j', 'addr', 'show', 'dev', 'management']);
  try {
    const addresses = r.exitCode === 0 ? parseAddresses(r.stdout, new Set(['management'])) : [];
    return (addresses.find((a) => a.dynamic) ?? addresses[0])?.address;
  } catch {
    return undefined;
  }
}
