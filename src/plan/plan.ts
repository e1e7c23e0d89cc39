// plan(): the validated values and the machine's facts → every file and the service actions they
// need. Pure: no I/O, no clock, no randomness. plan/boot.ts turns it into the steps first boot runs.
import { isCidr, networkText, parseCidr, parseIp, type Family } from '../net/ip.js';
import type { NetworkFile } from './network.js';
import { NICS, type Nic } from '../appliance/nics.js';
import { template } from '../render/templates.js';
import { BIRD_CONF, birdConf } from '../rhi/bird.js';
import { DEFAULT_PROTOCOL, RULES_FILE, protocolsOf } from '../rhi/rules.js';
import { mergeHaproxyConfig } from '../haproxy/merge.js';
import { haproxySizing } from '../haproxy/maxconn.js';
import {
  DATAPLANEAPI_STATE_DIRS,
  DATAPLANEAPI_USERS,
  DATAPLANEAPI_YAML,
  HAPROXY_ADMIN_SOCKET,
  HAPROXY_BIN,
  HAPROXY_CFG,
  HAPROXY_CHROOT,
  METRICS_CFG,
  METRICS_DIR,
  METRICS_DIR_IN_CHROOT,
  METRICS_FILES,
  METRICS_LUA,
  NETWORK_DIR,
  RANGES_FILE,
  ROUTE_TABLES_CFG,
  SYSTEM_FILES,
  TLS_PATHS,
} from '../appliance/paths.js';
import { DATAPLANEAPI_PROBE_WAIT_SECONDS, DATAPLANEAPI_RELOAD_DELAY_SECONDS } from '../appliance/dataplaneapi.js';
import { ROUTE_TABLES, RULE_PRIORITY } from '../appliance/policy-routing.js';
import { FORWARDED_UNITS, SYSLOG_CA_FILE, SYSLOG_FORWARD_CONF, SYSTEM_CA_BUNDLE } from '../appliance/syslog.js';
import { hostPort } from '../net/url.js';
import { KEEPALIVED_CONF } from '../appliance/ha.js';
import { haSettings } from '../ha/settings.js';
import { keepalivedConf } from '../ha/keepalived.js';
import type { ManagementProperties, RhiValues, ValidProperties } from '../validate/values.js';
import type { Action, FullPlanInput, PlanInput, Plan, PlannedFile, Unit } from './types.js';

/** Policy-routing tables: replies leave by the NIC they came in on (the management NIC uses main). */

const file = (
  path: string,
  content: string,
  restarts: Unit[],
  mode = 0o644,
  owner = 'root',
  group = 'root',
): PlannedFile => ({ path, mode, owner, group, content, restarts, reloads: [] });

interface Rule {
  from: string | null;
  to: string | null;
  table: number | 'main';
  priority: number;
  suppressPrefixLength: number | null;
}
const rule = (r: Partial<Rule> & Pick<Rule, 'table' | 'priority'>): Rule => ({
  from: null,
  to: null,
  suppressPrefixLength: null,
  ...r,
});

function nicView(nic: Nic, input: PlanInput) {
  // The management-only scope plans the management NIC alone, whose values it has.
  const values: Partial<ValidProperties> = input.properties;
  const address = values[nic.ip];
  const gateway = address ? (values[nic.gateway] ?? null) : null;
  const isManagement = nic.name === 'management';
  const table = isManagement ? null : ROUTE_TABLES[nic.name];
  const full = input.scope === 'full' ? input.properties : undefined;
  // The VIPs live on the workload network (default) or the frontend network (frontend option).
  const vipNic = input.deployment === 'frontend' ? 'frontend' : 'workload';
  const carriesVips = nic.name === vipNic ? full : undefined;
  const rules: Rule[] = [];
  if (isManagement) rules.push(rule({ table: 'main', suppressPrefixLength: 0, priority: RULE_PRIORITY.main }));
  if (table !== null) {
    if (full && nic.name === 'workload')
      for (const n of full['network.additional_workload_networks'])
        rules.push(rule({ to: n.text, table, priority: RULE_PRIORITY.to }));
    if (address)
      rules.push(
        rule({
          from: `${address.address.text}/${address.family === 4 ? 32 : 128}`,
          table,
          priority: RULE_PRIORITY.from,
        }),
      );
    if (carriesVips)
      for (const r of carriesVips['loadbalance.service_ip_range'])
        rules.push(rule({ from: r.text, table, priority: RULE_PRIORITY.vip }));
  }
  const dns = isManagement ? [...input.properties['network.nameservers']] : [];
  return {
    name: nic.name,
    requiredForOnline: isManagement,
    address: address ? `${address.address.text}/${address.prefix}` : null,
    ip: address ? address.address.text : null,
    network: address ? networkText(address) : null,
    gateway,
    defaultRoute: isManagement && gateway !== null,
    dns,
    dnsDefaultRoute: isManagement && dns.length > 0,
    dhcpTable: address || isManagement ? null : table,
    table,
    rules,
  };
}

