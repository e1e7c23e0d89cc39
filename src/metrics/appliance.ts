// What each writer reports, as metric families: pure functions of the state it already has.
import type { Family } from './prom.js';

const STATES = ['ready', 'starting', 'error'] as const;
/** The status's states, the live watcher's degraded included (src/plan/status.ts). */
const LIVE_STATES = ['ready', 'starting', 'degraded', 'error'] as const;

/** First boot: the state (one series a state, 1 for the current one) and its findings. */
export function firstbootFamilies(s: { state: string; errors: number; warnings: number; appliedAt: Date }): Family[] {
  return [
    {
      name: 'ovactl_firstboot_state',
      type: 'gauge',
      help: "First boot's state: 1 for the current one.",
      samples: STATES.map((st) => ({ labels: { state: st }, value: s.state === st ? 1 : 0 })),
    },
    {
      name: 'ovactl_firstboot_findings',
      type: 'gauge',
      help: 'Findings of the last first boot run, by severity.',
      samples: [
        { labels: { severity: 'error' }, value: s.errors },
        { labels: { severity: 'warning' }, value: s.warnings },
      ],
    },
    {
      name: 'ovactl_firstboot_run_timestamp_seconds',
      type: 'gauge',
      help: 'When first boot last ran (Unix time).',
      samples: [{ value: Math.floor(s.appliedAt.getTime() / 1000) }],
    },
  ];
}

/** Days left of each certificate in use (negative: expired). */
export function certificateFamilies(certs: readonly { name: string; notAfter: Date }[], now: Date): Family[] {
  return [
    {
      name: 'ovactl_certificate_days_left',
      type: 'gauge',
      help: 'Days until the certificate expires (negative: expired).',
      samples: certs.map((c) => ({
        labels: { certificate: c.name },
        value: Math.floor((c.notAfter.getTime() - now.getTime()) / 86_400_000),
      })),
    },
  ];
}

/** AnyIP ranges: listed in the ranges file, held by ovactl's routes in the kernel, held by someone else's. */
export function anyipFamilies(d: {
  inFile: number;
  inKernel: number;
  foreign: number;
  kernelError: boolean;
}): Family[] {
  return [
    {
      name: 'ovactl_anyip_ranges',
      type: 'gauge',
      help:
        "VIP ranges: in the ranges file, ovactl's local routes in the kernel, " +
        'and wanted ones another local route already holds (foreign).',
      samples: [
        { labels: { where: 'file' }, value: d.inFile },
        { labels: { where: 'kernel' }, value: d.inKernel },
        { labels: { where: 'foreign' }, value: d.foreign },
      ],
    },
    {
      name: 'ovactl_anyip_kernel_error',
      type: 'gauge',
      help: '1 when the kernel refused the last change.',
      samples: [{ value: d.kernelError ? 1 : 0 }],
    },
  ];
}

/** Route health injection: per rule, the routes announced and withdrawn now. */
export function rhiFamilies(rules: readonly { rule: string; announced: boolean; targets: number }[]): Family[] {
  return [
    {
      name: 'ovactl_rhi_routes',
      type: 'gauge',
      help: 'Routes of each route health injection rule, announced or withdrawn now.',
      samples: rules.flatMap((r) => [
        { labels: { rule: r.rule, state: 'announced' }, value: r.announced ? r.targets : 0 },
        { labels: { rule: r.rule, state: 'withdrawn' }, value: r.announced ? 0 : r.targets },
      ]),
    },
  ];
}

/** The live state (ovactl-watch.service): one series a state, 1 for the current one; its findings by rule. */
export function statusFamilies(s: { state: string; findings: readonly { rule: string }[] }): Family[] {
  const byRule = new Map<string, number>();
  for (const f of s.findings) byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);
  return [
    {
      name: 'ovactl_state',
      type: 'gauge',
      help: "The appliance's live state (status.json): 1 for the current one.",
      samples: LIVE_STATES.map((st) => ({ labels: { state: st }, value: s.state === st ? 1 : 0 })),
    },
    {
      name: 'ovactl_live_findings',
      type: 'gauge',
      help: 'Findings of the live checks now, by rule (none: no series).',
      samples: [...byRule].map(([rule, n]) => ({ labels: { rule }, value: n })),
    },
  ];
}
