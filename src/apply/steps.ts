// The interpreter of a boot's steps (plan/steps.ts): one small runner a kind, in the order given.
// Policy is the plan's; a runner only does its step and notes what happened (files written, units
// to restart, this boot's CA warning) for the steps after it. A failed command is remembered, and
// the last step (the state record) is then skipped, so the next boot tries again.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { converge, describeChange, describeForeign } from '../anyip/converge.js';
import { HAPROXY_CHECK_FILES, RANGES_FILE, STATUS_FILE, SYSTEM_FILES, TLS_PATHS } from '../appliance/paths.js';
import { currentContent, idsFrom, under, writeAllAtomic } from '../core/atomic-write.js';
import type { Step } from '../plan/steps.js';
import { HA_NIC, HA_STANDBY_FILE } from '../appliance/ha.js';
import { hasAddress } from '../net/local-address.js';
import type { Unit } from '../plan/types.js';
import { ensureCertificates, renewCertificates } from '../tls/certificates.js';
import type { Finding } from '../validate/finding.js';
import { caFindings, describeRenewal, withCaFindings } from './certificates.js';
import { writeBootMetrics } from './metrics.js';
import { publishGuestinfo, writeStatus } from './publish.js';
import { writeState } from './state.js';
import { whyFailed, type System } from './system.js';

/** What the steps may use but never hold. */
export interface Secrets {
  readonly rootPassword?: string | undefined;
  readonly givenCa?: { readonly cert: string; readonly key: string } | undefined;
}

/** The run's memory: kept across the two plans of a boot whose `haproxy -c` failed. */
export interface StepContext {
  readonly root: string;
  readonly system: System;
  readonly now: Date;
  readonly haproxyBin?: string | undefined;
  readonly secrets: Secrets;
  readonly lines: string[];
  /** Commands that failed: the state is not recorded. */
  readonly failures: string[];
  readonly written: Set<string>;
  readonly restart: Set<Unit>;
  readonly reload: Set<Unit>;
  caFindings?: Finding[];
  caCert?: string;
  statusJson?: string;
  /** The findings of the status written last: what the command prints. */
  findings?: { readonly errors: readonly Finding[]; readonly warnings: readonly Finding[] };
}

export const newContext = (
  c: Pick<StepContext, 'root' | 'system' | 'now' | 'haproxyBin' | 'secrets'>,
): StepContext => ({
  ...c,
  lines: [],
  failures: [],
  written: new Set(),
  restart: new Set(),
  reload: new Set(),
});

type Runner<K extends Step['kind']> = (s: Extract<Step, { kind: K }>, ctx: StepContext) => Promise<string | undefined>;

async function command(
  ctx: StepContext,
  cmd: string,
  args: readonly string[],
  o: { input?: string; bestEffort?: boolean } = {},
) {
  const r = await ctx.system.run(cmd, args, o.input === undefined ? {} : { input: o.input });
  if (r.exitCode === 0) return;
  const what = `${cmd}${args[0] ? ` ${args[0]}` : ''}: ${whyFailed(r)}`;
  if (o.bestEffort) ctx.lines.push(`not done: ${what}`);
  else ctx.failures.push(what);
}

const statusText = (ctx: StepContext): string | undefined =>
  ctx.statusJson ?? currentContent(under(ctx.root, STATUS_FILE));

const quoteRe = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g');

