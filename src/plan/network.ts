// The rendered network as data: what an ovactl .network file says (addresses, gateways, DNS, the
// sources of its routing policy) and where the Data Plane API listens. plan renders the files;
// doctor reads the files on disk back into the same shapes with the readers here, beside the writer,
// and test/network-model.test.ts reads back every planned file into the model plan rendered it from.
import { isCidr, parseCidr, parseIp, type Cidr, type Ip } from '../net/ip.js';

export interface NetworkFile {
  /** The file's name, e.g. 20-ovactl-workload.network. */
  readonly name: string;
  readonly addresses: Cidr[];
  readonly gateways: Ip[];
  readonly dns: Ip[];
  /** `From=` of the routing policy rules: the NIC's own address and the VIP ranges it answers for. */
  readonly policyFrom: string[];
}

export interface ApiEndpoint {
  readonly host: string;
  readonly port: number;
}

/** A .network file read back: the keys ovactl writes, each value that parses. */
export function readNetworkFile(name: string, text: string): NetworkFile {
  const addresses: Cidr[] = [];
  const gateways: Ip[] = [];
  const dns: Ip[] = [];
  const policyFrom: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*(Address|Gateway|DNS|From)\s*=\s*(\S+)/.exec(raw);
    if (!m) continue;
    const v = m[2]!;
    if (m[1] === 'Address') {
      const c = parseCidr(v);
      if (isCidr(c)) addresses.push(c);
    } else if (m[1] === 'From') policyFrom.push(v);
    else {
      const ip = parseIp(v);
      if (ip) (m[1] === 'Gateway' ? gateways : dns).push(ip);
    }
  }
  return { name, addresses, gateways, dns, policyFrom };
}

/** dataplaneapi.yaml's listener, read back (host and port of its `dataplaneapi:` section). */
export function readApiEndpoint(yaml: string): ApiEndpoint | undefined {
  const host = /^\s*host:\s*"?([^"\s]+)"?/m.exec(yaml)?.[1];
  const port = /^\s*port:\s*(\d+)/m.exec(yaml)?.[1];
  return host && port ? { host, port: Number(port) } : undefined;
}
