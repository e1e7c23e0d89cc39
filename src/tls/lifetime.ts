// Certificates over time: when the server certificate is renewed, when a CA's end is near enough to
// warn, and how far back a new certificate starts. Pure: every function takes the clock as `now`.
//
//   server certificate  730 days; renewed (same CA, a new EC P-256 key, new validity) once fewer than
//                       RENEW_BEFORE_DAYS are left, or when its start lies in the future (the clock
//                       jumped back, e.g. NTP correcting a fast first clock): at every boot and daily
//                       (ovactl-certificates.timer).
//   given CA            never replaced by the appliance: from CA_WARN_DAYS before its end a warning in
//                       the status, the console and doctor says to deploy a new one.
//   generated CA        3650 days. Not renewed before its end: a new CA breaks the Supervisor's trust
//                       at once, the old one still works until its end; the same warning from
//                       CA_WARN_DAYS before says how to replace it at a time the admin chooses. Once
//                       expired (or not yet valid), no client can use it: a new one is generated.
//   notBefore           BACKDATE_DAYS before `now`, so a first clock up to a day fast (ESXi host time,
//                       a cloned template, before NTP) does not make a certificate "not yet valid".
import type { X509Certificate } from 'node:crypto';
import { warning, type Finding } from '../validate/finding.js';

export const DAY_MS = 86_400_000;
/** A server certificate is re-issued when it ends within this many days. */
export const RENEW_BEFORE_DAYS = 30;
/** A CA that ends within this many days is a warning (status, console, doctor). */
export const CA_WARN_DAYS = 60;
/** New certificates start this many days before `now`. */
export const BACKDATE_DAYS = 1;
/** The subject of the CA the appliance generates starts so (see caCommonName in certificates.ts). */
export const GENERATED_CA_CN = 'ovactl appliance CA';
/** The rule of the CA warning: first boot and the timer replace this finding in the status. */
export const CA_EXPIRING = 'certificates.ca-expiring';

/** Whether `x509` is a CA this appliance generated (self-issued, named by caCommonName). */
export const isGeneratedCa = (x509: X509Certificate): boolean =>
  x509.subject === x509.issuer && x509.subject.startsWith(`CN=${GENERATED_CA_CN}`);

const daysLeft = (x509: X509Certificate, now: Date): number => (Date.parse(x509.validTo) - now.getTime()) / DAY_MS;
const day = (iso: string): string => new Date(iso).toISOString().slice(0, 10);

/** Why a certificate is out of its time window at `now` (expired, or not yet valid), else undefined. */
export function outOfTime(x509: X509Certificate, now: Date): string | undefined {
  if (Date.parse(x509.validFrom) > now.getTime()) return `not valid before ${new Date(x509.validFrom).toISOString()}`;
  if (Date.parse(x509.validTo) < now.getTime()) return `expired ${new Date(x509.validTo).toISOString()}`;
  return undefined;
}

/** The server certificate must be renewed at `now`: it ends within RENEW_BEFORE_DAYS. */
export const renewDue = (x509: X509Certificate, now: Date): boolean => daysLeft(x509, now) < RENEW_BEFORE_DAYS;

/**
 * The warning for the CA in use (ca.crt) when it ends within CA_WARN_DAYS (or has ended), with how
 * to replace it; none otherwise. `given`: the CA came from appliance.ca_cert.
 */
export function caFinding(x509: X509Certificate, now: Date): Finding | undefined {
  const left = daysLeft(x509, now);
  if (left >= CA_WARN_DAYS) return undefined;
  const when = left < 0 ? `ended on ${day(x509.validTo)}` : `ends on ${day(x509.validTo)}, in ${Math.floor(left)} days`;
  const supervisor = 'the Supervisor must then be given the new CA (guestinfo.dataplaneapi.cacert shows it)';
  if (isGeneratedCa(x509)) {
    return warning(
      CA_EXPIRING,
      [],
      `the CA the appliance generated (/etc/haproxy/ca.crt) ${when}; the Supervisor then refuses the Data Plane API`,
      'deploy your own CA (vApp properties appliance.ca_cert and appliance.ca_cert_key) and reboot, or remove ' +
        '/etc/haproxy/ca.crt and ca.key and reboot to have a new one generated (it is once this one has ended); ' +
        supervisor,
    );
  }
  return warning(
    CA_EXPIRING,
    ['appliance.ca_cert'],
    `the given CA (appliance.ca_cert, ${x509.subject.replace(/\n/g, ', ')}) ${when}; ` +
      'the Supervisor then refuses the Data Plane API',
    'deploy a new CA: set the vApp properties appliance.ca_cert and appliance.ca_cert_key (VM powered off) and ' +
      `power it on; ${supervisor}`,
  );
}
