// Deploy specs for scripters, generated from the property table: a govc options file (the shape of
// `govc import.spec`) and a PowerCLI snippet (Get-OvfConfiguration / Import-VApp). Both carry the
// defaults; the values without one are left blank to fill in, then `ovactl validate` checks them.
import { PROPERTIES, type PropertySpec } from '../properties/table.js';
import { psString } from '../render/helpers.js';
import { template } from '../render/templates.js';
import type { Deployment } from '../appliance/nics.js';
import { APPLIANCE_NAME, NETWORKS } from './descriptor.js';

const inDeployment = (p: PropertySpec, d: Deployment) => p.deployment === 'all' || d === 'frontend';
const networksOf = (d: Deployment) => NETWORKS.filter((n) => n.configuration === null || d === 'frontend');
const EXAMPLE_NETWORK: Record<string, string> = { Management: 'VM Network', Workload: 'Workload', Frontend: 'Frontend' };

/** The `govc import.spec` shape, as govc prints it (booleans written True/False). */
export function govcSpec(deployment: Deployment) {
  return {
    DiskProvisioning: 'thin',
    IPAllocationPolicy: 'dhcpPolicy',
    IPProtocol: 'IPv4',
    PropertyMapping: (PROPERTIES as readonly PropertySpec[]).filter((p) => inDeployment(p, deployment)).map((p) => ({ Key: p.key, Value: p.default ?? '' })),
    NetworkMapping: networksOf(deployment).map((n) => ({ Name: n.name, Network: EXAMPLE_NETWORK[n.name]! })),
    Deployment: deployment,
    MarkAsTemplate: false,
    PowerOn: true,
    InjectOvfEnv: false,
    WaitForIP: false,
    Name: 'haproxy',
  };
}

function psValue(p: PropertySpec): string {
  if (p.ovfType === 'boolean') return /^true$/i.test(p.default ?? '') ? '$true' : '$false';
  if (p.ovfType === 'int') return p.default ?? '0';
  return psString(p.default ?? '');
}

export function powercliSpec(deployment: Deployment): string {
  return template('spec/powercli.ps1')({
    ova: `${APPLIANCE_NAME}.ova`,
    name: 'haproxy',
    deployment,
    networks: networksOf(deployment).map((n) => ({ name: n.name, example: EXAMPLE_NETWORK[n.name], frontendOnly: n.configuration !== null })),
    properties: (PROPERTIES as readonly PropertySpec[]).filter((p) => inDeployment(p, deployment)).map((p) => ({
      label: p.label,
      ovfClass: p.ovfClass,
      ovfKey: p.ovfKey,
      value: psValue(p),
      required: p.required === true,
      frontendOnly: p.deployment === 'frontend',
    })),
  });
}
