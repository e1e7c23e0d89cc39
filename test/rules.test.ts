// Every validation rule, table-driven: a value that must trigger it and one that must not.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { RULES } from '../src/validate/rules.js';
import { validateDocument } from '../src/validate/validate.js';
import { BASE, check, doc, ROOT, rulesOf, withValues } from './helpers/values.js';
import type { Deployment } from '../src/appliance/nics.js';

interface Case {
  readonly rule: string;
  readonly fail: Record<string, string | null>;
  readonly pass: Record<string, string | null>;
  readonly deployment?: Deployment;
  /** Expected in the failing finding: parts of its message and its hint. */
  readonly message?: RegExp;
  readonly hint?: RegExp;
}

// Route health injection on, with a BGP peer on the workload network: valid as it is.
const ON = { 'rhi.enabled': 'True', 'rhi.local_as': '65010', 'rhi.peers': '198.51.100.1:65001' };
// Two appliances, valid as it is: the floating address and the peer in the management network, a given CA.
const PAIR = {
  'ha.address': '192.0.2.20',
  'ha.peers': '192.0.2.12',
  'appliance.ca_cert': readFileSync(`${ROOT}test/fixtures/syslog-ca.crt`, 'utf8'),
  'appliance.ca_cert_key': readFileSync(`${ROOT}test/fixtures/syslog-ca.key`, 'utf8'),
};

