// The optional CA for the Data Plane API certificate, checked with node:crypto: it must parse, be a
// CA, be valid now, and match its key. Messages never quote the key.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { pemBlocks } from '../properties/pem.js';

export type CaProblem = { rule: string; message: string; hint?: string; on: 'cert' | 'key' | 'pair' };

const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);

export function checkCa(cert: string | undefined, key: string | undefined, now: Date = new Date()): CaProblem[] {
  if (cert === undefined && key === undefined) return [];
  if (cert === undefined || key === undefined) {
    const missing = cert === undefined ? 'appliance.ca_cert' : 'appliance.ca_cert_key';
    const [given, absent] = cert === undefined ? ['key', 'certificate'] : ['certificate', 'key'];
    return [
      {
        rule: 'ca.pair',
        on: 'pair',
        message: `a CA ${given} was given without its ${absent} (${missing} is empty)`,
        hint: 'give both the CA certificate and its key, or leave both blank to have the appliance generate a CA',
      },
    ];
  }
  const problems: CaProblem[] = [];
  let x509: X509Certificate | undefined;
  const certBlock = pemBlocks(cert).find((b) => b.label === 'CERTIFICATE');
  if (!certBlock) {
    problems.push({
      rule: 'ca.cert-parse',
      on: 'cert',
      message: 'appliance.ca_cert holds no "-----BEGIN CERTIFICATE-----" block',
      hint: 'paste the whole PEM file of the CA certificate, including the BEGIN and END lines',
    });
  } else {
    try {
      x509 = new X509Certificate(certBlock.text);
    } catch {
      problems.push({
        rule: 'ca.cert-parse',
        on: 'cert',
        message: 'appliance.ca_cert is not a readable X.509 certificate (the base64 text is damaged or incomplete)',
        hint: 'paste the PEM file again, unchanged; check it with: openssl x509 -in ca.crt -noout -text',
      });
    }
  }
  if (x509) {
    const subject = x509.subject.replace(/\n/g, ', ');
    if (!x509.ca) {
      problems.push({
        rule: 'ca.not-ca',
        on: 'cert',
        message: `appliance.ca_cert (${subject}) is not a CA certificate: basicConstraints CA:TRUE is missing`,
        hint:
          'give the certificate of the CA that should sign the Data Plane API certificate, not a server ' +
          'certificate',
      });
    }
    const from = new Date(x509.validFrom);
    const to = new Date(x509.validTo);
    if (now < from)
      problems.push({
        rule: 'ca.not-yet-valid',
        on: 'cert',
        message: `appliance.ca_cert (${subject}) is not valid before ${from.toISOString()}`,
        hint: "check the appliance's clock source (NTP) or issue the CA with an earlier start date",
      });
    if (now > to)
      problems.push({
        rule: 'ca.expired',
        on: 'cert',
        message: `appliance.ca_cert (${subject}) expired on ${to.toISOString()}`,
        hint: 'renew the CA certificate, or leave both CA fields blank to have one generated',
      });
  }

  const keyBlock = pemBlocks(key).find((b) => KEY_LABELS.has(b.label));
  let pkey: KeyObject | undefined;
  if (!keyBlock) {
    problems.push({
      rule: 'ca.key-parse',
      on: 'key',
      message: 'appliance.ca_cert_key holds no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)',
      hint: 'paste the whole PEM file of the CA key, including the BEGIN and END lines',
    });
  } else if (keyBlock.label === 'ENCRYPTED PRIVATE KEY' || keyBlock.text.includes('Proc-Type: 4,ENCRYPTED')) {
    problems.push({
      rule: 'ca.key-encrypted',
      on: 'key',
      message: 'appliance.ca_cert_key is encrypted with a passphrase, which the appliance cannot supply at boot',
      hint: 'decrypt it first: openssl pkey -in ca.key -out ca-plain.key',
    });
  } else {
    try {
      pkey = createPrivateKey(keyBlock.text);
    } catch {
      problems.push({
        rule: 'ca.key-parse',
        on: 'key',
        message: 'appliance.ca_cert_key is not a readable private key (the base64 text is damaged or incomplete)',
        hint: 'paste the PEM file again, unchanged; check it with: openssl pkey -in ca.key -noout',
      });
    }
  }
  if (x509 && pkey && !x509.checkPrivateKey(pkey)) {
    problems.push({
      rule: 'ca.key-mismatch',
      on: 'pair',
      message: 'appliance.ca_cert_key is not the private key of appliance.ca_cert',
      hint:
        'give the key the CA certificate was made with (compare: openssl x509 -noout -pubkey -in ca.crt ' +
        'and openssl pkey -pubout -in ca.key)',
    });
  }
  return problems;
}
