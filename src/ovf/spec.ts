// Deploy specs for scripters, generated from the property table: a govc options file (the shape of
// `govc import.spec`) and a PowerCLI snippet (Get-OvfConfiguration / Import-VApp). Both carry the
// defaults; the values without one are left blank to fill in, then `ovactl validate` checks them.
// `ovactl export --for-successor` fills both with an appliance's own values instead (Filled).
import { PROPERTIES, type PropertySpec } from '../properties/table.js';
import { psString } from '../render/helpers.js';
import { template } from '../render/templates.js';
import type { Deployment } from '../appliance/nics.js';
import { APPLIANCE_NAME, NETWORKS } from './descriptor.js';

const inDeployment = (p: PropertySpec, d: Deployment) => p.deployment === 'all' || d === 'frontend';
const networksOf = (d: Deployment) => NETWORKS.filter((n) => n.configuration === null || d === 'frontend');
const EXAMPLE_NETWORK: Record<string, string> = {
  Management: 'VM Network',
  Workload: 'Workload',
  Frontend: 'Frontend',
};

/** An appliance's own values for a spec: each property's value as given, its port groups, the VM's name. */
export interface Filled {
  readonly value: (key: string) => string | undefined;
  /** OVF network name (Management…) → vSphere network, as the OVF environment's adapters name them. */
  readonly networks: Readonly<Record<string, string>>;
  readonly name: string;
}

const valueFor = (p: PropertySpec, filled: Filled | undefined) => filled?.value(p.key) ?? p.default ?? '';
const networkOf = (name: string, filled: Filled | undefined) => filled?.networks[name] ?? EXAMPLE_NETWORK[name]!;

/** The `govc import.spec` shape, as govc prints it (booleans written True/False). */
export function govcSpec(deployment: Deployment, filled?: Filled) {
  return {
    DiskProvisioning: 'thin',
    IPAllocationPolicy: 'dhcpPolicy',
    IPProtocol: 'IPv4',
    PropertyMapping: (PROPERTIES as readonly PropertySpec[])
      .filter((p) => inDeployment(p, deployment))
      .map((p) => ({ Key: p.key, Value: valueFor(p, filled) })),
    NetworkMapping: networksOf(deployment).map((n) => ({ Name: n.name, Network: networkOf(n.name, filled) })),
    Deployment: deployment,
    MarkAsTemplate: false,
    PowerOn: true,
    InjectOvfEnv: false,
    WaitForIP: false,
    Name: filled?.name ?? 'haproxy',
  };
}

/** A typed PowerShell literal where the value is one (an unset boolean is $false, an unset int 0), else a string. */
function psValue(p: PropertySpec, value: string): string {
  const v = value.trim();
  if (p.ovfType === 'boolean' && /^(true|false|)$/i.test(v)) return /^true$/i.test(v) ? '$true' : '$false';
  if (p.ovfType === 'int' && /^\d*$/.test(v)) return v || '0';
  return psString(value);
}

export function powercliSpec(deployment: Deployment, filled?: Filled): string {
  return template('spec/powercli.ps1')({
    ova: `${APPLIANCE_NAME}.ova`,
    name: filled?.name ?? 'haproxy',
    deployment,
    networks: networksOf(deployment).map((n) => ({
      name: n.name,
      example: networkOf(n.name, filled),
      frontendOnly: n.configuration !== null,
    })),
    properties: (PROPERTIES as readonly PropertySpec[])
      .filter((p) => inDeployment(p, deployment))
      .map((p) => ({
        label: p.label,
        ovfClass: p.ovfClass,
        ovfKey: p.ovfKey,
        value: psValue(p, valueFor(p, filled)),
        required: p.required === true,
        frontendOnly: p.deployment === 'frontend',
      })),
  });
}
