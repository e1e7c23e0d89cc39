// The OVF environment as vCenter hands it to the guest (guestinfo.ovfEnv or ovf-env.xml on the
// "OVF ENV" disc), for the tests that boot an appliance: the rig (nspawn) and the VM (qemu).
// test/sources.test.ts has its own builder: it varies the namespace prefixes on purpose.

const attr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The NICs' MACs in the order of the deployment's networks (management, workload, frontend). */
export const DEFAULT_MACS = ['00:50:56:aa:bb:01', '00:50:56:aa:bb:02'] as const;

export function ovfEnvXml(values: Record<string, string>, macs: readonly string[] = DEFAULT_MACS): string {
  const props = Object.entries(values)
    .map(([k, v]) => `         <Property oe:key="${attr(k)}" oe:value="${attr(v)}"/>`)
    .join('\n');
  const adapters = macs
    .map(
      (m, i) =>
        `      <ve:Adapter ve:mac="${attr(m)}" ve:network="${['Management', 'Workload', 'Frontend'][i] ?? `Network ${i + 1}`}" ve:unitNumber="${7 + i}"/>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Environment
     xmlns="http://schemas.dmtf.org/ovf/environment/1"
     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
     xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"
     xmlns:ve="http://www.vmware.com/schema/ovfenv"
     oe:id=""
     ve:vCenterId="vm-1001">
   <PlatformSection>
      <Kind>VMware ESXi</Kind>
      <Version>8.0.3</Version>
      <Vendor>VMware, Inc.</Vendor>
      <Locale>en</Locale>
   </PlatformSection>
   <PropertySection>
${props}
   </PropertySection>
   <ve:EthernetAdapterSection>
${adapters}
   </ve:EthernetAdapterSection>
</Environment>
`;
}
