// The appliance's NICs and deployment options: one definition that validation, the plan, the OVF
// descriptor and the deploy specs read. A NIC's PCI slot in the descriptor fixes the PCI path the
// guest sees (ESXi numbers bridges by slot), which the .link files pin its name to.
import type { PropertyKey } from '../properties/table.js';

export type Deployment = 'default' | 'frontend';
export const DEPLOYMENTS: readonly Deployment[] = ['default', 'frontend'];

/** The deployment options as the descriptor's DeploymentOptionSection offers them. */
export const DEPLOYMENT_OPTIONS = [
  {
    id: 'default',
    default: true,
    label: 'Default',
    description:
      'Deploy the appliance with 2 NICs: a Management network (Supervisor -> HAProxy Data Plane API) and a ' +
      'single Workload network. Load-balanced IPs are assigned on the Workload network.',
  },
  {
    id: 'frontend',
    default: false,
    label: 'Frontend Network',
    description:
      'Deploy the appliance with 3 NICs: a Management network (Supervisor -> HAProxy Data Plane API), a single ' +
      'Workload network and a dedicated Frontend network. Load-balanced IPs are assigned on the Frontend network.',
  },
] as const satisfies readonly {
  readonly id: Deployment;
  readonly default: boolean;
  readonly label: string;
  readonly description: string;
}[];

export type NicName = 'management' | 'workload' | 'frontend';

export interface Nic {
  readonly name: NicName;
  readonly ip: Extract<PropertyKey, `network.${NicName}_ip`>;
  readonly gateway: Extract<PropertyKey, `network.${NicName}_gateway`>;
  /** Present only in this deployment option. */
  readonly onlyIn?: Deployment;
  /** The descriptor's network (and its description), the NIC's unit number and PCI slot. */
  readonly network: string;
  readonly description: string;
  readonly unit: number;
  readonly pciSlot: number;
  /** What udev's ID_PATH is for that slot on ESXi (and the VM test's qemu). */
  readonly pciPath: string;
}

export const NICS: readonly Nic[] = [
  {
    name: 'management',
    ip: 'network.management_ip',
    gateway: 'network.management_gateway',
    network: 'Management',
    description: 'The management network: the Supervisor reaches the Data Plane API here; SSH listens here.',
    unit: 7,
    pciSlot: 160,
    pciPath: 'pci-0000:03:00.0',
  },
  {
    name: 'workload',
    ip: 'network.workload_ip',
    gateway: 'network.workload_gateway',
    network: 'Workload',
    description: 'The workload network: the Kubernetes nodes the load balancer sends traffic to.',
    unit: 8,
    pciSlot: 192,
    pciPath: 'pci-0000:0b:00.0',
  },
  {
    name: 'frontend',
    ip: 'network.frontend_ip',
    gateway: 'network.frontend_gateway',
    onlyIn: 'frontend',
    network: 'Frontend',
    description: 'The frontend network (frontend deployment only): clients reach the virtual IPs here.',
    unit: 9,
    pciSlot: 224,
    pciPath: 'pci-0000:13:00.0',
  },
];
