// What a plan is: files to write and service actions, all decided before anything is touched.
import { NICS, type Deployment } from '../appliance/nics.js';
import type { ManagementProperties, ValidProperties } from '../validate/values.js';

export type Unit =
  | 'systemd-networkd.service'
  | 'anyip-routes.service'
  | 'haproxy.service'
  | 'dataplaneapi.service'
  | 'ssh.service'
  | 'systemd-timesyncd.service'
  | 'systemd-sysctl.service'
  | 'bird.service'
  | 'ovactl-rhi.service'
  | 'route-tables.service'
  | 'rsyslog.service'
  | 'keepalived.service'
  | 'ovactl-ha.service';

export interface PlannedFile {
  readonly path: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
  readonly content: string;
  /** Units to restart when this file's content changes. */
  readonly restarts: readonly Unit[];
  /** Units to reload (not restart) when it changes: haproxy hands its listening sockets over. */
  readonly reloads: readonly Unit[];
}

export type Action =
  | { readonly kind: 'enable-start'; readonly unit: Unit }
  /** Units that must not run with these values (route health injection switched off). */
  | { readonly kind: 'disable-stop'; readonly units: readonly Unit[] }
  /** root's password, given to chpasswd on stdin by apply (the plan never holds it). */
  | { readonly kind: 'set-root-password' }
  /** The Data Plane API certificate: the given CA or a generated one; a server cert with these SANs. */
  | {
      readonly kind: 'issue-certificates';
      readonly ips: readonly string[];
      readonly dnsNames: readonly string[];
      readonly givenCa: boolean;
    }
  /**
   * READY only once the Data Plane API answers: GET /v2/info over HTTPS with the published CA and the
   * Basic credentials, run by ovactl-ready.service after the API has started. host null: DHCP, the
   * management NIC's leased address (known only once networkd has it).
   */
  | {
      readonly kind: 'probe-dataplaneapi';
      readonly host: string | null;
      readonly port: number;
      readonly waitSeconds: number;
    };

export interface Plan {
  readonly files: readonly PlannedFile[];
  readonly actions: readonly Action[];
  /** How ovactl's haproxy.cfg sections meet the control plane's (full scope only). */
  readonly haproxy?: { readonly kept: readonly string[]; readonly changed: readonly string[] };
}

/** What the machine tells, gathered by the shell before planning. */
export interface Facts {
  /** PCI paths of the NICs as the guest sees the descriptor's slots 160/192/224. */
  readonly pciPaths: { readonly management: string; readonly workload: string; readonly frontend: string };
  /**
   * `$6$` crypt hash of loadbalance.haproxy_pwd (made by `openssl passwd -6 -stdin`, or the current
   * one when it still matches).
   */
  readonly haproxyPasswordHash: string;
  /** Whether /usr/local/bin/dataplaneapi is installed (it is not a Debian package). */
  readonly dataplaneapiInstalled: boolean;
  /** Whether BIRD (Debian's bird2, /usr/sbin/bird) is installed: route health injection needs it. */
  readonly birdInstalled: boolean;
  /** Debian's keepalived is in the image (two appliances, ha.*). */
  readonly keepalivedInstalled: boolean;
  /** Whether Debian's rsyslog is installed: log forwarding (appliance.syslog_server) needs it. */
  readonly rsyslogInstalled: boolean;
  /** The VM's memory (os.totalmem()): haproxy's maxconn is sized to it. */
  readonly memoryBytes: number;
  /** The haproxy.cfg on disk, when there is one: ovactl's sections are merged into it. */
  readonly currentHaproxyConfig?: string | undefined;
  /**
   * The management NIC's leased IPv4 address when it uses DHCP and has one now: the Data Plane API
   * listens there and its certificate names it (route-tables.service follows later changes).
   */
  readonly managementLease?: string | undefined;
}

export const APPLIANCE_PCI_PATHS: Facts['pciPaths'] = {
  management: NICS.find((n) => n.name === 'management')!.pciPath,
  workload: NICS.find((n) => n.name === 'workload')!.pciPath,
  frontend: NICS.find((n) => n.name === 'frontend')!.pciPath,
};

interface PlanBase {
  readonly deployment: Deployment;
  readonly facts: Facts;
}
/** Every value is valid: the whole appliance. */
export type FullPlanInput = PlanBase & { readonly scope: 'full'; readonly properties: ValidProperties };
/**
 * `full` when every value is valid; `management-only` when some are not but the management NIC's
 * own values are, so the admin can still log in and fix them (no haproxy, no Data Plane API).
 */
export type PlanInput =
  | FullPlanInput
  | (PlanBase & { readonly scope: 'management-only'; readonly properties: ManagementProperties });
