// With DHCP on the management NIC, the Data Plane API follows the lease: it listens on the leased
// address only (host and tls_host of /etc/haproxy/dataplaneapi.yaml) and its server certificate
// names that address. The certificate is made by src/tls/certificates.ts, as at first boot.
import { DATAPLANEAPI_YAML } from '../appliance/paths.js';
import { currentContent, under, writeFileAtomic } from '../core/atomic-write.js';
import { ensureCertificates } from '../tls/certificates.js';

/** The two listener lines of our template, indented as it writes them. */
const LISTENERS = [/^( +host: ).*$/m, /^( +tls_host: ).*$/m] as const;

/** The yaml with the API listening on `host`, or undefined when it lacks either line. Pure. */
export function withApiHost(yaml: string, host: string): string | undefined {
  if (!LISTENERS.every((re) => re.test(yaml))) return undefined;
  return LISTENERS.reduce((text, re) => text.replace(re, (_m, key: string) => `${key}${host}`), yaml);
}

/** The listener address the yaml holds now (its `host:` line). Pure. */
export const apiHost = (yaml: string): string | undefined =>
  LISTENERS[0]
    .exec(yaml)?.[0]
    .replace(/^ +host: /, '')
    .trim();

/** The certificate request of a management address: what first boot asks for with a static one. */
const certificateRequest = (address: string, dnsNames: readonly string[]) => ({
  ips: [...new Set([address, '127.0.0.1'])],
  dnsNames: dnsNames.length ? [...dnsNames] : ['localhost'],
});

export interface ApiOutcome {
  readonly address: string;
  readonly yamlChanged: boolean;
  readonly certChanged: boolean;
  /** Why the certificate was issued (certificates.ts's reasons), for the log. */
  readonly reasons: readonly string[];
  readonly problems: readonly string[];
}

export interface FollowApi {
  readonly root: string;
  readonly address: string;
  readonly dnsNames: readonly string[];
  /** `systemctl try-restart dataplaneapi.service`: only when something changed. */
  readonly restart: () => Promise<string | undefined>;
}

export async function followApi(o: FollowApi): Promise<ApiOutcome> {
  const problems: string[] = [];
  let certChanged = false;
  let reasons: readonly string[] = [];
  try {
    const tls = await ensureCertificates(o.root, certificateRequest(o.address, o.dnsNames));
    certChanged = tls.changed;
    reasons = tls.reasons;
  } catch (e) {
    problems.push(`the server certificate was not re-issued for ${o.address}: ${(e as Error).message}`);
  }
  let yamlChanged = false;
  const path = under(o.root, DATAPLANEAPI_YAML);
  const yaml = currentContent(path);
  const next = yaml === undefined ? undefined : withApiHost(yaml, o.address);
  if (next === undefined) {
    const why = yaml === undefined ? 'is missing' : 'has no host/tls_host lines';
    problems.push(`${DATAPLANEAPI_YAML} ${why}: the listener was not moved; first boot writes it`);
  } else {
    try {
      yamlChanged = writeFileAtomic(path, next, 0o600);
    } catch (e) {
      problems.push(`cannot write ${DATAPLANEAPI_YAML}: ${(e as Error).message}`);
    }
  }
  if (yamlChanged || certChanged) {
    const failed = await o.restart();
    if (failed) problems.push(`dataplaneapi.service was not restarted: ${failed}`);
  }
  return { address: o.address, yamlChanged, certChanged, reasons, problems };
}
