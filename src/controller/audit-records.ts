// Which audit records a reconcile produces, from its plan and what the API server confirmed (the outcome).
//
// - A grant or a refresh is recorded only for a Secret write the API server confirmed, naming that Secret's
//   uid. The write carries its grants in the Secret itself (`secretlink.dev/audit`), so the same records can
//   be derived again from the cluster (`grantRecords`) when the operator stopped before making them.
// - The end of a Job's access (the plan's `ended`, from the consuming Jobs status last recorded) is recorded
//   whether this reconcile deleted the Secret or found it gone: status forgets those Jobs only once the
//   records are made, so a crash between the delete and the record leaves them to the next reconcile.
// - Refusals and failures are decisions, not effects: recorded once per distinct cause, against status.
//
// Every record has a deterministic id, so emitting it again (a retry, a restart) is recognised by the sinks.
import { findCondition } from '../api/conditions.ts';
import { readyCondition } from '../api/constants.ts';
import { type AuditRecord, auditRecordId } from '../audit/types.ts';
import { versionList, type WriteAudit } from './managed-secret.ts';
import type { Grant, Outcome, SecretIdentity } from './outcome.ts';
import type { Plan } from './plan.ts';
import { conflictMessage, foreignPodsMessage, type ReferenceStatus } from './status.ts';

export interface AuditContext {
  now: number;
  reference: { namespace: string; name: string; uid?: string };
  store: { kind: string; name: string; provider?: string };
  targetName: string;
  deleting: boolean;
  previous: ReferenceStatus;
  /**
   * The resourceVersion of the reference whose status `previous` is: a decision taken against the same
   * recorded state gets the same record id, so a retry after a failed status write does not record it twice.
   */
  basis: string;
  /** The Secret this reference held when the reconcile began (its uid is the one status trusts), if any. */
  held?: HeldSecret;
  /** Set when the store refused the reference before any read (a remote outside its remoteAccess). */
  storeRefusal?: { reason: string; message: string };
}

/** A managed Secret as read: who, and which content, it held. */
export interface HeldSecret {
  name: string;
  uid: string;
  remoteVersions: Record<string, string>;
  fingerprint?: string;
  writtenAt?: string;
  owners: { name: string; uid: string }[];
}

/** The content a write grants access to, as the records name it. */
export interface GrantedContent {
  remoteVersions: Record<string, string>;
  fingerprint?: string;
}

type SecretWriteKind = 'create' | 'replace' | 'owners';

/**
 * The accesses a write grants or renews, decided before it is made so the write can carry them: every
 * consuming Job it makes an owner. A create grants to all; a replace renews the Jobs that held the Secret and
 * grants to new ones; an owners update grants only to new ones.
 */
export function grantsOf(plan: Plan, write: SecretWriteKind, ownersBefore: readonly string[]): Grant[] {
  const before = new Set(ownersBefore);
  const grants: Grant[] = [];
  for (const consuming of plan.consuming) {
    const job = { name: consuming.name, uid: consuming.uid };
    const until = consuming.expiresAt;
    if (write === 'create') grants.push({ action: 'Materialized', reason: 'SecretCreated', job, until });
    else if (!before.has(job.uid)) grants.push({ action: 'Materialized', reason: 'JobJoined', job, until });
    else if (write === 'replace') {
      const reason = plan.action === 'rewrite' ? 'ContentChanged' : 'RemoteVersionChanged';
      grants.push({ action: 'Refreshed', reason, job });
    }
  }
  return grants;
}

/**
 * The records of a confirmed write's grants: from the outcome right after the write, or from the Secret's
 * annotation after a restart. The same write always yields the same records, ids included.
 */
