// Log forwarding on the appliance (appliance.syslog_server): Debian's rsyslog, with a drop-in of ovactl's.

/** ovactl's rsyslog drop-in: before Debian's 49-haproxy.conf, whose "stop" would drop haproxy's lines. */
export const SYSLOG_FORWARD_CONF = '/etc/rsyslog.d/40-ovactl-forward.conf';
/** The CA that verifies a tls:// syslog server when appliance.ca_cert is given. */
export const SYSLOG_CA_FILE = '/etc/ovactl/syslog-ca.crt';
/** Debian's CA bundle (ca-certificates): verifies a tls:// syslog server otherwise. */
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
export const RSYSLOGD = '/usr/sbin/rsyslogd';
/** The units whose journal is forwarded (haproxy's per-connection lines come by its own socket). */
export const FORWARDED_UNITS = [
  'ovactl-firstboot.service',
  'ovactl-ready.service',
  'ovactl-certificates.service',
  'anyip-routes.service',
  'route-tables.service',
  'haproxy.service',
  'dataplaneapi.service',
  'ovactl-rhi.service',
  'bird.service',
] as const;
