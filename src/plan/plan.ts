// plan(): the normalised properties and the machine's facts → every file and service action. Pure:
// no I/O, no clock, no randomness; apply is the only part that touches the system.
import { isCidr, networkText, parseCidr, type Cidr, type Family } from '../net/ip.js';
import { NICS, type Nic } from '../appliance/nics.js';
import { template } from '../render/templates.js';
import { birdConf, type Peer } from '../rhi/bird.js';
import { DEFAULT_PROTOCOL, RULES_FILE, parseRules, protocolsOf } from '../rhi/rules.js';
import { parseAs, parseOspfArea, parsePeer } from '../rhi/settings.js';
import { mergeHaproxyConfig } from '../haproxy/merge.js';
import { haproxySizing } from '../haproxy/maxconn.js';
import {
  DATAPLANEAPI_USERS,
  DATAPLANEAPI_YAML,
  HAPROXY_CFG,
  METRICS_CFG,
  METRICS_DIR,
  METRICS_DIR_IN_CHROOT,
  METRICS_LUA,
  ROUTE_TABLES_CFG,
} from '../appliance/paths.js';
import { METRICS_FILES } from '../metrics/prom.js';
import { DATAPLANEAPI_PROBE_WAIT_SECONDS } from '../appliance/dataplaneapi.js';
import { ROUTE_TABLES, RULE_PRIORITY } from '../appliance/policy-routing.js';
import { FORWARDED_UNITS, SYSLOG_CA_FILE, SYSLOG_FORWARD_CONF, SYSTEM_CA_BUNDLE } from '../appliance/syslog.js';
import { isSyslogProblem, parseSyslogServer } from '../syslog/server.js';
import { hostPort } from '../net/url.js';
import type { Action, PlanInput, Plan, PlannedFile, Unit } from './types.js';

/** Policy-routing tables: replies leave by the NIC they came in on (the management NIC uses main). */

const file = (
  path: string,
  content: string,
  restarts: Unit[],
  mode = 0o644,
  owner = 'root',
  group = 'root',
): PlannedFile => ({ path, mode, owner, group, content, restarts, reloads: [] });

const cidr = (s: string | undefined): Cidr | undefined => {
  if (s === undefined) return undefined;
  const c = parseCidr(s);
  return isCidr(c) ? c : undefined;
};

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
  const p = input.properties as Record<string, unknown>;
  const address = cidr(p[nic.ip] as string | undefined);
  const gateway = address ? ((p[nic.gateway] as string | undefined) ?? null) : null;
  const isManagement = nic.name === 'management';
  const table = isManagement ? null : ROUTE_TABLES[nic.name];
  // The VIPs live on the workload network (default) or the frontend network (frontend option).
  const carriesVips =
    input.scope === 'full' && nic.name === (input.deployment === 'frontend' ? 'frontend' : 'workload');
  const rules: Rule[] = [];
  if (isManagement) rules.push(rule({ table: 'main', suppressPrefixLength: 0, priority: RULE_PRIORITY.main }));
  if (table !== null) {
    if (nic.name === 'workload')
      for (const n of input.properties['network.additional_workload_networks'] ?? [])
        rules.push(rule({ to: n, table, priority: RULE_PRIORITY.to }));
    if (address)
      rules.push(
        rule({
          from: `${address.address.text}/${address.family === 4 ? 32 : 128}`,
          table,
          priority: RULE_PRIORITY.from,
        }),
      );
    if (carriesVips)
      for (const r of input.properties['loadbalance.service_ip_range'] ?? [])
        rules.push(rule({ from: r, table, priority: RULE_PRIORITY.vip }));
  }
  const dns = isManagement ? [...(input.properties['network.nameservers'] ?? [])] : [];
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

/**
 * The .link files naming the NICs by PCI path. The image ships them for all three NICs (udev renames
 * the NICs before first boot runs), and the plan writes the ones of the deployment.
 */
export function linkFile(name: Nic['name'], pciPath: string): PlannedFile {
  return file(`/etc/systemd/network/10-ovactl-${name}.link`, template('networkd/nic.link')({ name, pciPath }), [
    'systemd-networkd.service',
  ]);
}