const CASES: Case[] = [
  {
    rule: 'property.unknown',
    fail: { 'network.managment_ip': '192.0.2.10/24' },
    pass: {},
    hint: /did you mean network\.management_ip\?/,
  },
  {
    rule: 'value.required',
    fail: { 'appliance.root_pwd': '' },
    pass: {},
    message: /appliance\.root_pwd .* is not set/,
  },
  {
    rule: 'value.required',
    fail: { 'loadbalance.service_ip_range': null },
    pass: {},
    hint: /e\.g\. 198\.51\.100\.64\/26/,
  },
  {
    rule: 'value.too-long',
    fail: { 'network.nameservers': '192.0.2.53,'.repeat(100_000) },
    pass: {},
    message: /1100000 characters long; at most 4096/,
  },
  {
    rule: 'value.too-long',
    fail: { 'appliance.root_pwd': 'x'.repeat(5000) },
    pass: { 'appliance.root_pwd': 'x'.repeat(128) },
    message: /^appliance\.root_pwd is 5000 characters/,
  },
  {
    rule: 'boolean.syntax',
    fail: { 'appliance.permit_root_login': 'maybe' },
    pass: { 'appliance.permit_root_login': 'FALSE' },
    message: /"maybe" is not a boolean/,
    hint: /True or False/,
  },
  {
    rule: 'port.syntax',
    fail: { 'loadbalance.dataplane_port': '55x6' },
    pass: { 'loadbalance.dataplane_port': '8443' },
    message: /"55x6"/,
  },
  {
    rule: 'port.syntax',
    fail: { 'appliance.metrics_port': '91OO' },
    pass: { 'appliance.metrics_port': '' },
    message: /appliance\.metrics_port.*"91OO"/,
  },
  {
    rule: 'port.range',
    fail: { 'appliance.metrics_port': '70000' },
    pass: { 'appliance.metrics_port': '9100' },
    message: /appliance\.metrics_port = 70000 is outside 1–65535/,
  },
  {
    rule: 'port.range',
    fail: { 'appliance.metrics_port': '0' },
    pass: { 'appliance.metrics_port': '65535' },
    message: /= 0 is outside/,
  },
  {
    rule: 'metrics.port-taken',
    fail: { 'appliance.metrics_port': '22' },
    pass: { 'appliance.metrics_port': '2222' },
    message: /= 22 is taken by sshd/,
    hint: /e\.g\. 9100/,
  },
  {
    rule: 'metrics.port-taken',
    fail: { 'appliance.metrics_port': '5556' },
    pass: { 'appliance.metrics_port': '5557' },
    message: /taken by the Data Plane API/,
  },
  {
    rule: 'metrics.port-taken',
    fail: { 'loadbalance.dataplane_port': '9100', 'appliance.metrics_port': '9100' },
    pass: { 'loadbalance.dataplane_port': '9101', 'appliance.metrics_port': '9100' },
    message: /= 9100 is taken by the Data Plane API/,
    hint: /e\.g\. 9101/,
  },
  {
    rule: 'metrics.port-taken',
    fail: { ...ON, 'appliance.metrics_port': '179' },
    pass: { 'appliance.metrics_port': '179' },
    message: /taken by BIRD's BGP/,
  },
  {
    rule: 'address.family',
    fail: { 'network.management_ip': '2001:db8::10/64' },
    pass: { 'network.management_ip': '192.0.2.10/24' },
    message: /IPv6 address; the management NIC supports IPv4 only/,
  },
  { rule: 'address.family', fail: { 'network.management_gateway': '2001:db8::1' }, pass: {} },
  { rule: 'address.family', fail: { 'network.workload_ip': 'fd00::5/64' }, pass: {} },
  { rule: 'address.family', fail: { 'network.management_ip': '::ffff:192.0.2.10/120' }, pass: {} },
  {
    rule: 'address.syntax',
    fail: { 'network.management_ip': '192.0.2.300/24' },
    pass: {},
    message: /"192\.0\.2\.300\/24"/,
  },
  {
    rule: 'address.prefix-required',
    fail: { 'network.management_ip': '192.0.2.10' },
    pass: {},
    message: /no prefix length .*\/8/,
    hint: /192\.0\.2\.10\/24/,
  },
  {
    rule: 'address.network-or-broadcast',
    fail: { 'network.management_ip': '192.0.2.0/24' },
    pass: { 'network.management_ip': '192.0.2.254/24' },
    message: /network address of 192\.0\.2\.0\/24/,
    hint: /192\.0\.2\.1 to 192\.0\.2\.254/,
  },
  {
    rule: 'address.network-or-broadcast',
    fail: { 'network.workload_ip': '198.51.100.255/24' },
    pass: {},
    message: /broadcast address/,
  },
  {
    rule: 'gateway.syntax',
    fail: { 'network.management_gateway': '192.0.2.1/24' },
    pass: {},
    hint: /drop the prefix: 192\.0\.2\.1$/,
  },
  {
    rule: 'nameservers.syntax',
    fail: { 'network.nameservers': '192.0.2.53, dns.example.test' },
    pass: { 'network.nameservers': '192.0.2.53,192.0.2.54,' },
    message: /"dns\.example\.test"/,
  },
  {
    rule: 'nameservers.count',
    fail: { 'network.nameservers': '192.0.2.51, 192.0.2.52, 192.0.2.53, 192.0.2.54' },
    pass: { 'network.nameservers': '192.0.2.51, 192.0.2.52, 192.0.2.53' },
    hint: /192\.0\.2\.51, 192\.0\.2\.52, 192\.0\.2\.53$/,
  },
  {
    rule: 'ntp.syntax',
    fail: { 'network.ntp_servers': 'ntp_1!' },
    pass: { 'network.ntp_servers': 'ntp.example.test, 192.0.2.123' },
  },
  {
    rule: 'hostname.syntax',
    fail: { 'network.hostname': 'haproxy' },
    pass: { 'network.hostname': 'lb-1.example.test.' },
    message: /not fully qualified/,
  },
  {
    rule: 'hostname.syntax',
    fail: { 'network.hostname': 'bad_host.example.test' },
    pass: {},
    message: /not a valid host name/,
  },
  { rule: 'hostname.syntax', fail: { 'network.hostname': 'a.' + 'b'.repeat(64) + '.test' }, pass: {} },
  {
    rule: 'port.range',
    fail: { 'loadbalance.dataplane_port': '70000' },
    pass: { 'loadbalance.dataplane_port': '65535' },
  },
  { rule: 'port.range', fail: { 'loadbalance.dataplane_port': '0' }, pass: { 'loadbalance.dataplane_port': '1' } },
  { rule: 'port.ssh', fail: { 'loadbalance.dataplane_port': '22' }, pass: { 'loadbalance.dataplane_port': '2222' } },
  {
    rule: 'user.syntax',
    fail: { 'loadbalance.haproxy_user': 'my user' },
    pass: { 'loadbalance.haproxy_user': 'wcp-admin.vsphere_local' },
    message: /contains " "/,
  },
  { rule: 'user.syntax', fail: { 'loadbalance.haproxy_user': 'a#b' }, pass: {} },
  {
    rule: 'user.syntax',
    fail: { 'loadbalance.haproxy_user': 'wcp:80' },
    pass: {},
    message: /contains ":" at position 4/,
  },
  { rule: 'user.syntax', fail: { 'loadbalance.haproxy_user': '9wcp' }, pass: {}, message: /starts with "9"/ },
  {
    rule: 'nameservers.duplicate',
    fail: { 'network.nameservers': '192.0.2.53, 192.0.2.54, 192.0.2.53' },
    pass: { 'network.nameservers': '192.0.2.53, 192.0.2.54' },
    message: /lists "192\.0\.2\.53" twice; it is written once/,
  },
  {
    rule: 'hostname.case',
    fail: { 'network.hostname': 'HAProxy.Example.test' },
    pass: { 'network.hostname': 'haproxy.example.test' },
    message: /"HAProxy\.Example\.test" has upper-case letters; it is written as "haproxy\.example\.test"/,
  },
  {
    rule: 'user.syntax',
    fail: { 'loadbalance.haproxy_user': 'u'.repeat(65) },
    pass: { 'loadbalance.haproxy_user': 'u'.repeat(64) },
  },
  {
    rule: 'password.length',
    fail: { 'appliance.root_pwd': 'short' },
    pass: { 'appliance.root_pwd': '-dash1' },
    message: /5 characters long/,
  },
  {
    rule: 'password.length',
    fail: { 'loadbalance.haproxy_pwd': 'p'.repeat(129) },
    pass: { 'loadbalance.haproxy_pwd': 'p'.repeat(128) },
  },
  {
    rule: 'password.line-break',
    fail: { 'loadbalance.haproxy_pwd': 'first-line\nsecond' },
    pass: { 'loadbalance.haproxy_pwd': 'one line: with colon' },
  },
  {
    rule: 'password.characters',
    fail: { 'loadbalance.haproxy_pwd': 'secret\u0000tail-part' },
    pass: { 'loadbalance.haproxy_pwd': 'secret-tail-part' },
    message: /control character at position 7$/,
  },
  {
    rule: 'password.characters',
    fail: { 'appliance.root_pwd': 'zero\u200bwidth' },
    pass: { 'appliance.root_pwd': 'zero-width-ünïcode' },
    message: /format character at position 5/,
  },
  {
    rule: 'password.characters',
    fail: { 'appliance.root_pwd': 'c1\u0085control' },
    pass: {},
    message: /C1 control character at position 3/,
  },
  { rule: 'password.characters', fail: { 'appliance.root_pwd': 'del\u007fchar1' }, pass: {} },
  { rule: 'password.characters', fail: { 'appliance.root_pwd': 'tab\tinside1' }, pass: {} },
  { rule: 'password.characters', fail: { 'loadbalance.haproxy_pwd': 'bidi\u202emark' }, pass: {} },
  {
    rule: 'user.syntax',
    fail: { 'loadbalance.haproxy_user': 'ad\u200bmin' },
    pass: {},
    message: /U\+200B at position 3/,
  },
  { rule: 'user.syntax', fail: { 'loadbalance.haproxy_user': 'ad\u0085min' }, pass: {}, message: /U\+0085/ },
  { rule: 'user.syntax', fail: { 'loadbalance.haproxy_user': 'ad\ufeffmin' }, pass: {} },
  {
    rule: 'password.whitespace',
    fail: { 'appliance.root_pwd': ' padded-password' },
    pass: { 'appliance.root_pwd': 'pass word inside' },
  },
  {
    rule: 'ca.pair',
    fail: { 'appliance.ca_cert': '-----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----' },
    pass: {},
    hint: /both/,
  },
  {
    rule: 'vip.syntax',
    fail: { 'loadbalance.service_ip_range': '203.0.113.64/26/32/evil' },
    pass: { 'loadbalance.service_ip_range': '203.0.113.64/26' },
    message: /26\/32\/evil/,
  },
  { rule: 'vip.syntax', fail: { 'loadbalance.service_ip_range': '2001:db8::/64/72' }, pass: {} },
  { rule: 'workload-networks.syntax', fail: { 'network.additional_workload_networks': '10.20.0.0/16/junk' }, pass: {} },
  { rule: 'address.syntax', fail: { 'network.management_ip': '192.0.2.10/24/24' }, pass: {} },
  { rule: 'address.syntax', fail: { 'network.workload_ip': '198.51.100.10/24/' }, pass: {} },
  {
    rule: 'vip.special',
    fail: { 'loadbalance.service_ip_range': '0.0.0.0/0' },
    pass: { 'loadbalance.service_ip_range': '203.0.113.64/26' },
    message: /default route/,
  },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': '224.0.0.0/4' }, pass: {}, message: /multicast/ },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': '240.0.0.0/4' }, pass: {}, message: /reserved/ },
  {
    rule: 'vip.special',
    fail: { 'loadbalance.service_ip_range': '255.255.255.255/32' },
    pass: {},
    message: /broadcast/,
  },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': '127.0.0.0/24' }, pass: {}, message: /loopback/ },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': '169.254.10.0/24' }, pass: {}, message: /link-local/ },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': '0.0.0.0/1' }, pass: {}, message: /contains/ },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': '::/0' }, pass: {} },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': 'ff02::/16' }, pass: {}, message: /multicast/ },
  { rule: 'vip.special', fail: { 'loadbalance.service_ip_range': 'fe80::/64' }, pass: {}, message: /link-local/ },
  {
    rule: 'vip.syntax',
    fail: { 'loadbalance.service_ip_range': '198.51.100.64/26, banana' },
    pass: {},
    message: /"banana"/,
  },
  {
    rule: 'vip.syntax',
    fail: { 'loadbalance.service_ip_range': '203.0.113.5' },
    pass: { 'loadbalance.service_ip_range': '203.0.113.5/32' },
    hint: /203\.0\.113\.5\/32/,
  },
  {
    rule: 'vip.host-bits',
    fail: { 'loadbalance.service_ip_range': '10.10.18.18/28' },
    pass: { 'loadbalance.service_ip_range': '10.10.18.16/28' },
    hint: /^use 10\.10\.18\.16\/28 \(hosts 10\.10\.18\.17–10\.10\.18\.30\)$/,
  },
  {
    rule: 'vip.overlap',
    fail: { 'loadbalance.service_ip_range': '198.51.100.64/26, 198.51.100.96/27' },
    pass: { 'loadbalance.service_ip_range': '198.51.100.64/27, 198.51.100.96/27' },
    hint: /remove 198\.51\.100\.96\/27/,
  },
  {
    rule: 'vip.overlap',
    fail: { 'loadbalance.service_ip_range': '198.51.100.64/26,198.51.100.64/26' },
    pass: {},
    message: /twice/,
  },
  { rule: 'vip.empty', fail: { 'loadbalance.service_ip_range': ' , ,' }, pass: {} },
  {
    rule: 'vip.contains-infrastructure',
    fail: { 'loadbalance.service_ip_range': '198.51.100.0/25' },
    pass: {},
    message: /contains the workload address 198\.51\.100\.10/,
  },
  {
    rule: 'vip.contains-infrastructure',
    fail: { 'loadbalance.service_ip_range': '192.0.2.48/28' },
    pass: { 'loadbalance.service_ip_range': '192.0.2.32/28' },
    message: /nameserver 192\.0\.2\.53/,
  },
  {
    rule: 'vip.contains-infrastructure',
    fail: { 'loadbalance.service_ip_range': '198.51.100.0/31' },
    pass: {},
    message: /workload gateway 198\.51\.100\.1/,
  },
  {
    rule: 'vip.contains-infrastructure',
    fail: { 'loadbalance.service_ip_range': '192.0.2.112/28' },
    pass: {},
    message: /NTP server 192\.0\.2\.123/,
  },
  { rule: 'vip.dhcp', fail: { 'network.workload_ip': '', 'network.workload_gateway': '' }, pass: {} },
  {
    rule: 'vip.routed',
    fail: { 'loadbalance.service_ip_range': '10.99.0.0/24' },
    pass: {},
    hint: /static route "10\.99\.0\.0\/24 via 198\.51\.100\.10"/,
  },
  {
    rule: 'vip.routed',
    fail: { 'loadbalance.service_ip_range': '198.51.100.64/26, 10.99.0.0/24' },
    pass: { ...ON, 'loadbalance.service_ip_range': '10.99.0.0/24' },
    message:
      /10\.99\.0\.0\/24 is outside the appliance's networks \(management 192\.0\.2\.0\/24, workload 198\.51\.100\.0\/24\)/,
  },
  {
    rule: 'rhi.vip-on-link',
    fail: ON,
    pass: { ...ON, 'loadbalance.service_ip_range': '10.99.0.0/24' },
    message: /lies in the workload network 198\.51\.100\.0\/24; with rhi\.enabled the appliance answers no ARP/,
  },
  {
    rule: 'gateway.outside-subnet',
    fail: { 'network.management_gateway': '192.0.3.1' },
    pass: {},
    hint: /192\.0\.2\.1 to 192\.0\.2\.254/,
  },
  { rule: 'gateway.equals-address', fail: { 'network.workload_gateway': '198.51.100.10' }, pass: {} },
  { rule: 'gateway.without-address', fail: { 'network.management_ip': '' }, pass: {} },
  {
    rule: 'network.overlap',
    fail: {
      'network.workload_ip': '192.0.2.20/24',
      'network.workload_gateway': '192.0.2.1',
      'loadbalance.service_ip_range': '203.0.113.0/26',
    },
    pass: {},
  },
  {
    rule: 'workload-networks.syntax',
    fail: { 'network.additional_workload_networks': '10.20.0.0/16, nope' },
    pass: { 'network.additional_workload_networks': '10.20.0.0/16, 10.30.0.0/16,' },
  },
  {
    rule: 'workload-networks.host-bits',
    fail: { 'network.additional_workload_networks': '10.20.0.1/16' },
    pass: { 'network.additional_workload_networks': '10.20.0.0/16' },
    hint: /use 10\.20\.0\.0\/16/,
  },
  {
    rule: 'workload-networks.overlap',
    fail: { 'network.additional_workload_networks': '10.20.0.0/16, 10.20.5.0/24' },
    pass: { 'network.additional_workload_networks': '10.20.0.0/16, 10.21.5.0/24' },
  },
  {
    rule: 'workload-networks.includes-primary',
    fail: { 'network.additional_workload_networks': '198.51.0.0/16' },
    pass: { 'network.additional_workload_networks': '10.20.0.0/16' },
  },
  {
    rule: 'workload-networks.overlap-vip',
    fail: {
      'loadbalance.service_ip_range': '203.0.113.0/26',
      'network.additional_workload_networks': '203.0.113.0/24',
    },
    pass: {
      'loadbalance.service_ip_range': '203.0.113.0/26',
      'network.additional_workload_networks': '203.0.114.0/24',
    },
  },
  {
    rule: 'workload-networks.overlap-network',
    fail: { 'network.additional_workload_networks': '192.0.2.0/25' },
    pass: {},
  },
  {
    rule: 'workload-networks.no-gateway',
    fail: { 'network.additional_workload_networks': '10.20.0.0/16', 'network.workload_gateway': '' },
    pass: { 'network.additional_workload_networks': '10.20.0.0/16' },
  },
  {
    rule: 'rhi.ignored',
    fail: { 'rhi.peers': '198.51.100.1:65001', 'rhi.local_as': '65010' },
    pass: ON,
    message: /rhi\.local_as, rhi\.peers are set, but rhi\.enabled is False/,
  },
  { rule: 'rhi.required', fail: { 'rhi.enabled': 'True' }, pass: ON, message: /neither rhi\.peers nor rhi\.ospf_area/ },
  {
    rule: 'rhi.required',
    fail: { ...ON, 'rhi.local_as': '' },
    pass: { ...ON, 'rhi.local_as': '', 'rhi.peers': '', 'rhi.ospf_area': '0' },
    message: /rhi\.local_as is not set/,
  },
  {
    rule: 'rhi.as-syntax',
    fail: { ...ON, 'rhi.local_as': '1.10' },
    pass: { ...ON, 'rhi.local_as': 'AS65010' },
    hint: /asplain\): 65546$/,
  },
  {
    rule: 'rhi.as-syntax',
    fail: { ...ON, 'rhi.peers': '198.51.100.1:sixty' },
    pass: ON,
    message: /entry "198\.51\.100\.1:sixty" has no valid AS number/,
  },
  {
    rule: 'rhi.as-range',
    fail: { ...ON, 'rhi.local_as': '4294967296' },
    pass: { ...ON, 'rhi.local_as': '4294967295' },
    hint: /1–4294967295/,
  },
  { rule: 'rhi.as-range', fail: { ...ON, 'rhi.local_as': '0' }, pass: { ...ON, 'rhi.local_as': '1' } },
  { rule: 'rhi.as-range', fail: { ...ON, 'rhi.local_as': '23456' }, pass: ON, hint: /AS_TRANS/ },
  {
    rule: 'rhi.as-range',
    fail: { ...ON, 'rhi.peers': '198.51.100.1:0' },
    pass: { ...ON, 'rhi.peers': '198.51.100.1:4200000000' },
    message: /out-of-range AS number/,
  },
  {
    rule: 'rhi.router-id',
    fail: { ...ON, 'rhi.router_id': '2001:db8::1' },
    pass: { ...ON, 'rhi.router_id': '10.0.0.1' },
  },
  { rule: 'rhi.router-id', fail: { ...ON, 'rhi.router_id': '0.0.0.0' }, pass: ON },
  {
    rule: 'rhi.router-id-dhcp',
    fail: { ...ON, 'network.management_ip': '', 'network.management_gateway': '' },
    pass: { ...ON, 'network.management_ip': '', 'network.management_gateway': '', 'rhi.router_id': '192.0.2.10' },
  },
  {
    rule: 'rhi.peer-syntax',
    fail: { ...ON, 'rhi.peers': '198.51.100.1' },
    pass: { ...ON, 'rhi.peers': '198.51.100.1:65001, 198.51.100.2:65001,' },
    message: /has no AS number/,
    hint: /198\.51\.100\.1:65001/,
  },
  {
    rule: 'rhi.peer-syntax',
    fail: { ...ON, 'rhi.peers': 'router1:65001' },
    pass: ON,
    message: /does not start with an IP address/,
  },
  {
    rule: 'rhi.peer-duplicate',
    fail: { ...ON, 'rhi.peers': '198.51.100.1:65001, 198.51.100.1:65002' },
    pass: { ...ON, 'rhi.peers': '198.51.100.1:65001, 198.51.100.2:65002' },
  },
  {
    rule: 'rhi.peer-unreachable',
    fail: { ...ON, 'rhi.peers': '203.0.113.1:65001' },
    pass: { ...ON, 'rhi.peers': '192.0.2.1:65001' },
    message:
      /203\.0\.113\.1 is on none of the appliance's networks \(management 192\.0\.2\.0\/24, workload 198\.51\.100\.0\/24\)/,
  },
  {
    rule: 'rhi.peer-conflict',
    fail: { ...ON, 'rhi.peers': '198.51.100.10:65001' },
    pass: ON,
    message: /own workload address/,
  },
  {
    rule: 'rhi.peer-conflict',
    fail: { ...ON, 'rhi.peers': '198.51.100.65:65001' },
    pass: ON,
    message: /inside VIP range 198\.51\.100\.64\/26/,
  },
  { rule: 'rhi.ospf-area', fail: { ...ON, 'rhi.ospf_area': 'backbone' }, pass: { ...ON, 'rhi.ospf_area': '0' } },
  {
    rule: 'rhi.rules-syntax',
    fail: { ...ON, 'rhi.rules': '198.51.100.70 = all(b:app); 198.51.100.71 = some(b:x)' },
    pass: { ...ON, 'rhi.rules': '198.51.100.70 = all(b:app); 198.51.100.71 = any(b:x, b:y); auto' },
    message: /^rhi\.rules column 45: unknown condition "some"$/,
    hint: /all .*any .*never/,
  },
  { rule: 'rhi.rules-syntax', fail: { ...ON, 'rhi.rules': ' ; # ' }, pass: ON, message: /holds no rule/ },
  {
    rule: 'rhi.rules-outside-vip',
    fail: { ...ON, 'rhi.rules': '203.0.113.10 = all(b:app)' },
    pass: { ...ON, 'rhi.rules': '198.51.100.70 = all(b:app)' },
    message: /announces 203\.0\.113\.10\/32, which is not inside the VIP ranges \(198\.51\.100\.64\/26\)/,
  },
  {
    rule: 'syslog.scheme',
    fail: { 'appliance.syslog_server': 'https://logs.example.test' },
    pass: { 'appliance.syslog_server': 'udp://logs.example.test' },
    message: /scheme "https"; udp, tcp and tls/,
  },
  {
    rule: 'syslog.host',
    fail: { 'appliance.syslog_server': 'tcp://logs!:514' },
    pass: { 'appliance.syslog_server': 'tcp://192.0.2.50:514' },
  },
  {
    rule: 'syslog.port',
    fail: { 'appliance.syslog_server': 'tls://logs.example.test:99999' },
    pass: { 'appliance.syslog_server': 'tls://logs.example.test:6514' },
  },
  {
    rule: 'syslog.tls-ip',
    fail: { 'appliance.syslog_server': 'tls://192.0.2.50' },
    pass: { 'appliance.syslog_server': 'tls://logs.example.test' },
    message: /by IP address/,
  },
  {
    rule: 'rhi.family',
    fail: { ...ON, 'loadbalance.service_ip_range': '198.51.100.64/26, 2001:db8::/64' },
    pass: {
      ...ON,
      'loadbalance.service_ip_range': '198.51.100.64/26, 2001:db8::/64',
      'rhi.peers': '198.51.100.1:65001, [2001:db8:1::1]:65001',
      'network.workload_ip': '2001:db8:1::10/64',
      'network.workload_gateway': '2001:db8:1::1',
    },
    message: /2001:db8::\/64 is IPv6 but no IPv6 BGP peer is given/,
  },
  {
    rule: 'integer.range',
    fail: { ...PAIR, 'ha.priority': '255' },
    pass: { ...PAIR, 'ha.priority': '254' },
    message: /^ha\.priority = 255 is outside 1–254$/,
    hint: /use 100/,
  },
  {
    rule: 'integer.range',
    fail: { ...PAIR, 'ha.vrid': 'abc' },
    pass: { ...PAIR, 'ha.vrid': '255' },
    message: /ha\.vrid = "abc" is not a whole number/,
  },
  { rule: 'ha.incomplete', fail: { ...PAIR, 'ha.peers': '' }, pass: PAIR, message: /ha\.peers is not/ },
  {
    rule: 'ha.management-static',
    fail: { ...PAIR, 'network.management_ip': '', 'network.management_gateway': '' },
    pass: { 'network.management_ip': '', 'network.management_gateway': '' },
  },
  {
    rule: 'ha.address-network',
    fail: { ...PAIR, 'ha.address': '198.51.100.20' },
    pass: PAIR,
    message: /198\.51\.100\.20 is not in the management network 192\.0\.2\.10\/24/,
  },
  {
    rule: 'ha.address-taken',
    fail: { ...PAIR, 'ha.address': '192.0.2.1' },
    pass: PAIR,
    message: /the management gateway \(network\.management_gateway\)/,
  },
  { rule: 'ha.peer-syntax', fail: { ...PAIR, 'ha.peers': '192.0.2.12, peer-b' }, pass: PAIR, message: /"peer-b"/ },
  { rule: 'ha.peer-network', fail: { ...PAIR, 'ha.peers': '198.51.100.12' }, pass: PAIR },
  { rule: 'ha.peer-own', fail: { ...PAIR, 'ha.peers': '192.0.2.10' }, pass: PAIR, message: /management address/ },
  { rule: 'ha.peer-duplicate', fail: { ...PAIR, 'ha.peers': '192.0.2.12,192.0.2.12' }, pass: PAIR },
  {
    rule: 'ha.ca-required',
    fail: { ...PAIR, 'appliance.ca_cert': null, 'appliance.ca_cert_key': null },
    pass: PAIR,
    hint: /ovactl export --for-successor/,
  },
  { rule: 'frontend.ignored', deployment: 'default', fail: { 'network.frontend_ip': '203.0.113.10/24' }, pass: {} },
];

