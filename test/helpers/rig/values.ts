// The deploy values the boot tests share (the nspawn rig and the qemu VM): examples/appliance.json, the
// one base set every test uses (test/helpers/values.ts reads it too), as vCenter hands it over — every
// property present, the unset CA ones empty. Its documentation addresses exist only in the tests' own
// namespaces. Each test spreads its own changes over them.
import { readFileSync } from 'node:fs';

const EXAMPLE: Record<string, string> = JSON.parse(
  readFileSync(new URL('../../../examples/appliance.json', import.meta.url), 'utf8'),
);
const address = (key: string): string => {
  const v = EXAMPLE[key];
  if (!v) throw new Error(`examples/appliance.json has no ${key}`);
  return v.split('/')[0]!;
};

export const MANAGEMENT_IP = address('network.management_ip');
export const WORKLOAD_IP = address('network.workload_ip');
export const WORKLOAD_GATEWAY = address('network.workload_gateway');

/** vCenter hands the unset properties over too, as empty values (empty CA: first boot makes one). */
const UNSET = { 'appliance.ca_cert': '', 'appliance.ca_cert_key': '' };

export function deployValues(changes: Record<string, string> = {}): Record<string, string> {
  const base = Object.entries({ ...UNSET, ...EXAMPLE }).sort(([a], [b]) => (a < b ? -1 : 1));
  return { ...Object.fromEntries(base), ...changes };
}
