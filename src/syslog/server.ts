// appliance.syslog_server: scheme://host[:port] → where rsyslog forwards to. One parser for the
// validation rules and the plan, so what is rendered is exactly what was checked.
import { parseIp } from '../net/ip.js';
import { isHostName } from '../net/hostname.js';

export type SyslogScheme = 'udp' | 'tcp' | 'tls';
/** RFC 5426 (udp), RFC 6587 (tcp) and RFC 5425 (tls) ports. */
const SYSLOG_DEFAULT_PORT: Readonly<Record<SyslogScheme, number>> = { udp: 514, tcp: 514, tls: 6514 };

export interface SyslogServer {
  readonly scheme: SyslogScheme;
  /** An IP address (canonical text, no brackets) or a host name. */
  readonly host: string;
  readonly hostIsIp: boolean;
  readonly port: number;
}
export interface SyslogProblem {
  readonly rule: 'syslog.scheme' | 'syslog.host' | 'syslog.port';
  readonly message: string;
  readonly hint: string;
}

const FORM = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#[\]]*)(?::([^/?#]*))?\/?$/i;
const HINT = 'write udp://HOST:514, tcp://HOST:514 or tls://HOST:6514 (HOST an IP address or a host name)';

export function parseSyslogServer(text: string): SyslogServer | SyslogProblem {
  const m = FORM.exec(text);
  if (!m) return { rule: 'syslog.scheme', message: 'is not scheme://host:port', hint: HINT };
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'udp' && scheme !== 'tcp' && scheme !== 'tls') {
    return { rule: 'syslog.scheme', message: `has the scheme "${m[1]}"; udp, tcp and tls are supported`, hint: HINT };
  }
  const bracketed = m[2]!.startsWith('[');
  const hostText = bracketed ? m[2]!.slice(1, -1) : m[2]!;
  const ip = parseIp(hostText);
  if (bracketed ? ip?.family !== 6 : !ip && !isHostName(hostText)) {
    const message = `has the host "${hostText}", which is neither an IP address nor a host name`;
    return { rule: 'syslog.host', message, hint: HINT };
  }
  let port = SYSLOG_DEFAULT_PORT[scheme];
  if (m[3] !== undefined) {
    if (!/^\d{1,5}$/.test(m[3]) || Number(m[3]) < 1 || Number(m[3]) > 65535) {
      const hint = `e.g. ${scheme}://${m[2]}:${SYSLOG_DEFAULT_PORT[scheme]}`;
      return { rule: 'syslog.port', message: `has the port "${m[3]}", outside 1–65535`, hint };
    }
    port = Number(m[3]);
  }
  return { scheme, host: ip ? ip.text : hostText.toLowerCase(), hostIsIp: ip !== undefined, port };
}

export const isSyslogProblem = (x: SyslogServer | SyslogProblem): x is SyslogProblem => 'rule' in x;