// Rules whose cases need real certificates or other input forms; tested in the named files.
const ELSEWHERE: Record<string, string> = {
  'ca.cert-parse': 'pem-ca.test.ts',
  'ca.not-ca': 'pem-ca.test.ts',
  'ca.not-yet-valid': 'pem-ca.test.ts',
  'ca.expired': 'pem-ca.test.ts',
  'ca.key-parse': 'pem-ca.test.ts',
  'ca.key-encrypted': 'pem-ca.test.ts',
  'ca.key-mismatch': 'pem-ca.test.ts',
  'source.unterminated-quote': 'rules.test.ts (below)',
  'deployment.unknown': 'rules.test.ts (below)',
};

t.test('the example itself is valid with no findings', async (t) => {
  const r = await validateDocument(await doc(JSON.stringify(BASE)));
  t.same(rulesOf(r), []);
  t.equal(r.valid, true);
  t.equal(r.deployment, 'default');
});

t.test('the example with route health injection on is valid with no findings', async (t) => {
  const r = await check({ ...ON, 'loadbalance.service_ip_range': '10.99.0.0/24' });
  t.same(rulesOf(r), []);
  t.equal(r.properties['rhi.enabled'], true);
  t.same(r.properties['rhi.peers'], ['198.51.100.1:65001']);
  t.equal(r.properties['rhi.rules'], 'auto', 'rules default to auto');
  t.same(
    rulesOf(await check({ ...ON, 'rhi.enabled': 'False', 'rhi.local_as': 'nonsense' })),
    ['rhi.ignored'],
    'switched off: values are not checked, only said to be ignored',
  );
  t.same(
    rulesOf(await check({ 'rhi.enabled': 'False', 'rhi.rules': 'AUTO', 'rhi.bfd': 'False', 'rhi.peers': '' })),
    [],
    'defaults given explicitly (as vSphere and govc do) are not "ignored values"',
  );
});

