// The heart of the controller, as a pure function: from a SecretReference, its store's state, the Jobs that
// refer to its target, the Secret that exists now and the time, decide what should exist. No I/O here.
import type { V1Job, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type {
  ConsumingJob as ConsumingJobStatus,
  JobStart,
  ManagedSecretRecord,
  RefusedJob,
} from '../api/types.ts';
import {
  type ConsumerSelector,
  isJobActive,
  isJobSuspended,
  jobStartTime,
  judgeConsumer,
  provisionalStartTime,
} from './consumers.ts';
import { isManagedFor, managedAnnotations } from './managed-secret.ts';
import { type PodUse, secretNamesUsedByPod } from './pod-index.ts';
import { recordedUnder, secretsToRetire, type TrackedSecret } from './tracked-secrets.ts';

/** As status shows it, with both times always known to the plan (expiresAt: start time plus ttl). */
export type ConsumingJob = Required<ConsumingJobStatus>;
export type { JobStart, ManagedSecretRecord, RefusedJob, TrackedSecret };

/** A Job that was consuming at the last reconcile and no longer is. */
export interface EndedJob {
  job: Pick<ConsumingJob, 'name' | 'uid'>;
  cause: 'Revoked' | 'Expired';
  /** Why access was revoked, when it was not the Job's own end (audit-records.ts). */
  reason?: 'ForeignPodUsesTarget';
  /** The Secret the Job held, when it is not the target's now (the target was renamed and that one retired). */
  secret?: string;
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
  uid: string;
  /** RFC 3339; with uid, decides which of two references naming one target is the older. */
  createdAt: string;
  /** From status: the Secret this reference claimed, and its uid once created. Only that uid is trusted. */
  managedSecret?: ManagedSecretRecord;
  /** From status: when each Job was first seen running (epoch ms by Job uid); ttl counts from here. */
  jobStarts: Record<string, number>;
  /** From status: Secrets created under an earlier target name and not yet confirmed gone. */
  retiredSecrets: TrackedSecret[];
  /** From status: the Secret name the consuming Jobs it recorded were given (`status.secretName`). */
  secretName?: string;
}

/** Another SecretReference of the namespace whose target has the same name. */
export interface RivalReference {
  name: string;
  uid: string;
  createdAt: string;
}

/**
 * Another SecretReference of the namespace, as the pod admission policy sees it: the names it guards and the
 * consumers it admits pods for. A Job whose pods refer to one of those names without matching these consumers
 * has its pods refused by the API server, whatever this reference would give it.
 */
export interface NeighbourReference {
  name: string;
  guardedNames: string[];
  consumers: ConsumerSelector;
}

/** Namespaces where no reference is served: kube-system is outside the pod admission policy. */
export const refusedNamespaces: readonly string[] = ['kube-system'];

export type StoreState =
  | { state: 'ready' }
  | { state: 'missing' | 'invalid'; message: string }
  /**
   * The store does not admit this namespace (or, RemoteNotAllowed, a remote the reference names): nothing may
   * be served from it, even to running Jobs.
   */
  | { state: 'not-allowed'; message: string; reason?: 'RemoteNotAllowed' };

export interface PlanInput {
  now: number;
  reference: ReferenceFacts;
  store: StoreState;
  /** Jobs in the reference's namespace whose pod template refers to the target Secret name. */
  jobs: V1Job[];
  secret?: V1Secret;
  /**
   * When the remote versions were last compared with the Secret and found current or written (kept in memory
   * by the controller, recorded only after that check succeeded; after a restart, the held Secret's last full
   * write: `checkedWhenWritten`).
   */
  lastRefreshCheckAt?: number;
  /** How refreshes are spread; without it they come exactly every refreshInterval. */
  refreshJitter?: RefreshJitter;
  /** Unfinished pods in the reference's namespace that refer to the target Secret, in any way a pod can. */
  pods?: PodUse[];
  /** The other references of the namespace that name the same target Secret. */
  rivals?: RivalReference[];
  /**
   * `secret` comes from a live read, not the cache of managed Secrets, so its absence means no Secret of the
   * target's name exists and the reference may claim it.
   */
  secretReadLive?: boolean;
  /** Secrets carrying this reference's managed labels, whatever their name (the managed-Secret cache). */
  labelledSecrets?: V1Secret[];
  /** The other references of the namespace, with the names the pod admission policy guards for each. */
  neighbours?: NeighbourReference[];
}

/**
 * Refreshes are spread so references created together do not hit the store together. The randomness comes
 * from outside, so the plan stays a function of its input.
 */
export interface RefreshJitter {
  /** Fraction of refreshInterval by which a refresh may come early, 0..1. */
  fraction: number;
  /** A number drawn uniformly from [0, 1) by the caller. */
  draw: number;
}

/** A little after the expiry instant, so the Job is past its ttl when the reconcile looks. */
export const expiryGraceMs = 50;

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
  /** A Secret of that name exists that this reference did not create: never touch it. */
  | 'conflict'
  /** Pods that no consuming Job controls wait for the Secret: write nothing while they exist. */
  | 'refuse';

/** Why a reference may not act at all: it serves no Job and writes nothing. */
export interface Standstill {
  reason: 'TargetClaimed' | 'NamespaceRefused';
  message: string;
}

export interface Plan {
  action: SecretAction;
  consuming: ConsumingJob[];
  /** Running Jobs that match consumers and passed their ttl: they get nothing more (status says Expired). */
  expired: ConsumingJob[];
  refused: RefusedJob[];
  ended: EndedJob[];
  ownerReferences: V1OwnerReference[];
  /** Pods that refer to the target and are not controlled by a consuming Job; non-empty blocks every write. */
  foreignPods: ForeignPod[];
  /** When the Secret goes at the latest: the last consuming Job's expiry. */
  expiresAt?: string;
  /** The Secret's owners differ from the consuming Jobs: a refresh that finds no new version fixes them. */
  ownersChanged: boolean;
  /**
   * After the action succeeded, come back then even if nothing changes: the next (jittered) refresh or a
   * little after the next expiry, whichever is first. The only place the next visit is computed.
   */
  requeueAfterMs?: number;
  /**
   * After a failure a retry will not fix while no Job waits for a missing Secret: the next refresh, counted
   * from now (the failed check is not recorded), or the next expiry if sooner.
   */
  recheckAfterMs: number;
  /** Set when the reference may not act; the action then only revokes what it still holds. */
  standstill?: Standstill;
  /** With action 'conflict': the uid of the Secret that is in the way. */
  conflictingUid?: string;
  /** What status must record before the action is carried out (a claim before a create). */
  managedSecret?: ManagedSecretRecord;
  /** First starts to keep recorded: every started Job that still exists. */
  jobStarts: JobStart[];
  /**
   * Secrets this reference created under a name that is not its target now: each is deleted (uid precondition)
   * and stays in `status.retiredSecrets`, recorded before any other write, until the API server confirms it gone.
   */
  retire: TrackedSecret[];
}

export function planReference(input: PlanInput): Plan {
  const { reference, now } = input;
  const managed = input.secret !== undefined && isTrusted(input.secret, reference);
  const foreign = input.secret !== undefined && !managed;
  const standstill = standstillOf(input);

  const { consuming, refused, expired, starting } =
    reference.deleting || input.store.state === 'not-allowed' || standstill
      ? { consuming: [], refused: [], expired: [], starting: [] }
      : classifyJobs(input.jobs, reference, now, input.neighbours ?? []);
  const ownerReferences = consuming.map(ownerReferenceTo);
  const expiresAt = consuming
    .map((job) => job.expiresAt)
    .sort()
    .at(-1);
  const foreignPods = foreignPodsOf(input.pods ?? [], [...consuming, ...expired, ...starting]);

  const ownersChanged =
    managed && !sameOwners(input.secret?.metadata?.ownerReferences ?? [], ownerReferences);
  let action = chooseAction(input, { managed, foreign, consuming, ownersChanged });
  // Whatever is written under the target's name reaches every pod that refers to it. While a pod that no
  // consuming Job controls does (admitted before the reference existed, or waiting with optional: true),
  // nothing is written, and a Secret already there goes: it would be refreshed into that pod.
  const withheld =
    foreignPods.length > 0 && consuming.length > 0 && action !== 'none' && action !== 'conflict';
  if (withheld) action = managed ? 'delete' : 'refuse';
  const previous = managed ? withUnlistedGrants(reference, input.secret) : reference.previouslyConsuming;
  const ended = withheld
    ? endedJobs(previous, [], expired, now).map(
        (end): EndedJob => (end.cause === 'Revoked' ? { ...end, reason: 'ForeignPodUsesTarget' } : end),
      )
    : endedJobs(previous, consuming, expired, now);
  // Jobs recorded under an earlier target name held that Secret, the one now retired, not the target's.
  const held = reference.secretName;
  const endedWithSecret =
    held && held !== reference.targetName ? ended.map((end) => ({ ...end, secret: held })) : ended;
  const visits = nextVisits(input, action, consuming);
  return {
    action,
    consuming,
    expired,
    refused,
    ended: endedWithSecret,
    ownerReferences,
    foreignPods: withheld ? foreignPods : [],
    expiresAt,
    ownersChanged,
    ...visits,
    standstill,
    conflictingUid: action === 'conflict' ? input.secret?.metadata?.uid : undefined,
    managedSecret: claimFor(input, action, { standstill, managed }),
    jobStarts: firstStarts(input, [...consuming, ...expired]),
    retire: secretsToRetire({
      targetName: reference.targetName,
      recorded: reference.managedSecret,
      retired: reference.retiredSecrets,
      labelled: input.labelledSecrets ?? [],
    }),
  };
}

/**
 * Pods that refer to the target and whose controller is not one of `jobs` (the Jobs that match consumers and
 * are still active). Who created a pod cannot be seen after admission; a controller ownerReference with the
 * Job's uid is the check that can be made.
 */
function foreignPodsOf(pods: PodUse[], jobs: Pick<ConsumingJob, 'uid'>[]): ForeignPod[] {
  const entitled = new Set(jobs.map((job) => job.uid));
  return pods
    .filter((pod) => pod.controllerJobUid === undefined || !entitled.has(pod.controllerJobUid))
    .map(({ name, uid }) => ({ name, uid }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Ours only if it is the very Secret this reference created: labels and annotations can be set by anyone
 * who may write Secrets, the uid recorded in the operator-only status cannot.
 */
function isTrusted(secret: V1Secret, reference: ReferenceFacts): boolean {
  const recorded = recordedUnder(reference.targetName, reference.managedSecret, reference.retiredSecrets);
  return (
    isManagedFor(secret, reference.namespace, reference.name) &&
    recorded?.uid !== undefined &&
    recorded.name === reference.targetName &&
    secret.metadata?.name === recorded.name &&
    secret.metadata?.uid === recorded.uid
  );
}

/**
 * Why the reference may not act at all. A namespace outside the pod admission policy gets nothing. And two
 * references naming one target would let whoever writes first decide which values the Jobs get: only the
 * oldest (creation time, then uid) acts; admission refuses the second at apply, this covers concurrent creates.
 */
function standstillOf(input: PlanInput): Standstill | undefined {
  const { reference } = input;
  if (refusedNamespaces.includes(reference.namespace)) {
    return {
      reason: 'NamespaceRefused',
      message:
        `SecretReferences are not served in namespace ${reference.namespace}: its pods are outside the ` +
        'admission policy that keeps a managed Secret to its Jobs. Use another namespace.',
    };
  }
  const self = { name: reference.name, uid: reference.uid, createdAt: reference.createdAt };
  const older = (input.rivals ?? [])
    .filter((rival) => rival.uid !== reference.uid && isOlder(rival, self))
    .sort((a, b) => (isOlder(a, b) ? -1 : 1))[0];
  if (!older) return undefined;
  return {
    reason: 'TargetClaimed',
    message:
      `SecretReference ${older.name} is older and names the same target Secret ${reference.targetName}; ` +
      'only it writes that Secret. Choose another spec.target.name, or delete one of the two references.',
  };
}

function isOlder(a: RivalReference, b: RivalReference): boolean {
  const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  return byTime !== 0 ? byTime < 0 : a.uid < b.uid;
}

/**
 * The claim status must hold once this action is carried out: the target's name before the first create (the
 * uid follows once the API server confirms it), nothing for a reference that may not act.
 */
function claimFor(
  input: PlanInput,
  action: SecretAction,
  facts: { standstill?: Standstill; managed: boolean },
): ManagedSecretRecord | undefined {
  const target = input.reference.targetName;
  // A claim on an earlier target name is let go: its Secret, if one was created, is retired by uid. A Secret
  // retired from this very name and still there (renamed back before its delete) is this reference's again.
  const { managedSecret, retiredSecrets } = input.reference;
  const found = recordedUnder(target, managedSecret, retiredSecrets);
  const recorded = found && { name: found.name, ...(found.uid ? { uid: found.uid } : {}) };
  if (facts.standstill) return undefined;
  if (action === 'create') return { name: target };
  // Claimed as soon as the name is known to be free, so the pod policy protects it before the first Job.
  if (!recorded && input.secretReadLive && !input.secret) return { name: target };
  // Once the Secret it created is gone (revoked, or deleted by someone) its uid is stale; the claim stays.
  const stillThere = facts.managed && action !== 'delete';
  if (recorded?.uid && !stillThere) return { name: target };
  return recorded;
}

/**
 * Recorded first starts, pruned to the Jobs that exist and have not finished (a finished Job never consumes
 * again), plus the Jobs seen running for the first time.
 */
function firstStarts(input: PlanInput, entitled: ConsumingJob[]): JobStart[] {
  const existing = new Map(
    input.jobs.filter(isJobActive).map((job) => [job.metadata?.uid ?? '', job.metadata?.name ?? '']),
  );
  const starts = new Map<string, JobStart>();
  for (const [uid, started] of Object.entries(input.reference.jobStarts)) {
    const name = existing.get(uid);
    if (name !== undefined) starts.set(uid, { name, uid, firstStartTime: new Date(started).toISOString() });
  }
  for (const job of entitled) {
    if (!starts.has(job.uid))
      starts.set(job.uid, { name: job.name, uid: job.uid, firstStartTime: job.startTime });
  }
  return [...starts.values()].sort((a, b) => a.name.localeCompare(b.name) || a.uid.localeCompare(b.uid));
}

function classifyJobs(
  jobs: V1Job[],
  reference: ReferenceFacts,
  now: number,
  neighbours: NeighbourReference[],
) {
  const consuming: ConsumingJob[] = [];
  const refused: RefusedJob[] = [];
  const expired: ConsumingJob[] = [];
  /**
   * Entitled Jobs whose start the Job cache has not shown yet. Their pods can reach the pod cache first (the
   * Job controller creates a pod, then records the start): those pods are the Job's own, not foreign ones.
   */
  const starting: Pick<ConsumingJob, 'uid'>[] = [];
  for (const job of [...jobs].sort(byName)) {
    if (!isJobActive(job)) continue;
    const identity = { name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '' };
    const verdict = judgeConsumer(job, reference.consumers);
    if (!verdict.allowed) {
      refused.push({ ...identity, reason: verdict.reason });
      continue;
    }
    const barred = barredByNeighbour(job, reference.targetName, neighbours);
    if (barred) {
      refused.push({ ...identity, reason: barred });
      continue;
    }
    const started = firstStart(job, reference, now);
    // Not started (nor about to), or suspended (no pods): nothing to give it. A suspended Job stops consuming
    // at once.
    if (isJobSuspended(job)) continue;
    if (started === undefined) {
      starting.push({ uid: identity.uid });
      continue;
    }
    const entitlement: ConsumingJob = {
      ...identity,
      startTime: new Date(started).toISOString(),
      expiresAt: new Date(started + reference.ttlMs).toISOString(),
    };
    if (started + reference.ttlMs <= now) expired.push(entitlement);
    else consuming.push(entitlement);
  }
  return { consuming, refused, expired, starting };
}

/**
 * Why the pod admission policy will refuse every pod of this Job, if it will: its pod template refers to a
 * Secret another reference guards, and the Job does not match that reference's consumers. Writing this
 * reference's Secret for such a Job would serve no pod of it and only widen what exists.
 */
function barredByNeighbour(
  job: V1Job,
  targetName: string,
  neighbours: NeighbourReference[],
): string | undefined {
  const names = secretNamesUsedByPod(job.spec?.template?.spec);
  for (const neighbour of [...neighbours].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const guarded of neighbour.guardedNames) {
      if (guarded === targetName || !names.has(guarded)) continue;
      const verdict = judgeConsumer(job, neighbour.consumers);
      if (!verdict.allowed) {
        return (
          `its pods also refer to Secret ${guarded} of SecretReference ${neighbour.name} and do not match ` +
          `that reference's consumers (${verdict.reason}), so the pod admission policy refuses them`
        );
      }
    }
  }
  return undefined;
}

/**
 * ttl counts from the first start recorded for the Job. Until one is recorded, the Job's own start time, but
 * never later than now: a start time edited into the future must not lengthen the first entitlement. A Job
 * the Job controller has not synced yet starts at its creation (provisionalStartTime, consumers.ts).
 */
function firstStart(job: V1Job, reference: ReferenceFacts, now: number): number | undefined {
  const uid = job.metadata?.uid ?? '';
  const recorded = reference.jobStarts[uid];
  if (recorded !== undefined) return recorded;
  // A status written before first starts were recorded still names when a consuming Job started.
  const consumed = Date.parse(reference.previouslyConsuming.find((j) => j.uid === uid)?.startTime ?? '');
  if (!Number.isNaN(consumed)) return consumed;
  if (isJobSuspended(job)) return undefined;
  const reported = jobStartTime(job);
  if (reported !== undefined) return Math.min(reported, now);
  // Not synced by the Job controller yet: its creation stands in, unless its ttl would already have passed
  // from there (then its own start decides, once the controller records it).
  const provisional = provisionalStartTime(job);
  return provisional !== undefined && provisional + reference.ttlMs > now
    ? Math.min(provisional, now)
    : undefined;
}

/**
 * The Jobs status last recorded as consuming, and those the held Secret grants that status does not list: the
 * Secret write that granted them was confirmed and the status write after it was not (the API server went away
 * between the two). Their end is recorded as any other, or a grant would stay without its revocation. Only an
 * owner whose first start status recorded counts (recorded before every write that grants), so an owner added
 * to the Secret by someone else is never taken for a grant. ttl for such a Job counts from that first start.
 */
function withUnlistedGrants(reference: ReferenceFacts, held: V1Secret | undefined): ConsumingJob[] {
  const listed = new Set(reference.previouslyConsuming.map((job) => job.uid));
  const unlisted: ConsumingJob[] = [];
  for (const owner of held?.metadata?.ownerReferences ?? []) {
    const started = reference.jobStarts[owner.uid];
    if (owner.kind !== 'Job' || listed.has(owner.uid) || started === undefined) continue;
    unlisted.push({
      name: owner.name,
      uid: owner.uid,
      startTime: new Date(started).toISOString(),
      expiresAt: new Date(started + reference.ttlMs).toISOString(),
    });
  }
  return [...reference.previouslyConsuming, ...unlisted];
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
    ownersChanged: boolean;
  },
): SecretAction {
  const { reference, store, secret } = input;
  const { ownersChanged } = facts;
  // A Secret this reference did not create is reported (and audited) even before a Job needs it.
  if (facts.foreign && !reference.deleting && !standstillOf(input)) return 'conflict';
  if (facts.consuming.length === 0) return facts.managed ? 'delete' : 'none';
  if (!facts.managed) return store.state === 'ready' ? 'create' : 'none';
  // A managed Secret exists and Jobs are entitled to it. If the store cannot be used right now, the
  // running Jobs keep what they were given until their ttl: only owners are kept in line.
  if (store.state !== 'ready') return ownersChanged ? 'update-owners' : 'keep';
  if (managedAnnotations(secret!).contentHash !== reference.contentHash) return 'rewrite';
  if (refreshDue(input)) return 'refresh';
  return ownersChanged ? 'update-owners' : 'keep';
}

/**
 * Due once a refreshInterval has passed since the last successful check, or when no check is known (a Secret
 * this process has not checked and whose last write it cannot tell; a check or rewrite that failed is not
 * recorded, so it is tried again, with backoff, until it succeeds).
 */
export function refreshDue(input: Pick<PlanInput, 'now' | 'lastRefreshCheckAt' | 'reference'>): boolean {
  const last = input.lastRefreshCheckAt;
  return last === undefined || input.now - last >= input.reference.refreshIntervalMs;
}

/**
 * When the remote was last checked, as far as a process that has not checked it itself can tell: when the held
 * Secret was last written in full (`writtenAt`, its `secretlink.dev/written-at`), since its values were read
 * from the store just before. Without it a restarted operator would find every held Secret's refresh due and
 * read each of them again at once. Only the operator may set that annotation where the admission policy is
 * installed (config/admission/reserved); a time still to come (a cluster without the policy, or replicas whose
 * clocks differ) counts as now, which delays the next refresh by at most one refreshInterval.
 */
export function checkedWhenWritten(writtenAt: string | undefined, now: number): number | undefined {
  const written = Date.parse(writtenAt ?? '');
  return Number.isNaN(written) ? undefined : Math.min(written, now);
}

/** Up to `fraction` of the interval earlier than due, never before now; without jitter exactly when due. */
export function jitteredRefreshMs(dueInMs: number, intervalMs: number, jitter?: RefreshJitter): number {
  if (!jitter) return Math.max(0, dueInMs);
  const fraction = Math.min(1, Math.max(0, jitter.fraction));
  const draw = Math.min(1, Math.max(0, jitter.draw));
  return Math.max(0, Math.round(dueInMs - draw * fraction * intervalMs));
}

/** When to come back after success, and after a failure no retry fixes; expiries are exact, refreshes spread. */
function nextVisits(
  input: PlanInput,
  action: SecretAction,
  consuming: ConsumingJob[],
): { requeueAfterMs?: number; recheckAfterMs: number } {
  const { now, reference } = input;
  const interval = reference.refreshIntervalMs;
  const jittered = (dueInMs: number) => jitteredRefreshMs(dueInMs, interval, input.refreshJitter);
  if (consuming.length === 0 || action === 'delete') return { recheckAfterMs: jittered(interval) };
  const firstExpiry = Math.min(...consuming.map((job) => Date.parse(job.expiresAt)));
  const expiryInMs = Math.max(0, firstExpiry - now) + expiryGraceMs;
  // An action that checks the remote counts the next refresh from now once it succeeds.
  const checkedAt = ['create', 'rewrite', 'refresh'].includes(action)
    ? now
    : (input.lastRefreshCheckAt ?? now);
  // A refresh already due that this action did not make (the store cannot be used: its change wakes the
  // reference) is looked at again an interval on, not at once and again and again.
  const refreshInMs = checkedAt + interval - now;
  return {
    requeueAfterMs: Math.min(jittered(refreshInMs > 0 ? refreshInMs : interval), expiryInMs),
    recheckAfterMs: Math.min(jittered(interval), expiryInMs),
  };
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