const networkFileName = (nic: Nic['name']): string => `20-ovactl-${nic}.network`;

/** The NICs a plan configures: the deployment's, or the management NIC alone (management-only). */
const plannedNics = (input: PlanInput): Nic[] =>
  NICS.filter(
    (n) => (!n.onlyIn || n.onlyIn === input.deployment) && (input.scope === 'full' || n.name === 'management'),
  );

/**
 * The network the .network files say, as data (plan/network.ts's model, which doctor reads the
 * files on disk into): each NIC's static address, its gateway, DNS and the sources of its policy rules.
 */
export function networkOf(input: PlanInput): NetworkFile[] {
  return plannedNics(input).map((nic) => {
    const v = nicView(nic, input);
    const address = v.address === null ? undefined : parseCidr(v.address);
    const gateway = v.gateway === null ? undefined : parseIp(v.gateway);
    return {
      name: networkFileName(nic.name),
      addresses: address && isCidr(address) ? [address] : [],
      gateways: gateway ? [gateway] : [],
      dns: v.dns.flatMap((d) => parseIp(d) ?? []),
      policyFrom: v.rules.flatMap((r) => (r.from === null ? [] : [r.from])),
    };
  });
}

/**
 * The .link files naming the NICs by PCI path. The image ships them for all three NICs (udev renames
 * the NICs before first boot runs), and the plan writes the ones of the deployment.
 */
export function linkFile(name: Nic['name'], pciPath: string): PlannedFile {
  return file(`${NETWORK_DIR}/10-ovactl-${name}.link`, template('networkd/nic.link')({ name, pciPath }), [
    'systemd-networkd.service',
  ]);
}

/** Route health injection: bird.conf and the rules file, from validated values. */
function rhiFiles(input: FullPlanInput, rhi: RhiValues): PlannedFile[] {
  const { rules } = rhi;
  // The protocols the rules name, and the defaults: rhi always, rhi6 when a VIP range is IPv6.
  const protocols = new Map<string, Family>([[DEFAULT_PROTOCOL[4], 4]]);
  if (input.properties['loadbalance.service_ip_range'].some((c) => c.family === 6))
    protocols.set(DEFAULT_PROTOCOL[6], 6);
  for (const [name, family] of protocolsOf(rules.rules)) protocols.set(name, family);
  const conf = birdConf({
    ...(rhi.routerId !== undefined ? { routerId: rhi.routerId } : {}),
    ...(rhi.localAs !== undefined ? { localAs: rhi.localAs } : {}),
    peers: rhi.peers,
    bfd: rhi.bfd,
    ...(rhi.ospfArea !== undefined
      ? { ospf: { area: rhi.ospfArea, interface: input.deployment === 'frontend' ? 'frontend' : 'workload' } }
      : {}),
    protocols,
  });
  // The rules one a line, in the order given ("auto" included).
  const lines = [
    ...rules.rules.map((r) => ({ line: r.line, column: r.column, text: r.source })),
    ...(rules.auto ? [{ ...rules.auto, text: 'auto' }] : []),
  ]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .map((l) => l.text);
  return [
    file(BIRD_CONF, conf, ['bird.service'], 0o640, 'root', 'bird'),
    file(RULES_FILE, template('ovactl/rhi.rules')({ lines }), []),
  ];
}

/**
 * The names of the Data Plane API certificate: the management address (static, or the DHCP lease when
 * known), the hostname, and localhost.
 */
