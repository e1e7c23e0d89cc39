// The virtual hardware the descriptor gives the appliance (an admin may change it in vCenter).

export const VM_CPUS = 2;
export const VM_MEMORY_MIB = 2048;
/** The memory to size for when the VM's own is unknown (render, --root): the descriptor's. */
export const DEFAULT_MEMORY_BYTES = VM_MEMORY_MIB * 2 ** 20;
