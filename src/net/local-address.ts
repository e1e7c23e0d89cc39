// Whether an address is on a NIC now: the kernel's list as Node reads it (no command to run).
import { networkInterfaces } from 'node:os';

export const hasAddress = (nic: string, address: string): boolean =>
  (networkInterfaces()[nic] ?? []).some((a) => a.address === address);
