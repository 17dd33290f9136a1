// The heart of the controller, as a pure function: from a SecretReference, its store's state, the Jobs that
// refer to its target, the Secret that exists now and the time, decide what should exist. No I/O here.
import type { V1Job, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type { ConsumingJob as ConsumingJobStatus, RefusedJob } from '../api/types.ts';
import { type ConsumerSelector, isJobActive, jobStartTime, judgeConsumer } from './consumers.ts';
import { isManagedFor, managedAnnotations } from './managed-secret.ts';
import type { PodUse } from './pod-index.ts';

/** As status shows it, with both times always known to the plan (expiresAt: start time plus ttl). */
export type ConsumingJob = Required<ConsumingJobStatus>;
export type { RefusedJob };

/** A Job that was consuming at the last reconcile and no longer is. */
export interface EndedJob {
  job: Pick<ConsumingJob, 'name' | 'uid'>;
  cause: 'Revoked' | 'Expired';
  /** Why access was revoked, when it was not the Job's own end (audit-records.ts). */
  reason?: 'ForeignPodUsesTarget';
}

/** A pod that refers to the target Secret and that no consuming Job controls. */
export type ForeignPod = Pick<PodUse, 'name' | 'uid'>;

export interface ReferenceFacts {
  namespace: string;
  name: string;
  deleting: boolean;
  targetName: string;
  ttlMs: number;
  refreshIntervalMs: number;
  consumers: ConsumerSelector;
  /** Digest of everything that decides the Secret's content; a change forces a rewrite. */
  contentHash: string;
  /** From status: who was consuming at the last reconcile. */
  previouslyConsuming: ConsumingJob[];
}

export type StoreState =
  | { state: 'ready' }
  | { state: 'missing' | 'invalid'; message: string }
  /** The store does not admit this namespace: nothing may be served from it, even to running Jobs. */
  | { state: 'not-allowed'; message: string };

export interface PlanInput {
  now: number;
  reference: ReferenceFacts;
  store: StoreState;
  /** Jobs in the reference's namespace whose pod template refers to the target Secret name. */
  jobs: V1Job[];
  secret?: V1Secret;
  /** When the remote versions were last compared with the Secret (kept in memory by the controller). */
  lastRefreshCheckAt?: number;
  /** Unfinished pods in the reference's namespace that refer to the target Secret, in any way a pod can. */
  pods?: PodUse[];
}

export type SecretAction =
  /** Nothing exists and nothing is needed. */
  | 'none'
  /** Resolve every remote value and create the Secret. */
  | 'create'
  /** The Secret's content definition changed: resolve and rewrite. */
  | 'rewrite'
  /** Compare remote versions with the Secret's; rewrite only if one changed. Owners are brought in line too. */
  | 'refresh'
  /** Content is current; only the set of owning Jobs changed. */
  | 'update-owners'
  | 'keep'
  /** No Job is entitled any more: delete the managed Secret. */
  | 'delete'
  /** A Secret of that name exists that secretlink does not manage: never touch it. */
  | 'conflict'
  /** Pods that no consuming Job controls wait for the Secret: write nothing while they exist. */
  | 'refuse';

export interface Plan {
  action: SecretAction;
  consuming: ConsumingJob[];
  refused: RefusedJob[];
  ended: EndedJob[];
  ownerReferences: V1OwnerReference[];
  /** Pods that refer to the target and are not controlled by a consuming Job; non-empty blocks every write. */
  foreignPods: ForeignPod[];
  /** When the Secret goes at the latest: the last consuming Job's expiry. */
  expiresAt?: string;
  /** Come back then even if nothing changes: the next refresh or the next expiry, whichever is first. */
  requeueAfterMs?: number;
  /** The two deadlines behind requeueAfterMs, kept apart so only the refresh is jittered. */
  refreshInMs?: number;
  expiryInMs?: number;
}

export function planReference(input: PlanInput): Plan {
  const { reference, now } = input;
  const managed =
    input.secret !== undefined && isManagedFor(input.secret, reference.namespace, reference.name);
  const foreign = input.secret !== undefined && !managed;

  const { consuming, refused, expired } =
    reference.deleting || input.store.state === 'not-allowed'
      ? { consuming: [], refused: [], expired: [] }
      : classifyJobs(input.jobs, reference, now);
  const ownerReferences = consuming.map(ownerReferenceTo);
  const expiresAt = consuming
    .map((job) => job.expiresAt)
    .sort()
    .at(-1);
  const foreignPods = foreignPodsOf(input.pods ?? [], [...consuming, ...expired]);

  let action = chooseAction(input, { managed, foreign, consuming, ownerReferences });
  // Whatever is written under the target's name reaches every pod that refers to it. While a pod that no
  // consuming Job controls does (admitted before the reference existed, or waiting with optional: true),
  // nothing is written, and a Secret already there goes: it would be refreshed into that pod.
  const withheld =
    foreignPods.length > 0 && consuming.length > 0 && action !== 'none' && action !== 'conflict';
  if (withheld) action = managed ? 'delete' : 'refuse';
  const ended = withheld
    ? endedJobs(reference.previouslyConsuming, [], expired, now).map(
        (end): EndedJob => (end.cause === 'Revoked' ? { ...end, reason: 'ForeignPodUsesTarget' } : end),
      )
    : endedJobs(reference.previouslyConsuming, consuming, expired, now);
  const timers = nextVisit(input, action, consuming);
  const requeueAfterMs = timers ? Math.min(timers.refreshInMs, timers.expiryInMs) : undefined;
  return {
    action,
    consuming,
    refused,
    ended,
    ownerReferences,
    foreignPods: withheld ? foreignPods : [],
    expiresAt,
    requeueAfterMs,
    ...timers,
  };
}

/**
 * Pods that refer to the target and whose controller is not one of `jobs` (the Jobs that match consumers and
 * are still active). Who created a pod cannot be seen after admission; a controller ownerReference with the
 * Job's uid is the check that can be made.
 */
function foreignPodsOf(pods: PodUse[], jobs: ConsumingJob[]): ForeignPod[] {
  const entitled = new Set(jobs.map((job) => job.uid));
  return pods
    .filter((pod) => pod.controllerJobUid === undefined || !entitled.has(pod.controllerJobUid))
    .map(({ name, uid }) => ({ name, uid }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function classifyJobs(jobs: V1Job[], reference: ReferenceFacts, now: number) {
  const consuming: ConsumingJob[] = [];
  const refused: RefusedJob[] = [];
  const expired: ConsumingJob[] = [];
  for (const job of [...jobs].sort(byName)) {
    if (!isJobActive(job)) continue;
    const identity = { name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '' };
    const verdict = judgeConsumer(job, reference.consumers);
    if (!verdict.allowed) {
      refused.push({ ...identity, reason: verdict.reason });
      continue;
    }
    const started = jobStartTime(job) ?? now;
    const entitlement: ConsumingJob = {
      ...identity,
      startTime: new Date(started).toISOString(),
      expiresAt: new Date(started + reference.ttlMs).toISOString(),
    };
    if (started + reference.ttlMs <= now) expired.push(entitlement);
    else consuming.push(entitlement);
  }
  return { consuming, refused, expired };
}

function endedJobs(
  previous: ConsumingJob[],
  consuming: ConsumingJob[],
  expired: ConsumingJob[],
  now: number,
): EndedJob[] {
  const stillConsuming = new Set(consuming.map((job) => job.uid));
  const expiredNow = new Set(expired.map((job) => job.uid));
  return previous
    .filter((job) => !stillConsuming.has(job.uid))
    .map((job) => ({
      job: { name: job.name, uid: job.uid },
      cause: expiredNow.has(job.uid) || Date.parse(job.expiresAt) <= now ? 'Expired' : 'Revoked',
    }));
}

function chooseAction(
  input: PlanInput,
  facts: {
    managed: boolean;
    foreign: boolean;
    consuming: ConsumingJob[];
    ownerReferences: V1OwnerReference[];
  },
): SecretAction {
  const { reference, store, secret, now } = input;
  if (facts.consuming.length === 0) return facts.managed ? 'delete' : 'none';
  if (facts.foreign) return 'conflict';
  if (!facts.managed) return store.state === 'ready' ? 'create' : 'none';
  // A managed Secret exists and Jobs are entitled to it. If the store cannot be used right now, the
  // running Jobs keep what they were given until their ttl: only owners are kept in line.
  const ownersChanged = !sameOwners(secret?.metadata?.ownerReferences ?? [], facts.ownerReferences);
  if (store.state !== 'ready') return ownersChanged ? 'update-owners' : 'keep';
  if (managedAnnotations(secret!).contentHash !== reference.contentHash) return 'rewrite';
  const refreshDue =
    input.lastRefreshCheckAt === undefined || now - input.lastRefreshCheckAt >= reference.refreshIntervalMs;
  if (refreshDue) return 'refresh';
  return ownersChanged ? 'update-owners' : 'keep';
}

function nextVisit(input: PlanInput, action: SecretAction, consuming: ConsumingJob[]) {
  if (consuming.length === 0 || action === 'delete') return undefined;
  const { now, reference } = input;
  const firstExpiry = Math.min(...consuming.map((job) => Date.parse(job.expiresAt)));
  const refreshedAt = ['create', 'rewrite', 'refresh'].includes(action)
    ? now
    : (input.lastRefreshCheckAt ?? now);
  const nextRefresh = refreshedAt + reference.refreshIntervalMs;
  return { refreshInMs: Math.max(0, nextRefresh - now), expiryInMs: Math.max(0, firstExpiry - now) };
}

function ownerReferenceTo(job: ConsumingJob): V1OwnerReference {
  // Not a controller reference and no blockOwnerDeletion: the Jobs own the Secret only so that garbage
  // collection removes it once they are all deleted, even while the operator is down.
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.name, uid: job.uid };
}

export function sameOwners(current: V1OwnerReference[], desired: V1OwnerReference[]): boolean {
  const uids = (refs: V1OwnerReference[]) =>
    refs
      .map((ref) => ref.uid)
      .sort()
      .join(',');
  return uids(current) === uids(desired);
}

function byName(a: V1Job, b: V1Job): number {
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}
