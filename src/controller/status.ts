// The SecretReference status that follows from a plan and its outcome. Pure, so it is the same answer for
// the same cluster state, and written only when it differs from what is there.
import { findCondition, transitionTime } from '../api/conditions.ts';
import { readyCondition as readyType } from '../api/constants.ts';
import { withStalled } from '../api/stalled.ts';
import type { Condition, JobStart, SecretReferenceStatus } from '../api/types.ts';
import { versionList } from './managed-secret.ts';
import type { Outcome } from './outcome.ts';
import type { ForeignPod, Plan, StoreState } from './plan.ts';
import type { TrackedSecret } from './tracked-secrets.ts';

export type ReferenceStatus = SecretReferenceStatus;

export interface StatusContext {
  now: number;
  generation: number;
  targetName: string;
  store: StoreState;
  previous: ReferenceStatus;
  /** The plan's retired Secrets not confirmed gone by this reconcile; all of them when not given. */
  stillRetired?: TrackedSecret[];
  /**
   * What the Secret this reference holds says it was written from and when. Status may not have recorded
   * its last write (that status write failed, or the operator stopped first): the Secret is the truth.
   */
  held?: { remoteVersions: Record<string, string>; writtenAt?: string };
  /**
   * First starts of Jobs the caches showed after the plan was made (Jobs that started while this reconcile
   * wrote). Recorded with this write, so the reconcile that serves them needs no status write of its own
   * before its Secret write: in a burst, one status write per reconcile instead of two.
   */
  startsSincePlan?: JobStart[];
}

export function nextStatus(plan: Plan, outcome: Outcome, context: StatusContext): ReferenceStatus {
  const present = secretPresent(plan, outcome);
  const ready = readyCondition(plan, outcome, context);
  const previousReady = findCondition(context.previous.conditions, readyType);
  const condition: Condition = {
    ...ready,
    // The transition time moves only when the status flips, as the API conventions ask.
    lastTransitionTime: transitionTime(previousReady, ready.status, new Date(context.now)),
    observedGeneration: context.generation,
  };

  const newer = heldIsNewer(context);
  const versions =
    outcome.kind === 'written'
      ? versionList(outcome.remoteVersions)
      : present
        ? newer
          ? versionList(newer.remoteVersions)
          : context.previous.remoteVersions
        : undefined;
  return {
    observedGeneration: context.generation,
    // Stalled beside Ready when the failure needs a person, so Flux (kstatus) and Argo CD report it as failed.
    conditions: withStalled([condition], condition, context.previous.conditions, new Date(context.now)),
    secretName: context.targetName,
    consumingJobs: present ? plan.consuming : [],
    consumingJobCount: present ? plan.consuming.length : 0,
    refusedJobs: plan.refused,
    writtenAt:
      outcome.kind === 'written'
        ? outcome.writtenAt
        : present
          ? (newer?.writtenAt ?? context.previous.writtenAt)
          : undefined,
    expiresAt: present ? plan.expiresAt : undefined,
    remoteVersions: versions,
    managedSecret: managedSecretAfter(plan, outcome),
    retiredSecrets: retiredAfter(plan, context),
    jobStarts: withLaterStarts(plan.jobStarts, context.startsSincePlan),
  };
}

/**
 * The plan's first starts and, for Jobs it did not know of, those seen since. Recording a first start early
 * only fixes sooner the moment ttl counts from; it grants nothing, which only a confirmed Secret write does.
 */
function withLaterStarts(planned: JobStart[], later: JobStart[] = []): JobStart[] | undefined {
  const known = new Set(planned.map((start) => start.uid));
  const starts = [...planned, ...later.filter((start) => !known.has(start.uid))].sort(
    (a, b) => a.name.localeCompare(b.name) || a.uid.localeCompare(b.uid),
  );
  return starts.length > 0 ? starts : undefined;
}

/**
 * The held Secret, when it was written after the write status records (a cache that still shows an older copy
 * of a Secret this process just rewrote is not newer). RFC 3339 times of one format compare as strings.
 */
function heldIsNewer(context: StatusContext): StatusContext['held'] {
  const { held, previous } = context;
  if (!held?.writtenAt) return undefined;
  return !previous.writtenAt || held.writtenAt > previous.writtenAt ? held : undefined;
}

/** The claim the plan recorded, with the uid of the Secret a create just made. */
function managedSecretAfter(plan: Plan, outcome: Outcome): ReferenceStatus['managedSecret'] {
  if (plan.action === 'create' && outcome.kind === 'written' && outcome.uid && plan.managedSecret) {
    return { name: plan.managedSecret.name, uid: outcome.uid };
  }
  return plan.managedSecret;
}

/** Tracked until confirmed gone: a retired Secret leaves status only once its delete was confirmed. */
function retiredAfter(plan: Plan, context: StatusContext): ReferenceStatus['retiredSecrets'] {
  const still = context.stillRetired ?? plan.retire;
  return still.length > 0 ? still.map(({ name, uid }) => ({ name, uid })) : undefined;
}

/** Whether the Secret exists after this reconcile. */
export function secretPresent(plan: Plan, outcome: Outcome): boolean {
  switch (plan.action) {
    case 'create':
      return outcome.kind === 'written';
    case 'rewrite':
    case 'refresh':
    case 'update-owners':
    case 'keep':
      // A failed refresh leaves the existing Secret in place for the entitled Jobs; one deleted by someone
      // else before the write is not there, whatever the plan expected.
      return outcome.kind !== 'gone';
    default:
      return false;
  }
}