export function certificateNames(
  props: ManagementProperties,
  lease?: string,
  floating?: string,
): { ips: string[]; dnsNames: string[] } {
  const apiIp = props['network.management_ip']?.address.text ?? lease;
  // Two appliances: the Supervisor connects to the floating address (ha.address), on either of them.
  const ips = [...new Set([...(apiIp ? [apiIp] : []), ...(floating ? [floating] : []), '127.0.0.1'])];
  return { ips, dnsNames: [...new Set([props['network.hostname'], 'localhost'])] };
}

/** route-tables.cfg: the DHCP NICs whose leases route-tables.service follows (none: it does not run). */
function routeTablesFile(nics: readonly Nic[], input: FullPlanInput, dnsNames: readonly string[]) {
  const dhcp = nics.filter((n) => input.properties[n.ip] === undefined);
  const tables = dhcp.flatMap((n) => (n.name === 'management' ? [] : [{ nic: n.name, table: ROUTE_TABLES[n.name] }]));
  const api = dhcp.some((n) => n.name === 'management') ? { nic: 'management', dnsNames } : null;
  const content = template('vmware/route-tables.cfg')({ tables, api });
  const follows = tables.length > 0 || api !== null;
  return { file: file(ROUTE_TABLES_CFG, content, ['route-tables.service']), follows };
}

/** ovactl's sections of haproxy.cfg (global, defaults), sized to the VM's memory, before the merge. */
export const haproxyConfigText = (memoryBytes: number): string =>
  template('haproxy/haproxy.cfg')({
    ...haproxySizing(memoryBytes),
    chroot: HAPROXY_CHROOT,
    adminSocket: HAPROXY_ADMIN_SOCKET,
  });

/** Whether an ovactl-metrics.cfg serves metrics (the "off" file has no frontend). */
export const servesMetrics = (cfg: string | undefined): boolean => cfg?.includes('frontend ovactl_metrics') === true;

/** Where ovactl-metrics.cfg points haproxy: the appliance's paths, or a test tree's for `haproxy -c`. */
export interface MetricsPaths {
  readonly luaFile: string;
  readonly serverCert: string;
}
export const METRICS_PATHS: MetricsPaths = { luaFile: METRICS_LUA, serverCert: TLS_PATHS.serverCert };

/**
 * ovactl-metrics.cfg (always: the haproxy unit loads it; "off" is a file without sections) and, when
 * appliance.metrics_port is set, the Lua service serving the appliance's own metrics.
 */
export function metricsConfig(
  input: FullPlanInput,
  paths: MetricsPaths = METRICS_PATHS,
): { cfg: string; lua?: string } {
  const port = input.properties['appliance.metrics_port'];
  // On the management address only: the static one, or the DHCP lease first boot sees.
  const host = input.properties['network.management_ip']?.address.text ?? input.facts.managementLease;
  const why = port === undefined ? 'appliance.metrics_port is not set' : 'the management NIC has no address yet (DHCP)';
  const view = {
    on: port !== undefined && host !== undefined,
    why,
    port: port ?? null,
    host: host ?? null,
    ...paths,
    metricsDir: METRICS_DIR,
    user: input.properties['loadbalance.haproxy_user'],
    passwordHash: input.facts.haproxyPasswordHash,
    floating: floatingApi(input),
  };
  const cfg = template('haproxy/ovactl-metrics.cfg')(view);
  if (!view.on) return { cfg };
  const lua = template('haproxy/ovactl-metrics.lua')({
    metricsDir: METRICS_DIR,
    dirInChroot: METRICS_DIR_IN_CHROOT,
    files: METRICS_FILES,
  });
  return { cfg, lua };
}

/** The files whose change ovactl-ha.service must see: credentials and port, the ranges (its digest). */
const HA_INPUTS: readonly string[] = [DATAPLANEAPI_USERS, DATAPLANEAPI_YAML, RANGES_FILE];

/** Two appliances: the Data Plane API at the floating address, forwarded to the own one (TLS passes through). */
function floatingApi(input: FullPlanInput): { address: string; own: string; port: number } | null {
  const pair = haSettings(input.properties, input.deployment);
  return pair ? { address: pair.address, own: pair.own, port: pair.port } : null;
}

/**
 * Log forwarding: rsyslog's drop-in, always written (a comment only when off, so clearing the value
 * empties it), and rsyslog started only while appliance.syslog_server is set.
 */
