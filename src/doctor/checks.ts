// `ovactl doctor`: the troubleshooting checklists (VIP ranges, AnyIP, haproxy, the Data Plane API,
// RHI) as a table of checks. A check needs only files (runs against a rendered tree or an unpacked
// support bundle with --root) or the live system (skipped offline, with the reason).
import { fail, skip, type Check, type CheckResult, type Context, type Outcome } from './check.js';
import { readFacts } from './facts.js';
import { FILE_CHECKS } from './file-checks.js';
import { LIVE_CHECKS } from './live-checks.js';

/** Every check, in the order doctor prints them: the files first, then the live system. */
export const CHECKS: readonly Check[] = [...FILE_CHECKS, ...LIVE_CHECKS];

export async function runChecks(ctx: Context): Promise<CheckResult[]> {
  const facts = readFacts(ctx.root);
  const out: CheckResult[] = [];
  for (const c of CHECKS) {
    let o: Outcome;
    if (c.needs === 'live' && !ctx.live) o = skip('offline (--root): needs the running appliance');
    else {
      try {
        o = await c.run(ctx, facts);
      } catch (e) {
        o = fail(`the check failed: ${(e as Error).message}`, 'run as root on the appliance');
      }
    }
    out.push({ id: c.id, title: c.title, ...o });
  }
  return out;
}