/** `haproxy -c` on copies of the new files; the problem in one line, or undefined when they pass. */
async function haproxyCheck(
  ctx: StepContext,
  s: Extract<Step, { kind: 'check-haproxy' }>,
): Promise<string | undefined> {
  const bin = ctx.haproxyBin;
  if (!bin) return undefined;
  const tmp = under(ctx.root, HAPROXY_CHECK_FILES.cfg);
  const tmpMetrics = under(ctx.root, HAPROXY_CHECK_FILES.metrics);
  const tmpLua = under(ctx.root, HAPROXY_CHECK_FILES.lua);
  mkdirSync(dirname(tmp), { recursive: true, mode: 0o755 });
  writeFileSync(tmp, s.cfg, { mode: 0o600 });
  if (s.metrics) writeFileSync(tmpMetrics, s.metrics.cfg, { mode: 0o600 });
  if (s.metrics?.lua !== undefined) writeFileSync(tmpLua, s.metrics.lua, { mode: 0o600 });
  try {
    const r = await execa(bin, ['-c', '-f', tmp, ...(s.metrics ? ['-f', tmpMetrics] : [])], {
      reject: false,
      timeout: 30_000,
    });
    if (r.exitCode === 0) return undefined;
    const text = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => /ALERT|error/i.test(l))
      .join(' ');
    const named = text.replace(quoteRe(tmp), 'haproxy.cfg').replace(quoteRe(tmpMetrics), 'ovactl-metrics.cfg');
    return named.slice(0, 500) || `exit ${r.exitCode}`;
  } finally {
    for (const f of [tmp, tmpMetrics, tmpLua]) rmSync(f, { force: true });
  }
}

