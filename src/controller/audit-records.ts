// Which audit records a reconcile produces, derived from what changed between the last recorded status and
// this one. Because the previous state is read from the cluster, a restarted operator does not repeat them.
import { findCondition } from '../api/conditions.ts';
import { readyCondition } from '../api/constants.ts';
import type { AuditRecord } from '../audit/types.ts';
import type { Outcome } from './outcome.ts';
import type { Plan } from './plan.ts';
import { conflictMessage, foreignPodsMessage, type ReferenceStatus, secretPresent } from './status.ts';

export interface AuditContext {
  now: number;
  reference: { namespace: string; name: string; uid?: string };
  store: { kind: string; name: string; provider?: string };
  targetName: string;
  deleting: boolean;
  previous: ReferenceStatus;
  /** Fingerprint of the content currently in the Secret, when one exists. */
  currentFingerprint?: string;
  /** Set when the store refused the reference before any read (a remote outside its remoteAccess). */
  storeRefusal?: { reason: string; message: string };
}

export function auditRecordsFor(plan: Plan, outcome: Outcome, context: AuditContext): AuditRecord[] {
  const records: AuditRecord[] = [];
  const base = {
    time: new Date(context.now).toISOString(),
    reference: context.reference,
    store: context.store,
    targetSecret: { namespace: context.reference.namespace, name: context.targetName },
  };
  const job = (name: string, uid: string) => ({ namespace: context.reference.namespace, name, uid });
  const previousVersions = (context.previous.remoteVersions ?? []).map(({ name, version }) => ({
    name,
    version,
  }));
  const currentVersions =
    outcome.kind === 'written'
      ? Object.entries(outcome.remoteVersions).map(([name, version]) => ({ name, version }))
      : previousVersions;
  const fingerprint = outcome.kind === 'written' ? outcome.fingerprint : context.currentFingerprint;

  const previouslyRefused = new Set((context.previous.refusedJobs ?? []).map((j) => j.uid));
  for (const refused of plan.refused.filter((j) => !previouslyRefused.has(j.uid))) {
    records.push({
      ...base,
      action: 'Refused',
      remotes: [],
      job: job(refused.name, refused.uid),
      reason: 'ConsumersMismatch',
      message: `Job ${refused.name} refers to Secret ${context.targetName} but was refused: ${refused.reason}.`,
    });
  }

  // Pods that hold writes back: recorded when they first do, and again only when the set of pods changes.
  const previousReady = findCondition(context.previous.conditions, readyCondition);
  const podsMessage = foreignPodsMessage(context.targetName, plan.foreignPods);
  const podsReported =
    previousReady?.reason === 'ForeignPodUsesTarget' && previousReady.message === podsMessage;
  if (plan.foreignPods.length > 0 && !podsReported) {
    for (const pod of plan.foreignPods) {
      records.push({
        ...base,
        action: 'Refused',
        remotes: [],
        reason: 'ForeignPodUsesTarget',
        message:
          `Secret ${context.targetName} not written: pod ${pod.name} (uid ${pod.uid}) refers to it and is ` +
          'not controlled by a consuming Job.',
      });
    }
  }

  const present = secretPresent(plan, outcome);
  const previouslyConsuming = new Set((context.previous.consumingJobs ?? []).map((j) => j.uid));
  if (present) {
    for (const granted of plan.consuming.filter((j) => !previouslyConsuming.has(j.uid))) {
      records.push({
        ...base,
        action: 'Materialized',
        remotes: currentVersions,
        job: job(granted.name, granted.uid),
        reason: outcome.kind === 'written' && outcome.created ? 'SecretCreated' : 'JobJoined',
        message: `Secret ${context.targetName} made available to Job ${granted.name} until ${granted.expiresAt}.`,
        fingerprint,
      });
    }
    if (outcome.kind === 'written' && !outcome.created) {
      for (const holder of plan.consuming.filter((j) => previouslyConsuming.has(j.uid))) {
        records.push({
          ...base,
          action: 'Refreshed',
          remotes: currentVersions,
          job: job(holder.name, holder.uid),
          reason: 'RemoteVersionChanged',
          message: `Secret ${context.targetName} rewritten with a new remote version for Job ${holder.name}.`,
          fingerprint,
        });
      }
    }
  }

  // While the reference is being deleted no status is written, so only the reconcile that actually deleted
  // the Secret records the revocations; a retry (say, of the finalizer removal) records nothing new.
  const endedNow = context.deleting && outcome.kind !== 'deleted' ? [] : plan.ended;
  for (const ended of endedNow) {
    const expired = ended.cause === 'Expired';
    const reason =
      ended.reason ?? (context.deleting ? 'ReferenceDeleted' : expired ? 'TtlPassed' : 'JobEnded');
    // The Secret the Job held: after a rename, the retired one under the earlier name, not the target's.
    const held = ended.secret ?? context.targetName;
    records.push({
      ...base,
      targetSecret: { namespace: context.reference.namespace, name: held },
      action: ended.cause,
      remotes: previousVersions,
      job: job(ended.job.name, ended.job.uid),
      reason,
      message: expired
        ? `Job ${ended.job.name} passed its ttl; its access to Secret ${held} ended.`
        : `Job ${ended.job.name} no longer has access to Secret ${held} (${reason}).`,
      fingerprint: context.currentFingerprint,
    });
  }

  const previousReason = previousReady?.reason;
  // A Secret in the way, or a reference that may not act, is refused once per distinct cause, not per visit.
  if (plan.action === 'conflict') {
    const message = conflictMessage(context.targetName, plan.conflictingUid);
    if (previousReason !== 'Conflict' || previousReady?.message !== message) {
      records.push({ ...base, action: 'Refused', remotes: [], reason: 'Conflict', message });
    }
  }
  if (plan.standstill && previousReason !== plan.standstill.reason) {
    records.push({
      ...base,
      action: 'Refused',
      remotes: [],
      reason: plan.standstill.reason,
      message: plan.standstill.message,
    });
  }
  const refusal = context.storeRefusal;
  if (refusal && (previousReason !== refusal.reason || previousReady?.message !== refusal.message)) {
    records.push({
      ...base,
      action: 'Refused',
      remotes: [],
      reason: refusal.reason,
      message: refusal.message,
    });
  }
  if (outcome.kind === 'failed' && previousReason !== outcome.reason) {
    records.push({
      ...base,
      action: 'Failed',
      remotes: [],
      reason: outcome.reason,
      message: outcome.message,
    });
  }
  return records;
}
