// The Data Plane API user's password as a $6$ (SHA-512) crypt hash — the form the Data Plane API
// accepts (no rounds=, no yescrypt). Made by `openssl passwd -6 -stdin`: the password goes on stdin,
// never in argv, so a leading "-" cannot be taken for an option and `ps` never shows it.
import { execa } from 'execa';

const SHA512_CRYPT = /^\$6\$([./0-9A-Za-z]{1,16})\$[./0-9A-Za-z]{86}$/;

async function openssl(password: string, salt?: string): Promise<string> {
  const args = ['passwd', '-6', ...(salt ? ['-salt', salt] : []), '-stdin'];
  const r = await execa('openssl', args, { input: `${password}\n`, stripFinalNewline: true });
  if (!SHA512_CRYPT.test(r.stdout)) throw new Error('openssl passwd -6 did not print a $6$ hash');
  return r.stdout;
}

/**
 * The hash to put in haproxy.cfg: the one already there when it still matches the password (so the
 * same inputs rewrite nothing), else a new one with a fresh salt.
 */
export async function haproxyPasswordHash(password: string, currentConfig: string | undefined): Promise<string> {
  const current = /^\s*user \S+ password (\$6\$\S+)\s*$/m.exec(currentConfig ?? '')?.[1];
  const salt = current ? SHA512_CRYPT.exec(current)?.[1] : undefined;
  if (current && salt && (await openssl(password, salt)) === current) return current;
  return openssl(password);
}
