// The virtual hardware the descriptor gives the appliance (an admin may change it in vCenter).

export const VM_CPUS = 2;
export const VM_MEMORY_MIB = 2048;
/** The memory to size for when the VM's own is unknown (render, --root): the descriptor's. */
export const DEFAULT_MEMORY_BYTES = VM_MEMORY_MIB * 2 ** 20;
/**
 * The guest OS the descriptor declares. The appliance is Debian 13, but debian13_64Guest exists only from
 * vSphere API 9.0.0.0 and debian12_64Guest from 8.0.0.1 (govmomi's minAPIVersionForEnumValue), so
 * vSphere 7.0 and 8.0 GA refuse both; debian11_64Guest is known to 7.0 GA, and ESXi treats Debian 13
 * alike (the same open-vm-tools, vmxnet3, pvscsi and EFI boot).
 */
export const VM_GUEST_ID = 'debian11_64Guest';
/** CIM operating system type of the OVF OperatingSystemSection: 96 = Debian 64-bit. */
export const VM_CIM_OS_ID = 96;
/** vmx-13 (ESXi 6.5 and later): 7.0 GA runs up to vmx-17, so every supported vSphere can run it. */
export const VM_HARDWARE_VERSION = 'vmx-13';