function syslogForwarding(
  input: FullPlanInput,
  hostname: string,
): { files: PlannedFile[]; action: Action | undefined } {
  const target = input.properties['appliance.syslog_server'];
  const installed = input.facts.rsyslogInstalled;
  const restarts: Unit[] = installed && target ? ['rsyslog.service'] : [];
  // tls: the given CA when there is one (the site's own CA, as for the Data Plane API), else Debian's bundle.
  const givenCa = target?.scheme === 'tls' ? input.properties['appliance.ca_cert'] : undefined;
  const server = target && {
    url: `${target.scheme}://${hostPort(target.host, target.port)}`,
    host: target.host,
    port: target.port,
    protocol: target.scheme === 'udp' ? 'udp' : 'tcp',
    stream: target.scheme !== 'udp',
    tls: target.scheme === 'tls',
    caFile: givenCa !== undefined ? SYSLOG_CA_FILE : SYSTEM_CA_BUNDLE,
  };
  const conf = template('rsyslog/forward.conf')({ server: server ?? null, hostname, units: FORWARDED_UNITS });
  const files = [file(SYSLOG_FORWARD_CONF, conf, restarts)];
  if (givenCa !== undefined)
    files.push(file(SYSLOG_CA_FILE, givenCa.endsWith('\n') ? givenCa : `${givenCa}\n`, restarts));
  const action: Action | undefined = !installed
    ? undefined
    : target
      ? { kind: 'enable-start', unit: 'rsyslog.service' }
      : { kind: 'disable-stop', units: ['rsyslog.service'] };
  return { files, action };
}

