// Audit records and status of a per-Job reconcile, from the plans and what the API server confirmed for each
// step. Pure. Record ids are deterministic, as in Shared mode, so a retry or a restart records nothing twice.
import { type AuditRecord, auditRecordId } from '../audit/types.ts';
import { type AuditContext, auditRecordsFor, grantRecords } from './audit-records.ts';
import { managedAnnotations, versionList } from './managed-secret.ts';
import type { Outcome } from './outcome.ts';
import type { StepOutcome } from './per-job-effects.ts';
import { type PerJobPlan, perJobSecretName } from './per-job-plan.ts';
import type { ConsumingJob, ForeignPod, Plan } from './plan.ts';
import { nextStatus, type ReferenceStatus, type StatusContext } from './status.ts';

/**
 * Refusals, standstills and the first failure (as in Shared mode, against the reference-level plan), the
 * grants of each confirmed write, and the end of each Job's access. A Job holds one Secret once, so the end
 * of its access is identified by the Job and its Secret's name.
 */
export function perJobAuditRecords(
  plan: Plan,
  perJob: PerJobPlan,
  results: StepOutcome[],
  context: AuditContext,
): AuditRecord[] {
  const failure = results.find((r) => r.outcome.kind === 'failed')?.outcome ?? { kind: 'idle' };
  const decisions = auditRecordsFor({ ...plan, ended: [], foreignPods: [] }, failure, context);
  const grants = results.flatMap(({ outcome }) =>
    outcome.kind === 'written' ? grantRecords(outcome.effect.secret, outcome.effect, outcome, context) : [],
  );
  return [...decisions, ...grants, ...endRecords(plan, perJob, results, context)];
}

function endRecords(
  plan: Plan,
  perJob: PerJobPlan,
  results: StepOutcome[],
  context: AuditContext,
): AuditRecord[] {
  const { namespace } = context.reference;
  const refused = new Set(plan.refused.map((job) => job.uid));
  return perJob.ended.map((end) => {
    const name = perJobSecretName(context.targetName, end.job.uid);
    const deleted = results.find((r) => r.step.action === 'delete' && r.step.job.uid === end.job.uid);
    const held = deleted?.step.secret;
    const uid = held?.metadata?.uid;
    const annotations = held ? managedAnnotations(held) : undefined;
    const expired = end.cause === 'Expired';
    const reason =
      end.reason ??
      (context.deleting
        ? 'ReferenceDeleted'
        : expired
          ? 'TtlPassed'
          : refused.has(end.job.uid)
            ? 'ConsumersMismatch'
            : 'JobEnded');
    const secretName = held?.metadata?.name ?? name;
    return {
      id: auditRecordId([context.reference.uid, 'end', end.job.uid, name]),
      time: new Date(context.now).toISOString(),
      action: end.cause,
      reference: context.reference,
      store: context.store,
      remotes: annotations ? versionList(annotations.remoteVersions) : [],
      targetSecret: { namespace, name: secretName, ...(uid ? { uid } : {}) },
      job: { namespace, name: end.job.name, uid: end.job.uid },
      reason,
      message: expired
        ? `Job ${end.job.name} passed its ttl; its own Secret ${secretName} was revoked.`
        : `Job ${end.job.name} no longer has access to its own Secret ${secretName} (${reason}).`,
      ...(annotations?.fingerprint ? { fingerprint: annotations.fingerprint } : {}),
    };
  });
}

/**
 * Status as in Shared mode (conditions, refused Jobs, claim, first starts), except that a Job counts as
 * consuming only while its own Secret exists, and the condition names the per-Job Secrets.
 */
export function perJobStatus(plan: Plan, results: StepOutcome[], context: StatusContext): ReferenceStatus {
  const present = presentJobs(plan.consuming, results);
  const withheld: ForeignPod[] = results.flatMap((r) =>
    r.step.action === 'withhold' ? (r.step.foreignPods ?? []) : [],
  );
  const failure = results.find((r) => r.outcome.kind === 'failed')?.outcome;
  const lastWrite = results.filter((r) => r.outcome.kind === 'written').at(-1)?.outcome;
  const outcome: Outcome = failure ?? lastWrite ?? { kind: 'idle' };
  const statusPlan: Plan = {
    ...plan,
    action: plan.action === 'conflict' ? 'conflict' : present.length > 0 ? 'keep' : 'none',
    consuming: present,
    foreignPods: withheld,
    expiresAt: present
      .map((job) => job.expiresAt)
      .sort()
      .at(-1),
  };
  const status = nextStatus(statusPlan, outcome, context);
  const ready = status.conditions?.[0];
  if (ready?.reason === 'Materialized') {
    ready.message =
      `Each consuming Job has its own Secret ${context.targetName}-<job uid>: Job(s) ` +
      `${present.map((job) => job.name).join(', ')}, each until its own expiry.`;
  }
  return status;
}

/** The consuming Jobs whose own Secret exists after this reconcile. */
function presentJobs(consuming: ConsumingJob[], results: StepOutcome[]): ConsumingJob[] {
  return consuming.filter((job) => {
    const steps = results.filter((r) => r.step.job.uid === job.uid && r.step.entitlement);
    const kept = steps.find((r) => r.step.action !== 'delete' && r.step.action !== 'withhold');
    if (!kept) return false;
    if (kept.step.action === 'create') return kept.outcome.kind === 'written';
    return kept.outcome.kind !== 'gone';
  });
}
