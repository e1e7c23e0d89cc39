// The deploy values the boot tests share (the nspawn rig and the qemu VM): the example 2-NIC
// ("default") deployment as vCenter hands it over, with documentation addresses that exist only in
// the tests' own namespaces. Each test spreads its own changes over them.
export const MANAGEMENT_IP = '192.0.2.10';
export const WORKLOAD_IP = '198.51.100.10';
export const WORKLOAD_GATEWAY = '198.51.100.1';

export function deployValues(changes: Record<string, string> = {}): Record<string, string> {
  return {
    'appliance.ca_cert': '',
    'appliance.ca_cert_key': '',
    'appliance.permit_root_login': 'True',
    'appliance.root_pwd': 'change-me-root',
    'loadbalance.dataplane_port': '5556',
    'loadbalance.haproxy_pwd': 'change-me-api',
    'loadbalance.haproxy_user': 'wcp',
    'loadbalance.service_ip_range': '198.51.100.64/26',
    'network.hostname': 'haproxy.example.test',
    'network.management_gateway': '192.0.2.1',
    'network.management_ip': `${MANAGEMENT_IP}/24`,
    'network.nameservers': '192.0.2.53',
    'network.ntp_servers': '192.0.2.123',
    'network.workload_gateway': WORKLOAD_GATEWAY,
    'network.workload_ip': `${WORKLOAD_IP}/24`,
    ...changes,
  };
}