export function grantRecords(
  secret: Pick<SecretIdentity, 'name' | 'uid'>,
  write: WriteAudit,
  content: GrantedContent,
  context: Pick<AuditContext, 'reference' | 'store'>,
): AuditRecord[] {
  const { namespace } = context.reference;
  const remotes = versionList(content.remoteVersions);
  const versions = remotes.map(({ name, version }) => `${name}=${version}`).join(',');
  return write.grants.map((grant) => ({
    id: auditRecordId([
      context.reference.uid,
      grant.action,
      secret.uid,
      write.time,
      grant.job.uid,
      versions,
      content.fingerprint,
    ]),
    time: write.time,
    action: grant.action,
    reference: context.reference,
    store: context.store,
    remotes,
    targetSecret: { namespace, name: secret.name, uid: secret.uid },
    job: { namespace, ...grant.job },
    reason: grant.reason,
    message: grantMessage(secret.name, grant),
    ...(content.fingerprint ? { fingerprint: content.fingerprint } : {}),
    ...(write.by ? { operator: write.by } : {}),
  }));
}

function grantMessage(secretName: string, grant: Grant): string {
  if (grant.action === 'Materialized') {
    const until = grant.until ? ` until ${grant.until}` : '';
    return `Secret ${secretName} made available to Job ${grant.job.name}${until}.`;
  }
  return grant.reason === 'ContentChanged'
    ? `Secret ${secretName} rewritten after its SecretReference changed, for Job ${grant.job.name}.`
    : `Secret ${secretName} rewritten with a new remote version for Job ${grant.job.name}.`;
}

export function auditRecordsFor(plan: Plan, outcome: Outcome, context: AuditContext): AuditRecord[] {
  return [
    ...refusalRecords(plan, context),
    ...effectRecords(outcome, context),
    ...endRecords(plan, outcome, context),
    ...standstillRecords(plan, outcome, context),
  ];
}

/** The grants of the write this reconcile made, as the API server confirmed it. */
function effectRecords(outcome: Outcome, context: AuditContext): AuditRecord[] {
  if (outcome.kind === 'written') {
    const content = { remoteVersions: outcome.remoteVersions, fingerprint: outcome.fingerprint };
    return grantRecords(outcome.effect.secret, outcome.effect, content, context);
  }
  if (outcome.kind === 'current' && outcome.effect && context.held) {
    // Only owners changed: the content is the one the Secret held.
    return grantRecords(outcome.effect.secret, outcome.effect, context.held, context);
  }
  return [];
}

/**
 * Jobs whose access ended: those the plan says ended, and, when this reconcile deleted the Secret, any other
 * Job it still named as owner. The id names the Secret and the recorded state, not whether this reconcile
 * or an earlier one (that stopped before recording) deleted it, so the record is made exactly once.
 */
function endRecords(plan: Plan, outcome: Outcome, context: AuditContext): AuditRecord[] {
  const { namespace } = context.reference;
  const effect = outcome.kind === 'deleted' || outcome.kind === 'current' ? outcome.effect : undefined;
  const secret = effect?.secret ?? context.held ?? recordedSecret(context.previous);
  const ended = [...plan.ended];
  if (outcome.kind === 'deleted') {
    const known = new Set([...ended.map((end) => end.job.uid), ...plan.consuming.map((job) => job.uid)]);
    for (const owner of context.held?.owners ?? []) {
      if (!known.has(owner.uid)) ended.push({ job: owner, cause: 'Revoked' });
    }
  }
  const remotes = context.held
    ? versionList(context.held.remoteVersions)
    : (context.previous.remoteVersions ?? []).map(({ name, version }) => ({ name, version }));
  return ended.map((end) => {
    const expired = end.cause === 'Expired';
    const reason = end.reason ?? (context.deleting ? 'ReferenceDeleted' : expired ? 'TtlPassed' : 'JobEnded');
    // The Secret the Job held: after a rename, the retired one under the earlier name, not the target's.
    const held = end.secret ? retiredSecret(context.previous, end.secret) : secret;
    const targetName = held?.name ?? context.targetName;
    return {
      id: auditRecordId([context.reference.uid, 'end', held?.uid, end.job.uid, context.basis]),
      time: new Date(context.now).toISOString(),
      action: end.cause,
      reference: context.reference,
      store: context.store,
      remotes,
      targetSecret: { namespace, name: targetName, ...(held?.uid ? { uid: held.uid } : {}) },
      job: { namespace, name: end.job.name, uid: end.job.uid },
      reason,
      message: expired
        ? `Job ${end.job.name} passed its ttl; its access to Secret ${targetName} ended.`
        : `Job ${end.job.name} no longer has access to Secret ${targetName} (${reason}).`,
      ...(context.held?.fingerprint ? { fingerprint: context.held.fingerprint } : {}),
    };
  });
}