export function plan(input: PlanInput): Plan {
  const props = input.properties;
  const full = input.scope === 'full' ? input : undefined;
  const nics = plannedNics(input);
  const files: PlannedFile[] = [];

  for (const nic of nics) {
    files.push(linkFile(nic.name, input.facts.pciPaths[nic.name]));
    files.push(
      file(`${NETWORK_DIR}/${networkFileName(nic.name)}`, template('networkd/nic.network')(nicView(nic, input)), [
        'systemd-networkd.service',
      ]),
    );
  }

  const hostname = props['network.hostname'];
  const management = props['network.management_ip'];
  files.push(file(SYSTEM_FILES.hostname, template('system/hostname')({ hostname }), []));
  files.push(
    file(
      SYSTEM_FILES.hosts,
      template('system/hosts')({
        hostname,
        shortName: hostname.replace(/\..*$/s, ''),
        address: management?.address.text ?? null,
      }),
      [],
    ),
  );
  files.push(
    file(
      SYSTEM_FILES.sshd,
      template('system/sshd.conf')({
        permitRootLogin: props['appliance.permit_root_login'],
        listenAddress: management?.address.text ?? null,
      }),
      ['ssh.service'],
    ),
  );
  files.push(
    file(SYSTEM_FILES.sysctl, template('system/sysctl.conf')({ routedVips: full?.properties.rhi !== undefined }), [
      'systemd-sysctl.service',
    ]),
  );
  const ntp = props['network.ntp_servers'];
  if (ntp.length)
    files.push(
      file(SYSTEM_FILES.timesyncd, template('system/timesyncd.conf')({ servers: ntp }), ['systemd-timesyncd.service']),
    );

  let merged: ReturnType<typeof mergeHaproxyConfig> | undefined;
  const actions: Action[] = [{ kind: 'set-root-password' }, { kind: 'enable-start', unit: 'systemd-networkd.service' }];
  if (full) {
    const values = full.properties;
    files.push(
      file(
        RANGES_FILE,
        template('vmware/anyip-routes.cfg')({ ranges: values['loadbalance.service_ip_range'].map((r) => r.text) }),
        ['anyip-routes.service'],
      ),
    );
    // ovactl's sections merged into the control plane's file; only haproxy.cfg changed → a reload.
    // 0644 root:root, as the Data Plane API (root) leaves it after every save: another mode or owner
    // would make each re-apply rewrite the file, and the API then rewrite it again.
    const rendered = haproxyConfigText(input.facts.memoryBytes);
    merged = mergeHaproxyConfig(input.facts.currentHaproxyConfig, rendered);
    files.push({ ...file(HAPROXY_CFG, merged.content, []), reloads: ['haproxy.service'] });
    const metrics = metricsConfig(full);
    files.push({ ...file(METRICS_CFG, metrics.cfg, [], 0o600), reloads: ['haproxy.service'] });
    if (metrics.lua !== undefined)
      files.push({ ...file(METRICS_LUA, metrics.lua, [], 0o644), reloads: ['haproxy.service'] });
    const users = { user: values['loadbalance.haproxy_user'], passwordHash: input.facts.haproxyPasswordHash };
    files.push(
      file(DATAPLANEAPI_USERS, template('haproxy/dataplaneapi-users.cfg')(users), ['dataplaneapi.service'], 0o600),
    );
    const port = values['loadbalance.dataplane_port'];
    // With DHCP the API listens on the lease (route-tables.service moves it, and the certificate's SAN,
    // when the lease changes); on all addresses only until there is one.
    const apiIp = management?.address.text ?? input.facts.managementLease;
    const paths = {
      ...TLS_PATHS,
      ...DATAPLANEAPI_STATE_DIRS,
      haproxyCfg: HAPROXY_CFG,
      haproxyBin: HAPROXY_BIN,
    };
    const api = {
      hostname,
      host: apiIp ?? '0.0.0.0',
      port,
      usersFile: DATAPLANEAPI_USERS,
      paths,
      reloadDelay: DATAPLANEAPI_RELOAD_DELAY_SECONDS,
    };
    files.push(file(DATAPLANEAPI_YAML, template('haproxy/dataplaneapi.yaml')(api), ['dataplaneapi.service'], 0o600));
    const names = certificateNames(props, input.facts.managementLease, values.ha?.address);
    const routeTables = routeTablesFile(nics, full, names.dnsNames);
    files.push(routeTables.file);
    actions.push(
      { kind: 'issue-certificates', ...names, givenCa: values['appliance.ca_cert'] !== undefined },
      { kind: 'enable-start', unit: 'anyip-routes.service' },
      routeTables.follows
        ? { kind: 'enable-start', unit: 'route-tables.service' }
        : { kind: 'disable-stop', units: ['route-tables.service'] },
      { kind: 'enable-start', unit: 'haproxy.service' },
    );
    if (input.facts.dataplaneapiInstalled) {
      actions.push(
        { kind: 'enable-start', unit: 'dataplaneapi.service' },
        {
          kind: 'probe-dataplaneapi',
          host: management?.address.text ?? null,
          port,
          waitSeconds: DATAPLANEAPI_PROBE_WAIT_SECONDS,
        },
      );
    }
    const syslog = syslogForwarding(full, hostname);
    files.push(...syslog.files);
    if (syslog.action) actions.push(syslog.action);
    const pair = haSettings(values, input.deployment);
    if (pair) {
      // ovactl-ha reads the values once, at its start: it starts again when what it uses changes.
      for (const [i, f] of files.entries())
        if (HA_INPUTS.includes(f.path)) files[i] = { ...f, restarts: [...f.restarts, 'ovactl-ha.service'] };
      files.push(file(KEEPALIVED_CONF, keepalivedConf(pair, hostname), ['keepalived.service', 'ovactl-ha.service']));
      actions.push(
        { kind: 'enable-start', unit: 'keepalived.service' },
        { kind: 'enable-start', unit: 'ovactl-ha.service' },
      );
    } else {
      // A single appliance: nothing may take a floating address.
      actions.push({
        kind: 'disable-stop',
        units: ['ovactl-ha.service', ...(input.facts.keepalivedInstalled ? ['keepalived.service' as const] : [])],
      });
    }
    if (values.rhi) {
      files.push(...rhiFiles(full, values.rhi));
      actions.push(
        { kind: 'enable-start', unit: 'bird.service' },
        { kind: 'enable-start', unit: 'ovactl-rhi.service' },
      );
    } else {
      // Switched off (or never on): nothing may announce this appliance's VIPs.
      actions.push({
        kind: 'disable-stop',
        units: ['ovactl-rhi.service', ...(input.facts.birdInstalled ? ['bird.service' as const] : [])],
      });
    }
  }
  if (ntp.length) actions.push({ kind: 'enable-start', unit: 'systemd-timesyncd.service' });
  return { files, actions, ...(merged ? { haproxy: { kept: merged.kept, changed: merged.changed } } : {}) };
}
