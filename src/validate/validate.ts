// validate: a deploy document → findings. No I/O; the clock comes in as a value. Async only so the
// CA checks (node:crypto) load on demand.
import { normalise, type Properties } from '../properties/schema.js';
import type { DeployDocument } from '../source/document.js';
import { Context } from './context.js';
import { DEPLOYMENTS, type Deployment } from '../appliance/nics.js';
import type { Finding } from './finding.js';
import { RULES } from './rules.js';
import { MAX_FINDINGS_PER_RULE, type Problem } from './finding.js';
import { managementProperties, validProperties, type ManagementProperties, type ValidProperties } from './values.js';

interface ReportBase {
  readonly deployment: Deployment;
  readonly errors: readonly Finding[];
  readonly warnings: readonly Finding[];
  /** The normalised values, with or without errors (for messages, the inputs hash, doctor). */
  readonly properties: Properties;
  /** The management NIC's values, when they have no errors (first boot's management-only scope). */
  readonly management: ManagementProperties | undefined;
}
/** The findings; when there are no errors, the values parsed for plan. */
export type Report =
  | (ReportBase & { readonly valid: true; readonly values: ValidProperties })
  | (ReportBase & { readonly valid: false; readonly values?: undefined });

export interface ValidateOptions {
  /** `--deployment`: wins over what the source says. */
  readonly deployment?: Deployment;
  readonly now?: Date;
}

/**
 * The deployment option, most explicit first: the flag; the govc `Deployment` (absent: govc deploys
 * `default`); the number of NICs in the OVF environment (3 = frontend); otherwise — the flat JSON
 * and Supervisor-log forms carry no option — `frontend` exactly when frontend values are given.
 */
function resolveDeployment(doc: DeployDocument, override?: Deployment): { deployment: Deployment; problem?: string } {
  if (override) return { deployment: override };
  let problem: string | undefined;
  if (doc.deployment !== undefined) {
    const d = doc.deployment.toLowerCase();
    if ((DEPLOYMENTS as readonly string[]).includes(d)) return { deployment: d as Deployment };
    problem = `the deployment option ${JSON.stringify(doc.deployment)} does not exist in this appliance`;
  }
  const withProblem = (deployment: Deployment) => (problem ? { deployment, problem } : { deployment });
  if (doc.adapters && doc.adapters.length > 0) return withProblem(doc.adapters.length >= 3 ? 'frontend' : 'default');
  if (doc.format === 'govc') return withProblem('default');
  const frontendSet = ['network.frontend_ip', 'network.frontend_gateway'].some(
    (k) => (doc.values.get(k as never) ?? '').trim() !== '',
  );
  return withProblem(frontendSet ? 'frontend' : 'default');
}

function capped(rule: string, problems: Problem[]): Problem[] {
  if (problems.length <= MAX_FINDINGS_PER_RULE) return problems;
  const shown = problems.slice(0, MAX_FINDINGS_PER_RULE - 1);
  const rest = problems.slice(MAX_FINDINGS_PER_RULE - 1);
  const keys = [...new Set(rest.flatMap((p) => p.keys))];
  return [...shown, { keys, message: `…and ${rest.length} more findings of rule ${rule}, not shown` }];
}

const loadRhi = async () => {
  const { RHI_CHECKS, rhiValues } = await import('./rhi.js');
  return { RHI_CHECKS, rhiValues };
};

export async function validateDocument(doc: DeployDocument, opts: ValidateOptions = {}): Promise<Report> {
  const { properties, problems } = normalise(doc.values);
  const { deployment, problem } = resolveDeployment(doc, opts.deployment);
  const cert = properties['appliance.ca_cert'];
  const key = properties['appliance.ca_cert_key'];
  // node:crypto costs start-up time on every boot; load the CA checks only when there is a CA.
  const ca =
    cert === undefined && key === undefined ? [] : (await import('./ca.js')).checkCa(cert, key, opts.now ?? new Date());
  // The rhi.* checks parse rules and peers: loaded (a chunk of its own in the bundle) only when RHI is on.
  const rhi = properties['rhi.enabled'] === true ? await loadRhi() : undefined;
  const ctx = new Context({
    doc,
    props: properties,
    typeProblems: problems,
    deployment,
    deploymentProblem: problem,
    ca,
    rhiChecks: rhi?.RHI_CHECKS,
  });
  const findings: Finding[] = RULES.flatMap((rule) =>
    capped(rule.id, [...rule.check(ctx)]).map((pr) => ({ severity: rule.severity, rule: rule.id, ...pr })),
  );
  const errors = findings.filter((f) => f.severity === 'error');
  const management = managementProperties(properties, errors);
  const base = {
    deployment,
    errors,
    warnings: findings.filter((f) => f.severity === 'warning'),
    properties,
    management,
  };
  if (errors.length > 0 || management === undefined) return { ...base, valid: false };
  return { ...base, valid: true, values: validProperties(properties, management, rhi?.rhiValues(ctx, management)) };
}
