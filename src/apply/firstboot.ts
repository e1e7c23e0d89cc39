// The boot-time job: validated values → the boot's steps (plan/boot.ts) → the interpreter
// (apply/steps.ts). Crash-safe and idempotent: every file is written atomically and only when its
// content changes, the "done" state (a hash of the normalised inputs) is recorded last, so a run
// killed at any point and run again converges to the files of an uninterrupted run, and the same
// inputs again change nothing.
import { bootPlan } from '../plan/boot.js';
import { statusJson, type State, type Status } from '../plan/status.js';
import type { Report } from '../validate/validate.js';
import { error as errorFinding, type Finding } from '../validate/finding.js';
import { gatherBootFacts } from './facts.js';
import { publishGuestinfo, writeStatus } from './publish.js';
import { newContext, runSteps } from './steps.js';
import type { System } from './system.js';

export interface FirstbootInput {
  readonly report: Report;
  readonly root: string;
  readonly system: System;
  readonly version: string;
  /** haproxy used for `haproxy -c`; the check is skipped (and said so) when it is missing. */
  readonly haproxyBin?: string | undefined;
  /** Put the VIP routes in place (live runs; default true). */
  readonly anyip?: boolean;
  /** The clock, read by the shell: when values are applied (status "serving.appliedAt"). */
  readonly now?: Date;
}

export interface FirstbootResult {
  /** starting: applied; ovactl-ready.service says READY once the Data Plane API answers. */
  readonly state: State;
  /** The new values were not applied and the last good configuration keeps serving. */
  readonly serving?: boolean;
  /** state error, but haproxy was started with the new values (e.g. the image lacks the Data Plane API). */
  readonly dataPlaneStarted?: boolean;
  readonly changed: boolean;
  readonly lines: readonly string[];
  /** The findings of the status this boot wrote (none when it wrote none): printed with their fixes. */
  readonly findings: { readonly errors: readonly Finding[]; readonly warnings: readonly Finding[] };
}

export async function runFirstboot(input: FirstbootInput): Promise<FirstbootResult> {
  const { report, root, system } = input;
  const facts = await gatherBootFacts({ ...input, now: input.now });
  const props = report.properties;
  const ca = props['appliance.ca_cert'];
  const key = props['appliance.ca_cert_key'];
  const ctx = newContext({
    root,
    system,
    now: facts.now,
    haproxyBin: input.haproxyBin,
    secrets: { rootPassword: props['appliance.root_pwd'], givenCa: ca && key ? { cert: ca, key } : undefined },
  });
  let boot = bootPlan({ report, version: input.version, facts });
  const { gate } = await runSteps(boot.steps, ctx);
  if (gate !== undefined) {
    // haproxy -c refused the merged haproxy.cfg: plan again knowing it, from the same facts.
    boot = bootPlan({ report, version: input.version, facts: { ...facts, haproxyProblem: gate } });
    await runSteps(boot.steps, ctx);
  }
  const findings = ctx.findings ?? { errors: report.errors, warnings: report.warnings };
  const lines = [...ctx.lines, ...system.ran.map((c) => `${system.live ? 'ran' : 'would run'}: ${c}`)];
  if (ctx.failures.length) {
    // Not recorded as done: the next boot tries again.
    lines.push(...ctx.failures.map((f) => `failed: ${f}`));
    return { state: 'error', changed: true, lines, findings };
  }
  return { ...boot.outcome, lines, findings };
}

export interface WriteFailure {
  readonly report: Report;
  readonly root: string;
  readonly system: System;
  readonly version: string;
  /** The one line naming the path and the fix (core/fs-error's fsMistakeLine). */
  readonly line: string;
}

/**
 * A boot that could not write its files (a full or read-only disk): the line goes where the admin
 * looks, each place best effort, since the disk that failed may hold status.json and the banner too.
 * guestinfo is not on the disk, so it tells even then. Nothing is recorded as done: the next boot tries again.
 */
export async function reportWriteFailure(w: WriteFailure): Promise<string[]> {
  const lines: string[] = [];
  const status: Status = {
    state: 'error',
    version: w.version,
    deployment: w.report.deployment,
    errors: [
      errorFinding(
        'firstboot.write-failed',
        [],
        `first boot could not write the appliance's files: ${w.line}`,
        'free space on the appliance\'s disk (or make it writable), then reboot or run "systemctl restart ' +
          'ovactl-firstboot"',
      ),
    ],
    warnings: w.report.warnings,
    ranges: w.report.properties['loadbalance.service_ip_range'] ?? [],
    managementConfigured: false,
  };
  let json = statusJson(status);
  try {
    json = writeStatus(w.root, status, lines);
  } catch (e) {
    lines.push(`status not written: ${(e as Error).message.split('\n')[0]}`);
  }
  await publishGuestinfo({ system: w.system, json, caCert: undefined, lines });
  return lines;
}