function readyCondition(
  plan: Plan,
  outcome: Outcome,
  context: StatusContext,
): Omit<Condition, 'lastTransitionTime'> {
  const { store, targetName } = context;
  if (plan.standstill) return notReady(plan.standstill.reason, plan.standstill.message);
  if (store.state === 'missing') return notReady('StoreNotFound', store.message);
  if (store.state === 'not-allowed') return notReady(store.reason ?? 'StoreNotAllowed', store.message);
  if (store.state === 'invalid') return notReady('StoreInvalid', store.message);
  if (plan.action === 'conflict') {
    return notReady('Conflict', conflictMessage(targetName, plan.conflictingUid));
  }
  if (plan.foreignPods.length > 0) {
    return notReady('ForeignPodUsesTarget', foreignPodsMessage(targetName, plan.foreignPods));
  }
  if (outcome.kind === 'failed') return notReady(outcome.reason, outcome.message);
  if (outcome.kind === 'gone') {
    return notReady(
      'SecretGone',
      `Secret ${targetName} was deleted by someone else before it could be written; it is written again.`,
    );
  }
  if (plan.consuming.length > 0 && !secretPresent(plan, outcome)) {
    // Whatever the cause, a Job entitled to a Secret that does not exist is never reported as healthy.
    return notReady('SecretGone', `Secret ${targetName} does not exist yet for Job(s) waiting for it.`);
  }
  if (plan.consuming.length === 0 && plan.expired.length > 0) {
    // Told apart from NoConsumers for as long as an expired Job still runs: it is why the Secret is gone.
    const jobs = plan.expired.map((job) => job.name).join(', ');
    return {
      type: 'Ready',
      status: 'True',
      reason: 'Expired',
      message: `Every consuming Job (${jobs}) passed its ttl, so Secret ${targetName} was revoked.`,
    };
  }
  if (plan.consuming.length === 0) {
    const refused =
      plan.refused.length > 0
        ? ` ${plan.refused.length} Job(s) were refused (status.refusedJobs says why).`
        : '';
    return {
      type: 'Ready',
      status: 'True',
      reason: 'NoConsumers',
      message: `No running Job consumes this reference, so Secret ${targetName} does not exist.${refused}`,
    };
  }
  const jobs = plan.consuming.map((job) => job.name).join(', ');
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Materialized',
    message: `Secret ${targetName} is available to Job(s) ${jobs} until ${plan.expiresAt}.`,
  };
}

/** Names at most this many pods in a condition message, so a namespace full of them cannot bloat status. */
const listedPodsLimit = 10;

/** The condition message for pods that hold writes back; also what tells audit-records.ts the set changed. */
export function foreignPodsMessage(targetName: string, pods: ForeignPod[]): string {
  const names = pods.slice(0, listedPodsLimit).map((pod) => pod.name);
  const more = pods.length > listedPodsLimit ? ` and ${pods.length - listedPodsLimit} more` : '';
  return (
    `Secret ${targetName} is not written: pod(s) ${names.join(', ')}${more} refer to it and are not ` +
    'controlled by a consuming Job (admitted before this reference existed, or while the admission policy ' +
    'was missing). ' +
    'The Secret is written once no such pod is left.'
  );
}

/** Names the Secret's uid, so one conflicting Secret is told from the next and each is audited once. */
export function conflictMessage(targetName: string, uid: string | undefined): string {
  return (
    `Secret ${targetName} (uid ${uid ?? 'unknown'}) already exists and was not created by this ` +
    'SecretReference; it is left untouched. Delete or rename that Secret, or choose another spec.target.name.'
  );
}

function notReady(reason: string, message: string): Omit<Condition, 'lastTransitionTime'> {
  return { type: 'Ready', status: 'False', reason, message };
}

/** Status writes only when something a reader would notice changed. */
export function statusDiffers(current: ReferenceStatus, next: ReferenceStatus): boolean {
  return JSON.stringify(normalise(current)) !== JSON.stringify(normalise(next));
}

function normalise(status: ReferenceStatus) {
  return {
    observedGeneration: status.observedGeneration,
    conditions: (status.conditions ?? []).map(({ type, status: s, reason, message, observedGeneration }) => ({
      type,
      s,
      reason,
      message,
      observedGeneration,
    })),
    consumingJobs: (status.consumingJobs ?? []).map(({ name, uid, startTime, expiresAt }) => ({
      name,
      uid,
      startTime,
      expiresAt,
    })),
    secretName: status.secretName,
    refusedJobs: (status.refusedJobs ?? []).map(({ name, uid, reason }) => ({ name, uid, reason })),
    writtenAt: status.writtenAt,
    expiresAt: status.expiresAt,
    remoteVersions: status.remoteVersions ?? [],
    managedSecret: status.managedSecret
      ? { name: status.managedSecret.name, uid: status.managedSecret.uid }
      : null,
    retiredSecrets: (status.retiredSecrets ?? []).map(({ name, uid }) => ({ name, uid })),
    jobStarts: (status.jobStarts ?? []).map(({ name, uid, firstStartTime }) => ({
      name,
      uid,
      firstStartTime,
    })),
  };
}