t.test('every rule has a failing and a passing case', async (t) => {
  const covered = new Set([...CASES.map((c) => c.rule), ...Object.keys(ELSEWHERE)]);
  for (const rule of RULES) t.ok(covered.has(rule.id), `rule ${rule.id} has a test case`);
  for (const id of covered)
    t.ok(
      RULES.some((r) => r.id === id),
      `${id} is a rule in the catalogue`,
    );
});

for (const c of CASES) {
  t.test(`${c.rule}: ${JSON.stringify(c.fail).slice(0, 90)}`, async (t) => {
    const opts = c.deployment ? { deployment: c.deployment } : {};
    const bad = await check(c.fail, opts);
    const found = [...bad.errors, ...bad.warnings].filter((f) => f.rule === c.rule);
    t.ok(found.length > 0, `${c.rule} fires; got ${JSON.stringify(rulesOf(bad))}`);
    const severity = RULES.find((r) => r.id === c.rule)!.severity;
    t.equal(bad.valid, severity === 'error' ? false : bad.errors.length === 0, 'validity follows the severity');
    for (const f of found) {
      t.ok(f.keys.length > 0 || c.rule === 'property.unknown', 'names the keys');
      // Built from values and table text: one line, and no hole a missing value would leave.
      t.match(f.message, /^\S[^\n]*\S$/, 'a one-line message');
      t.notMatch(f.message, /\bundefined\b|\bNaN\b|\[object |\{\{|\$\{/, 'no unfilled part in the message');
    }
    if (c.message)
      t.ok(
        found.some((f) => c.message!.test(f.message)),
        `message matches ${c.message}: ${found.map((f) => f.message).join(' | ')}`,
      );
    if (c.hint)
      t.ok(
        found.some((f) => f.hint && c.hint!.test(f.hint)),
        `hint matches ${c.hint}: ${found.map((f) => f.hint).join(' | ')}`,
      );
    const good = await check(c.pass, c.rule === 'frontend.ignored' ? { deployment: 'frontend' } : opts);
    t.notOk(
      rulesOf(good).includes(c.rule),
      `${c.rule} does not fire on ${JSON.stringify(c.pass)}; got ${JSON.stringify(rulesOf(good))}`,
    );
  });
}

t.test('all findings in one run', async (t) => {
  const r = await check({
    'network.management_ip': '192.0.2.10',
    'loadbalance.service_ip_range': '10.10.18.18/28, 198.51.100.0/25',
    'loadbalance.dataplane_port': '22',
    'appliance.root_pwd': 'abc',
  });
  const rules = rulesOf(r);
  for (const id of [
    'address.prefix-required',
    'vip.host-bits',
    'vip.contains-infrastructure',
    'port.ssh',
    'password.length',
  ])
    t.ok(rules.includes(id), id);
});

t.test('deployment.unknown comes from a govc Deployment this appliance lacks', async (t) => {
  const govc = (d: string) =>
    JSON.stringify({ Deployment: d, PropertyMapping: Object.entries(BASE).map(([Key, Value]) => ({ Key, Value })) });
  const bad = await validateDocument(await doc(govc('large')));
  t.ok(bad.errors.some((f) => f.rule === 'deployment.unknown' && /"large"/.test(f.message)));
  const good = await validateDocument(await doc(govc('Frontend')));
  t.equal(good.deployment, 'frontend');
  t.notOk(rulesOf(good).includes('deployment.unknown'));
});

t.test('source.unterminated-quote from the Supervisor log form', async (t) => {
  const entries = Object.entries(withValues({}));
  const py = (brokenKey?: string) =>
    '{\n' + entries.map(([k, v]) => (k === brokenKey ? `  '${k}': '${v}, ` : `  '${k}': '${v}', `)).join('\n') + '\n}';
  const bad = await validateDocument(await doc(py('network.hostname')));
  const f = bad.warnings.find((w) => w.rule === 'source.unterminated-quote');
  t.ok(f, 'warned');
  t.same(f?.keys, ['network.hostname']);
  t.equal(bad.properties['network.hostname'], BASE['network.hostname'], 'value recovered up to the end of its line');
  const good = await validateDocument(await doc(py()));
  t.same(rulesOf(good), []);
});

t.test('frontend deployment: the frontend NIC joins the cross-field checks', async (t) => {
  const vals = {
    'network.frontend_ip': '203.0.113.10/24',
    'network.frontend_gateway': '203.0.113.1',
    'loadbalance.service_ip_range': '203.0.113.0/28',
  };
  const r = await check(vals, { deployment: 'frontend' });
  t.ok(r.errors.some((f) => f.rule === 'vip.contains-infrastructure' && f.keys.includes('network.frontend_ip')));
  const d = await check(vals, { deployment: 'default' });
  t.notOk(
    d.errors.some((f) => f.keys.includes('network.frontend_ip')),
    'ignored under default',
  );
  t.ok(d.warnings.some((f) => f.rule === 'frontend.ignored'));
});

t.test('a flood of bad entries stays readable: at most 20 findings per rule', async (t) => {
  const many = Array.from({ length: 200 }, (_, i) => `bad${i}`).join(',');
  const r = await check({ 'loadbalance.service_ip_range': many });
  const syntax = r.errors.filter((f) => f.rule === 'vip.syntax');
  t.equal(syntax.length, 20);
  t.match(syntax[19]!.message, /and 181 more findings of rule vip\.syntax/);
  const long = await check({ 'network.hostname': 'h'.repeat(2000) + '.example.test' });
  const f = long.errors.find((x) => x.rule === 'hostname.syntax')!;
  t.ok(f.message.length < 200, 'a long value is cut in the message');
  t.match(f.message, /\(2013 characters\)/);
});

t.test('secret values never appear in findings', async (t) => {
  const secret = 'Sup3r$ecret-Value';
  const r = await check({ 'appliance.root_pwd': ` ${secret}`, 'loadbalance.haproxy_pwd': secret + 'x'.repeat(200) });
  t.ok(r.warnings.some((f) => f.rule === 'password.whitespace'));
  t.ok(r.errors.some((f) => f.rule === 'password.length'));
  t.notMatch(JSON.stringify([...r.errors, ...r.warnings]), secret);
});
