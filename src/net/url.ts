// URLs with an address for a host: an IPv6 address goes in brackets (RFC 3986), or the port would
// read as part of it.
export const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

export const httpsUrl = (host: string, port: number, path = ''): string => `https://${hostPort(host, port)}${path}`;