const RUNNERS: { readonly [K in Step['kind']]: Runner<K> } = {
  note: async (s, ctx) => {
    ctx.lines.push(s.line);
    return undefined;
  },
  'remove-files': async (s, ctx) => {
    for (const p of s.paths) rmSync(under(ctx.root, p), { force: true });
    return undefined;
  },
  'issue-certificates': async (s, ctx) => {
    const req = {
      ips: s.ips,
      dnsNames: s.dnsNames,
      ...(s.givenCa && ctx.secrets.givenCa ? { givenCa: ctx.secrets.givenCa } : {}),
    };
    const tls = await ensureCertificates(ctx.root, req, { now: ctx.now });
    ctx.caCert = tls.caCert;
    ctx.caFindings = caFindings(ctx.root, ctx.now);
    for (const w of tls.written) ctx.lines.push(`wrote ${w}`);
    if (tls.changed) {
      for (const u of s.restarts) ctx.restart.add(u);
      for (const u of s.reloads) ctx.reload.add(u);
    }
    return undefined;
  },
  'renew-certificates': async (s, ctx) => {
    try {
      const given = s.givenCa && ctx.secrets.givenCa ? { givenCa: ctx.secrets.givenCa } : {};
      const r = s.names
        ? await ensureCertificates(ctx.root, { ...s.names, ...given }, { now: ctx.now })
        : await renewCertificates(ctx.root, { now: ctx.now });
      if (typeof r === 'string') ctx.lines.push(`certificates: nothing to renew (${r})`);
      else {
        ctx.lines.push(...describeRenewal(r));
        if (r.changed) for (const u of s.restarts) ctx.restart.add(u);
      }
    } catch (e) {
      ctx.lines.push(`certificates not renewed: ${(e as Error).message}`);
    }
    ctx.caFindings = caFindings(ctx.root, ctx.now);
    return undefined;
  },
  'check-haproxy': async (s, ctx) => haproxyCheck(ctx, s),
  'write-files': async (s, ctx) => {
    // Owners apply only as root and only for names the tree itself knows.
    const ids = process.getuid?.() === 0 ? idsFrom(ctx.root) : undefined;
    const wrote = await writeAllAtomic(ctx.root, s.files, ids);
    s.files.forEach((f, i) => {
      if (!wrote[i]) return;
      ctx.written.add(f.path);
      ctx.lines.push(`wrote ${f.path}`);
      for (const u of f.restarts) ctx.restart.add(u);
      for (const u of f.reloads) ctx.reload.add(u);
    });
    return undefined;
  },
  'set-hostname': async (s, ctx) => {
    if (s.onlyIfWritten && !ctx.written.has(SYSTEM_FILES.hostname)) return undefined;
    // Not a failure when refused (a container without CAP_SYS_ADMIN): the next boot reads /etc/hostname.
    const r = await ctx.system.run('hostname', [s.name]);
    if (r.exitCode !== 0) ctx.lines.push(`host name not set now (${whyFailed(r)}): from the next boot`);
    return undefined;
  },
  'write-status': async (s, ctx) => {
    const warnings =
      s.caWarnings && ctx.caFindings ? withCaFindings(s.status.warnings, ctx.caFindings) : s.status.warnings;
    ctx.statusJson = writeStatus(ctx.root, { ...s.status, warnings }, ctx.lines);
    ctx.findings = { errors: s.status.errors, warnings };
    return undefined;
  },
  'boot-metrics': async (_s, ctx) => {
    writeBootMetrics({ root: ctx.root, statusText: statusText(ctx), now: ctx.now, lines: ctx.lines });
    return undefined;
  },
  'bind-into-unit': async (s, ctx) => {
    const active = await ctx.system.run('systemctl', ['is-active', '--quiet', s.unit]);
    // Not running: its Bind*Paths= bind the folder when it starts.
    if (ctx.system.live && active.exitCode !== 0) return undefined;
    await command(ctx, 'systemctl', ['bind', '--read-only', '--mkdir', s.unit, s.source, s.target], {
      bestEffort: true,
    });
    return undefined;
  },
  'set-root-password': async (_s, ctx) => {
    if (ctx.secrets.rootPassword !== undefined)
      await command(ctx, 'chpasswd', [], { input: `root:${ctx.secrets.rootPassword}\n` });
    return undefined;
  },
  systemctl: async (s, ctx) => {
    await command(ctx, 'systemctl', s.args, { bestEffort: s.bestEffort === true });
    return undefined;
  },
  'converge-anyip': async (s, ctx) => {
    const standby = under(ctx.root, HA_STANDBY_FILE);
    // A pair's standby answers for no VIP: until ovactl-ha.service runs, only the address's holder does.
    if (s.standbyUnless !== undefined && !hasAddress(HA_NIC, s.standbyUnless)) {
      mkdirSync(dirname(standby), { recursive: true });
      writeFileSync(standby, 'standby: anyip-routes keeps no local route\n');
    } else rmSync(standby, { force: true });
    const anyip = await converge(under(ctx.root, RANGES_FILE), false, standby);
    if ('unreadable' in anyip) {
      if (!s.bestEffort) ctx.failures.push(`anyip up: ${anyip.unreadable}`);
      return undefined;
    }
    ctx.lines.push(`anyip up: ${describeChange(anyip.diff)}`);
    if (s.bestEffort) return undefined;
    if (anyip.diff.foreign.length) ctx.lines.push(`anyip up: ${describeForeign(anyip.diff)}`);
    if (anyip.kernelError) ctx.failures.push(`anyip up: ${anyip.kernelError}`);
    return undefined;
  },
  'restart-changed': async (s, ctx) => {
    const units = [...ctx.restart].filter((u) => !s.except.includes(u));
    if (units.length)
      await command(ctx, 'systemctl', ['try-restart', '--no-block', ...units], { bestEffort: s.bestEffort === true });
    return undefined;
  },
  'reload-changed': async (_s, ctx) => {
    const units = [...ctx.reload].filter((u) => !ctx.restart.has(u));
    if (units.length) await command(ctx, 'systemctl', ['try-reload-or-restart', '--no-block', ...units]);
    return undefined;
  },
  'publish-guestinfo': async (s, ctx) => {
    const caCert =
      s.caCert === 'issued'
        ? ctx.caCert
        : s.caCert === 'on-disk'
          ? currentContent(under(ctx.root, TLS_PATHS.caCert))
          : undefined;
    await publishGuestinfo({ system: ctx.system, json: statusText(ctx), caCert, lines: ctx.lines });
    return undefined;
  },
  'record-state': async (s, ctx) => {
    if (!ctx.failures.length) writeState(ctx.root, s);
    return undefined;
  },
};

/**
 * Runs the steps in order. Returns the gate's finding when a `check-haproxy` step failed: the steps
 * after it were not run, and the caller plans again with it.
 */
export async function runSteps(steps: readonly Step[], ctx: StepContext): Promise<{ gate?: string }> {
  for (const step of steps) {
    const run = RUNNERS[step.kind] as (s: Step, c: StepContext) => Promise<string | undefined>;
    const gate = await run(step, ctx);
    if (gate !== undefined) return { gate };
  }
  return {};
}