/** Jobs refused, and pods that hold writes back: recorded when they first appear in status. */
function refusalRecords(plan: Plan, context: AuditContext): AuditRecord[] {
  const records: AuditRecord[] = [];
  const decision = decisionRecord(context);
  const previouslyRefused = new Set((context.previous.refusedJobs ?? []).map((j) => j.uid));
  for (const refused of plan.refused.filter((j) => !previouslyRefused.has(j.uid))) {
    records.push({
      ...decision('Refused', 'ConsumersMismatch', refused.uid),
      job: { namespace: context.reference.namespace, name: refused.name, uid: refused.uid },
      message: `Job ${refused.name} refers to Secret ${context.targetName} but was refused: ${refused.reason}.`,
    });
  }
  // Recorded when the pods first hold writes back, and again only when the set of pods changes.
  const previousReady = findCondition(context.previous.conditions, readyCondition);
  const podsMessage = foreignPodsMessage(context.targetName, plan.foreignPods);
  const podsReported =
    previousReady?.reason === 'ForeignPodUsesTarget' && previousReady.message === podsMessage;
  if (plan.foreignPods.length > 0 && !podsReported) {
    for (const pod of plan.foreignPods) {
      records.push({
        ...decision('Refused', 'ForeignPodUsesTarget', pod.uid),
        message:
          `Secret ${context.targetName} not written: pod ${pod.name} (uid ${pod.uid}) refers to it and is ` +
          'not controlled by a consuming Job.',
      });
    }
  }
  return records;
}

/** A Secret in the way, a reference that may not act, a failure: once per distinct cause, not per visit. */
function standstillRecords(plan: Plan, outcome: Outcome, context: AuditContext): AuditRecord[] {
  const records: AuditRecord[] = [];
  const decision = decisionRecord(context);
  const previousReady = findCondition(context.previous.conditions, readyCondition);
  const previousReason = previousReady?.reason;
  if (plan.action === 'conflict') {
    const message = conflictMessage(context.targetName, plan.conflictingUid);
    if (previousReason !== 'Conflict' || previousReady?.message !== message) {
      records.push({ ...decision('Refused', 'Conflict', plan.conflictingUid), message });
    }
  }
  if (plan.standstill && previousReason !== plan.standstill.reason) {
    records.push({ ...decision('Refused', plan.standstill.reason), message: plan.standstill.message });
  }
  const refusal = context.storeRefusal;
  if (refusal && (previousReason !== refusal.reason || previousReady?.message !== refusal.message)) {
    records.push({ ...decision('Refused', refusal.reason, refusal.message), message: refusal.message });
  }
  // A grant refused because the audit file cannot take records has no record there: status and logs say it.
  if (
    outcome.kind === 'failed' &&
    previousReason !== outcome.reason &&
    outcome.reason !== 'AuditUnavailable'
  ) {
    records.push({ ...decision('Failed', outcome.reason), message: outcome.message });
  }
  return records;
}

/** A record of a decision taken against the recorded state `context.basis`, about `subject` if one. */
function decisionRecord(context: AuditContext) {
  return (action: 'Refused' | 'Failed', reason: string, subject?: string) => ({
    id: auditRecordId([context.reference.uid, action, reason, subject, context.basis]),
    time: new Date(context.now).toISOString(),
    action,
    reference: context.reference,
    store: context.store,
    remotes: [],
    targetSecret: { namespace: context.reference.namespace, name: context.targetName },
    reason,
  });
}

/** A Secret retired after a rename, by the name a Job held it under (its uid when status records it). */
function retiredSecret(previous: ReferenceStatus, name: string): { name: string; uid?: string } {
  return (previous.retiredSecrets ?? []).find((retired) => retired.name === name) ?? { name };
}

/** The Secret status recorded as created, when it records its uid. */
function recordedSecret(previous: ReferenceStatus): { name: string; uid: string } | undefined {
  const recorded = previous.managedSecret;
  return recorded?.uid ? { name: recorded.name, uid: recorded.uid } : undefined;
}