/** Route health injection: bird.conf and the rules file, from validated values. */
function rhiFiles(input: PlanInput, management: Cidr | undefined): PlannedFile[] {
  const props = input.properties;
  const rules = parseRules(props['rhi.rules'] ?? 'auto');
  // The protocols the rules name, and the defaults: rhi always, rhi6 when a VIP range is IPv6.
  const protocols = new Map<string, Family>([[DEFAULT_PROTOCOL[4], 4]]);
  for (const r of props['loadbalance.service_ip_range'] ?? []) {
    const c = parseCidr(r);
    if (isCidr(c) && c.family === 6) protocols.set(DEFAULT_PROTOCOL[6], 6);
  }
  for (const [name, family] of protocolsOf(rules.rules)) protocols.set(name, family);
  const localAs = props['rhi.local_as'] === undefined ? undefined : parseAs(props['rhi.local_as']);
  const peers: Peer[] = (props['rhi.peers'] ?? []).flatMap((text) => {
    const peer = parsePeer(text);
    return 'problem' in peer ? [] : [{ address: peer.ip.text, family: peer.ip.family, as: peer.as }];
  });
  const area = props['rhi.ospf_area'] === undefined ? undefined : parseOspfArea(props['rhi.ospf_area']);
  const routerId = props['rhi.router_id'] ?? (management?.family === 4 ? management.address.text : undefined);
  const conf = birdConf({
    ...(routerId !== undefined ? { routerId } : {}),
    ...(localAs && 'as' in localAs ? { localAs: localAs.as } : {}),
    peers,
    bfd: props['rhi.bfd'] ?? false,
    ...(area !== undefined
      ? { ospf: { area, interface: input.deployment === 'frontend' ? 'frontend' : 'workload' } }
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
    file('/etc/bird/bird.conf', conf, ['bird.service'], 0o640, 'root', 'bird'),
    file(RULES_FILE, template('ovactl/rhi.rules')({ lines }), []),
  ];
}

/**
 * The names of the Data Plane API certificate: the management address (static, or the DHCP lease when
 * known), the hostname, and localhost.
 */
export function certificateNames(
  props: PlanInput['properties'],
  lease?: string,
): { ips: string[]; dnsNames: string[] } {
  const management = cidr(props['network.management_ip']);
  const apiIp = management?.address.text ?? lease;
  const ips = [...new Set([...(apiIp ? [apiIp] : []), '127.0.0.1'])];
  return { ips, dnsNames: [...new Set([props['network.hostname'] ?? 'haproxy.local', 'localhost'])] };
}

/** route-tables.cfg: the DHCP NICs whose leases route-tables.service follows (none: it does not run). */
function routeTablesFile(nics: readonly Nic[], input: PlanInput, dnsNames: readonly string[]) {
  const p = input.properties as Record<string, unknown>;
  const dhcp = nics.filter((n) => cidr(p[n.ip] as string | undefined) === undefined);
  const tables = dhcp.flatMap((n) => (n.name === 'management' ? [] : [{ nic: n.name, table: ROUTE_TABLES[n.name] }]));
  const api = dhcp.some((n) => n.name === 'management') ? { nic: 'management', dnsNames } : null;
  const content = template('vmware/route-tables.cfg')({ tables, api });
  const follows = tables.length > 0 || api !== null;
  return { file: file(ROUTE_TABLES_CFG, content, ['route-tables.service']), follows };
}

/** Where ovactl-metrics.cfg points haproxy: the appliance's paths, or a test tree's for `haproxy -c`. */
export interface MetricsPaths {
  readonly luaFile: string;
  readonly serverCert: string;
}
export const METRICS_PATHS: MetricsPaths = { luaFile: METRICS_LUA, serverCert: '/etc/haproxy/server.crt' };

/**
 * ovactl-metrics.cfg (always: the haproxy unit loads it; "off" is a file without sections) and, when
 * appliance.metrics_port is set, the Lua service serving the appliance's own metrics.
 */
export function metricsConfig(input: PlanInput, paths: MetricsPaths = METRICS_PATHS): { cfg: string; lua?: string } {
  const port = input.properties['appliance.metrics_port'];
  // On the management address only: the static one, or the DHCP lease first boot sees.
  const host = cidr(input.properties['network.management_ip'])?.address.text ?? input.facts.managementLease;
  const why = port === undefined ? 'appliance.metrics_port is not set' : 'the management NIC has no address yet (DHCP)';
  const view = {
    on: port !== undefined && host !== undefined,
    why,
    port: port ?? null,
    host: host ?? null,
    ...paths,
    metricsDir: METRICS_DIR,
    user: input.properties['loadbalance.haproxy_user'] ?? 'admin',
    passwordHash: input.facts.haproxyPasswordHash,
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

/**
 * Log forwarding: rsyslog's drop-in, always written (a comment only when off, so clearing the value
 * empties it), and rsyslog started only while appliance.syslog_server is set.
 */
function syslogForwarding(input: PlanInput, hostname: string): { files: PlannedFile[]; action: Action | undefined } {
  const text = input.properties['appliance.syslog_server'];
  const parsed = text === undefined ? undefined : parseSyslogServer(text);
  const target = parsed && !isSyslogProblem(parsed) ? parsed : undefined;
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
  const full = input.scope === 'full';
  const nics = NICS.filter((n) => (!n.onlyIn || n.onlyIn === input.deployment) && (full || n.name === 'management'));
  const files: PlannedFile[] = [];

  for (const nic of nics) {
    files.push(linkFile(nic.name, input.facts.pciPaths[nic.name]));
    files.push(
      file(
        `/etc/systemd/network/20-ovactl-${nic.name}.network`,
        template('networkd/nic.network')(nicView(nic, input)),
        ['systemd-networkd.service'],
      ),
    );
  }

  const hostname = props['network.hostname'] ?? 'haproxy.local';
  const management = cidr(props['network.management_ip']);
  files.push(file('/etc/hostname', template('system/hostname')({ hostname }), []));
  files.push(
    file(
      '/etc/hosts',
      template('system/hosts')({
        hostname,
        shortName: hostname.split('.')[0]!,
        address: management?.address.text ?? null,
      }),
      [],
    ),
  );
  files.push(
    file(
      '/etc/ssh/sshd_config.d/50-ovactl.conf',
      template('system/sshd.conf')({
        permitRootLogin: props['appliance.permit_root_login'] ?? true,
        listenAddress: management?.address.text ?? null,
      }),
      ['ssh.service'],
    ),
  );
  files.push(
    file(
      '/etc/sysctl.d/90-ovactl.conf',
      template('system/sysctl.conf')({ routedVips: full && props['rhi.enabled'] === true }),
      ['systemd-sysctl.service'],
    ),
  );
  const ntp = props['network.ntp_servers'] ?? [];
  if (ntp.length)
    files.push(
      file('/etc/systemd/timesyncd.conf.d/50-ovactl.conf', template('system/timesyncd.conf')({ servers: ntp }), [
        'systemd-timesyncd.service',
      ]),
    );

  let merged: ReturnType<typeof mergeHaproxyConfig> | undefined;
  const actions: Action[] = [{ kind: 'set-root-password' }, { kind: 'enable-start', unit: 'systemd-networkd.service' }];
  if (full) {
    files.push(
      file(
        '/etc/vmware/anyip-routes.cfg',
        template('vmware/anyip-routes.cfg')({ ranges: props['loadbalance.service_ip_range'] ?? [] }),
        ['anyip-routes.service'],
      ),
    );
    // ovactl's sections merged into the control plane's file; only haproxy.cfg changed → a reload.
    const rendered = template('haproxy/haproxy.cfg')(haproxySizing(input.facts.memoryBytes));
    merged = mergeHaproxyConfig(input.facts.currentHaproxyConfig, rendered);
    files.push({ ...file(HAPROXY_CFG, merged.content, [], 0o640, 'root', 'haproxy'), reloads: ['haproxy.service'] });
    const metrics = metricsConfig(input);
    files.push({ ...file(METRICS_CFG, metrics.cfg, [], 0o600), reloads: ['haproxy.service'] });
    if (metrics.lua !== undefined)
      files.push({ ...file(METRICS_LUA, metrics.lua, [], 0o644), reloads: ['haproxy.service'] });
    const users = { user: props['loadbalance.haproxy_user'] ?? 'admin', passwordHash: input.facts.haproxyPasswordHash };
    files.push(
      file(DATAPLANEAPI_USERS, template('haproxy/dataplaneapi-users.cfg')(users), ['dataplaneapi.service'], 0o600),
    );
    const port = props['loadbalance.dataplane_port'] ?? 5556;
    // With DHCP the API listens on the lease (route-tables.service moves it, and the certificate's SAN,
    // when the lease changes); on all addresses only until there is one.
    const apiIp = management?.address.text ?? input.facts.managementLease;
    const api = { hostname, host: apiIp ?? '0.0.0.0', port, usersFile: DATAPLANEAPI_USERS };
    files.push(file(DATAPLANEAPI_YAML, template('haproxy/dataplaneapi.yaml')(api), ['dataplaneapi.service'], 0o600));
    const names = certificateNames(props, input.facts.managementLease);
    const routeTables = routeTablesFile(nics, input, names.dnsNames);
    files.push(routeTables.file);
    actions.push(
      { kind: 'issue-certificates', ...names, givenCa: props['appliance.ca_cert'] !== undefined },
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
    const syslog = syslogForwarding(input, hostname);
    files.push(...syslog.files);
    if (syslog.action) actions.push(syslog.action);
    if (props['rhi.enabled']) {
      files.push(...rhiFiles(input, management));
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
