// The OVF descriptor, generated from the property table: one ProductSection per class and category,
// the two deployment options, NICs pinned to the PCI slots the guest's .link files expect, both
// environment transports, and the VMX setting that lets the guest publish its status.
import { DEPLOYMENT_OPTIONS, NICS } from '../appliance/nics.js';
import { VM_CIM_OS_ID, VM_CPUS, VM_GUEST_ID, VM_HARDWARE_VERSION, VM_MEMORY_MIB } from '../appliance/hardware.js';
import { PROPERTIES, type PropertySpec } from '../properties/table.js';
import { template } from '../render/templates.js';

export const APPLIANCE_NAME = 'haproxy-appliance';

export interface DiskInfo {
  readonly file: string;
  readonly capacityGiB: number;
  /** Known only once the image is built; left out of the committed descriptor. */
  readonly fileSize?: number;
  readonly populatedSize?: number;
}

export const DEFAULT_DISK: DiskInfo = { file: `${APPLIANCE_NAME}-disk1.vmdk`, capacityGiB: 8 };

const DEPLOYMENTS = DEPLOYMENT_OPTIONS;

/** The descriptor's networks and NICs (src/appliance/nics.ts): the slots fix the PCI paths the plan pins. */
export const NETWORKS = NICS.map((n) => ({
  name: n.network,
  description: n.description,
  unit: n.unit,
  pciSlot: n.pciSlot,
  configuration: n.onlyIn ?? null,
}));

function qualifiers(p: PropertySpec): string | null {
  const q = p.qualifiers;
  if (!q) return null;
  if (p.ovfType === 'int')
    return (
      [q.minValue !== undefined && `MinValue(${q.minValue})`, q.maxValue !== undefined && `MaxValue(${q.maxValue})`]
        .filter(Boolean)
        .join(' ') || null
    );
  return (
    [q.minLen !== undefined && `MinLen(${q.minLen})`, q.maxLen !== undefined && `MaxLen(${q.maxLen})`]
      .filter(Boolean)
      .join(',') || null
  );
}

/** Consecutive properties of one class and category share a ProductSection. */
function sections() {
  const out: { ovfClass: string; category: string; info: string; properties: object[] }[] = [];
  for (const p of PROPERTIES as readonly PropertySpec[]) {
    let s = out[out.length - 1];
    if (!s || s.ovfClass !== p.ovfClass || s.category !== p.category) {
      s = {
        ovfClass: p.ovfClass,
        category: p.category,
        info: `${p.category.replace(/^\d+\.\s*/, '')} properties`,
        properties: [],
      };
      out.push(s);
    }
    s.properties.push({
      ovfKey: p.ovfKey,
      ovfType: p.ovfType,
      qualifiers: qualifiers(p),
      password: p.secret && p.kind === 'password',
      value: p.default ?? '',
      configuration: p.deployment === 'frontend' ? 'frontend' : null,
      label: p.label,
      description: p.description,
    });
  }
  return out;
}

export function descriptor(opts: { version: string; disk?: DiskInfo }): string {
  return template('ovf/descriptor.ovf')({
    name: APPLIANCE_NAME,
    product: 'HAProxy load-balancer appliance for vSphere',
    vendor: 'ovactl',
    version: opts.version,
    annotation:
      'HAProxy with the Data Plane API and AnyIP virtual IP ranges, configured at first boot from these ' +
      'properties by ovactl. The result shows on the console and in guestinfo.ovactl.status.',
    hardwareVersion: VM_HARDWARE_VERSION,
    guestId: VM_GUEST_ID,
    cimOsId: VM_CIM_OS_ID,
    cpus: VM_CPUS,
    memoryMiB: VM_MEMORY_MIB,
    disk: { fileSize: null, populatedSize: null, ...(opts.disk ?? DEFAULT_DISK) },
    networks: NETWORKS,
    deployments: DEPLOYMENTS,
    nics: NETWORKS.map((n) => ({
      network: n.name,
      unit: n.unit,
      pciSlot: n.pciSlot,
      configuration: n.configuration,
      instanceId: n.unit,
    })),
    // vSphere 8.0U3 refuses guest writes to guestinfo without it; the status could not be published.
    extraConfig: [{ key: 'guest_rpc.auth.cloud-init.set', value: 'FALSE' }],
    sections: sections(),
  });
}
