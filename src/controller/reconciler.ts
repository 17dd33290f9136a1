// One reconcile of one SecretReference, given only its key: read current state from the caches, decide with
// the pure plan, carry it out with thin effects, then derive status and audit records. Level-triggered and
// idempotent: a missed or repeated event does no harm.
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AnySecretStore, ManagedSecretRecord, SecretReference } from '../api/types.ts';
import type { AuditRecord, AuditSink } from '../audit/types.ts';
import { selectProvider } from '../providers/registry.ts';
import { backoffDelay } from '../runtime/backoff.ts';
import type { Clock } from '../runtime/clock.ts';
import { RetryableError } from '../runtime/retryable-error.ts';
import { auditRecordsFor } from './audit-records.ts';
import { secretNamesReferencedBy } from './job-index.ts';
import { buildSecret, isManagedFor, managedAnnotations, zeroValues } from './managed-secret.ts';
import { failureOutcome, type Outcome, outcomeOfWrite, type SecretWrite } from './outcome.ts';
import {
  expiryGraceMs,
  type Plan,
  type PlanInput,
  planReference,
  type ReferenceFacts,
  type StoreState,
} from './plan.ts';
import type { PodUse } from './pod-index.ts';
import type { ClusterView, ClusterWriter, ReadValues, ValueSource } from './ports.ts';
import { finalizer } from './ports.ts';
import { creationTimeOf, referenceFacts, storeIdentity, targetNameOf } from './reference-facts.ts';
import { nextStatus, type ReferenceStatus, secretPresent, statusDiffers } from './status.ts';
import { judgeStoreAccess, judgeStoreSpec } from './store-access.ts';

/** The longest wait between retries of a reference whose Job waits for its Secret. */
const waitingRetryMaxMs = 30_000;

/** Jobs read live per reconcile to confirm pods whose controller the Job cache has not seen yet. */
const maxUnseenJobReads = 5;

export interface ReconcilerDeps {
  view: ClusterView;
  writer: ClusterWriter;
  values: ValueSource;
  audit: AuditSink;
  fingerprint: (data: Record<string, Buffer>, namespace: string) => string;
  clock: Clock;
  logger: Logger;
  /** Fraction of refreshInterval by which refreshes are spread. */
  refreshJitter: number;
  /** Uniform in [0, 1): spreads the refreshes; injected so tests can choose. Math.random by default. */
  random?: () => number;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** A store read in flight, with the Jobs it serves, so a revocation that becomes due can cut it short. */
interface InFlightRead {
  consuming: Set<string>;
  superseded: AbortController;
}

/** The store read was abandoned because a Job's access ended meanwhile; the reconcile runs again at once. */
class ReadSuperseded extends Error {
  constructor() {
    super('a Job lost its access while the store was read; reconciling again');
    this.name = 'ReadSuperseded';
  }
}

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  /**
   * When each reference's remote versions were last compared and found current or written; set only after that
   * succeeded, so a failed check or rewrite is tried again. Memory only: a restart just checks once more.
   */
  private readonly lastRefreshCheck = new Map<string, number>();
  /**
   * The status this process last wrote, until the cache shows that write. Audit records are derived from the
   * previous status, so reading a stale one from the cache would record the same grant twice.
   */
  private readonly writtenStatus = new Map<string, { resourceVersion: string; status: ReferenceStatus }>();
  /**
   * The Secret this process created, until status records its uid: if that status write fails, the retry
   * still knows the Secret is its own instead of reporting it as a conflict.
   */
  private readonly createdSecrets = new Map<string, ManagedSecretRecord>();
  /** Consecutive failures of a reference while a Job waits for its Secret, to space the retries. */
  private readonly waitingFailures = new Map<string, number>();
  /** Store reads in flight, by reference key. */
  private readonly reads = new Map<string, InFlightRead>();

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  /**
   * Called when a reference's state changes (or a consuming Job's ttl ends) while its reconcile waits on the
   * store. If the caches now say that a Job the read was for has lost its access (it ended, was suspended or
   * deleted, passed its ttl, or a foreign pod appeared), the read is abandoned and the reconcile runs again at
   * once, so the revocation never waits for a slow or stalled store.
   */
  interruptIfRevoking(key: string): void {
    const read = this.reads.get(key);
    if (!read || read.superseded.signal.aborted) return;
    const plan = this.cachedPlan(key);
    const stillServed = new Set(plan?.consuming.map((job) => job.uid));
    const revokes =
      !plan ||
      plan.action === 'delete' ||
      plan.action === 'refuse' ||
      [...read.consuming].some((uid) => !stillServed.has(uid));
    if (revokes) read.superseded.abort(new ReadSuperseded());
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    const reference = this.deps.view.reference(namespace, name);
    if (!reference) {
      this.lastRefreshCheck.delete(key);
      this.writtenStatus.delete(key);
      this.createdSecrets.delete(key);
      this.waitingFailures.delete(key);
      await this.removeOrphans(namespace, name);
      return {};
    }
    const deleting = reference.metadata.deletionTimestamp !== undefined;
    if (deleting && !reference.metadata.finalizers?.includes(finalizer)) return {};
    if (!deleting && !reference.metadata.finalizers?.includes(finalizer)) {
      // The finalizer guarantees the Secret is revoked when the reference is deleted, even mid-flight.
      await this.deps.writer.addFinalizer(reference);
      return { requeueAfterMs: 0 };
    }

    const now = this.deps.clock.now();
    const draw = (this.deps.random ?? Math.random)();
    const store = this.lookUpStore(reference);
    let previous = this.previousStatus(key, reference);
    const facts = referenceFacts(reference, store.object, deleting, previous);
    let secret = this.deps.view.managedSecret(namespace, facts.targetName);
    let unseenJobs: V1Job[] = [];
    let secretReadLive = false;
    // One snapshot of the caches per reconcile; only the live reads below add to it.
    const cachedJobs = this.deps.view.jobsReferencing(namespace, facts.targetName);
    const pods = this.deps.view.podsReferencing(namespace, facts.targetName);
    const rivals = this.rivalsOf(reference, facts.targetName);
    const input = (): PlanInput => ({
      now,
      reference: facts,
      store: store.state,
      jobs: [...cachedJobs, ...unseenJobs],
      secret,
      lastRefreshCheckAt: this.lastRefreshCheck.get(key),
      refreshJitter: { fraction: this.deps.refreshJitter, draw },
      pods,
      rivals,
      secretReadLive,
    });
    let plan = planReference(input());
    const unclaimed =
      !deleting && !plan.standstill && plan.managedSecret?.name !== facts.targetName && !secret;
    if (plan.action === 'create' || (plan.action === 'refuse' && !secret) || unclaimed) {
      // The cache holds only managed Secrets; look for a foreign one of that name before creating or claiming.
      // Its own pods are then a Conflict to report, not pods waiting for a Secret secretlink would write.
      secret = await this.deps.writer.readSecret(namespace, facts.targetName);
      secretReadLive = true;
      plan = planReference(input());
    }
    if (plan.foreignPods.length > 0) {
      // A new Job's pod can reach the pod cache before the Job reaches the Job cache; read such Jobs live
      // rather than refuse (or revoke) because of a Job that is only late.
      unseenJobs = await this.unseenControllers(facts, plan, pods, cachedJobs);
      if (unseenJobs.length > 0) plan = planReference(input());
    }

    const log = this.deps.logger.child({ reference: key, action: plan.action });
    if (!deleting && writesSecret(plan) && recordDiffers(previous, plan)) {
      // The claim (before a create) and each Job's first start are recorded before the Secret is written, so
      // no crash can leave a Secret whose ownership or entitlement the cluster does not remember.
      previous = { ...previous, managedSecret: plan.managedSecret, jobStarts: plan.jobStarts };
      const resourceVersion = await this.deps.writer.writeStatus(reference, previous);
      if (!resourceVersion) return {};
      this.writtenStatus.set(key, { resourceVersion, status: previous });
    }
    let outcome: Outcome;
    try {
      outcome = await this.carryOut(plan, { reference, facts, store, secret, key, signal });
    } catch (error) {
      if (!(error instanceof ReadSuperseded)) throw error;
      // Nothing was written and nothing is recorded: the next run, at once, revokes from the new state.
      log.debug('store read abandoned: a Job lost its access meanwhile');
      return { requeueAfterMs: 0 };
    }
    log.debug({ outcome: outcome.kind }, 'reconciled');
    if (checkedRemote(plan, outcome)) this.lastRefreshCheck.set(key, now);

    await this.recordEvidence(reference, facts, store, plan, outcome, secret, now, previous);
    if (deleting && (outcome.kind === 'deleted' || outcome.kind === 'idle')) {
      await this.deps.writer.removeFinalizer(reference);
      this.lastRefreshCheck.delete(key);
      return {};
    }
    if (outcome.kind === 'gone') {
      // Deleted by someone else before our write: nothing was written; write it again once the cache agrees.
      throw new RetryableError('the Secret was deleted before it could be written; writing it again');
    }
    if (outcome.kind === 'failed') {
      if (outcome.retryable) throw new RetryableError(`${outcome.reason}: ${outcome.message}`);
      // A Job waits for a Secret it does not have: the remote may appear any moment, so look again in seconds.
      if (plan.consuming.length > 0 && !secretPresent(plan, outcome)) {
        return { requeueAfterMs: this.waitingRetryMs(key, facts) };
      }
      // No one waits (a missing remote, a denied policy): look again at the next refresh.
      return { requeueAfterMs: plan.recheckAfterMs };
    }
    this.waitingFailures.delete(key);
    return { requeueAfterMs: plan.requeueAfterMs };
  }

  /**
   * A managed Secret whose SecretReference no longer exists (the operator was down when it was deleted, or
   * crashed before revoking) is removed. Jobs still running lose nothing they were entitled to: without a
   * reference, nothing entitles them.
   */
  private async removeOrphans(namespace: string, referenceName: string): Promise<void> {
    for (const orphan of this.deps.view.managedSecretsOf(namespace, referenceName)) {
      // Already gone (the cache lags a delete made moments ago): nothing was revoked now, nothing to record.
      if ((await this.deps.writer.deleteSecret(orphan)).result !== 'deleted') continue;
      const owners = orphan.metadata?.ownerReferences ?? [];
      const { remoteVersions, fingerprint } = managedAnnotations(orphan);
      for (const owner of owners.length > 0 ? owners : [undefined]) {
        await this.deps.audit.write({
          time: new Date(this.deps.clock.now()).toISOString(),
          action: 'Revoked',
          reference: { namespace, name: referenceName },
          remotes: Object.entries(remoteVersions).map(([name, version]) => ({
            name,
            version,
          })),
          targetSecret: { namespace, name: orphan.metadata!.name! },
          job: owner ? { namespace, name: owner.name, uid: owner.uid } : undefined,
          reason: 'ReferenceDeleted',
          message: `Secret ${orphan.metadata!.name} removed: its SecretReference ${referenceName} no longer exists.`,
          fingerprint,
        });
      }
    }
  }

  /**
   * The controller Jobs of foreign pods that exist, with that uid and a pod template that refers to the
   * target (as the cached Jobs the plan gets do), but are not in the Job cache.
   */
  private async unseenControllers(
    facts: ReferenceFacts,
    plan: Plan,
    pods: PodUse[],
    cachedJobs: V1Job[],
  ): Promise<V1Job[]> {
    const foreign = new Set(plan.foreignPods.map((pod) => pod.uid));
    const cached = new Set(cachedJobs.map((job) => job.metadata?.uid));
    const wanted = new Map<string, string>();
    for (const pod of pods) {
      if (!foreign.has(pod.uid) || !pod.controllerJobUid || !pod.controllerJobName) continue;
      if (!cached.has(pod.controllerJobUid)) wanted.set(pod.controllerJobUid, pod.controllerJobName);
    }
    const found: V1Job[] = [];
    // Bounded: a pod has one controller, and a burst of new Jobs is a handful, not thousands, per target.
    for (const [uid, name] of [...wanted].slice(0, maxUnseenJobReads)) {
      const job = await this.deps.writer.readJob(facts.namespace, name);
      if (job?.metadata?.uid !== uid) continue;
      if (secretNamesReferencedBy(job.spec?.template?.spec).has(facts.targetName)) found.push(job);
    }
    return found;
  }

  private lookUpStore(reference: SecretReference): { object?: AnySecretStore; state: StoreState } {
    const namespace = reference.metadata.namespace!;
    const kind = reference.spec.storeRef.kind ?? 'SecretStore';
    const object = this.deps.view.store(kind, namespace, reference.spec.storeRef.name);
    const access = judgeStoreAccess(
      namespace,
      reference.spec.storeRef,
      object,
      this.deps.view.namespaceLabels(namespace),
    );
    const state =
      access.state === 'ready' && object ? judgeStoreSpec(reference.spec.storeRef, object) : access;
    return { object, state };
  }

  private async carryOut(
    plan: Plan,
    context: {
      reference: SecretReference;
      facts: ReferenceFacts;
      store: { object?: AnySecretStore; state: StoreState };
      secret?: V1Secret;
      key: string;
      signal: AbortSignal;
    },
  ): Promise<Outcome> {
    const { reference, facts, store, secret, key, signal } = context;
    const now = this.deps.clock.now();
    switch (plan.action) {
      case 'none':
      case 'conflict':
      case 'refuse':
      case 'keep':
        return { kind: 'idle' };
      case 'delete':
        // Already gone (garbage collection, or a cache that lags our own delete) is not a new revocation.
        return (await this.deps.writer.deleteSecret(secret!)).result === 'deleted'
          ? { kind: 'deleted' }
          : { kind: 'idle' };
      case 'update-owners':
        return outcomeOfWrite(
          await this.deps.writer.setSecretOwners(
            secret!,
            { ownerReferences: plan.ownerReferences },
            plan.expiresAt,
          ),
        );
      case 'refresh': {
        let versions: Record<string, string>;
        try {
          versions = await this.readStore(key, plan, signal, (limited) =>
            this.deps.values.versions(store.object!, reference, limited),
          );
        } catch (error) {
          if (error instanceof ReadSuperseded) throw error;
          return failureOutcome(error);
        }
        if (sameVersions(versions, managedAnnotations(secret!).remoteVersions)) {
          if (plan.ownersChanged) {
            return outcomeOfWrite(
              await this.deps.writer.setSecretOwners(
                secret!,
                { ownerReferences: plan.ownerReferences },
                plan.expiresAt,
              ),
            );
          }
          return { kind: 'current' };
        }
        return this.write(plan, { reference, facts, store, secret, signal, now, key });
      }
      case 'create':
      case 'rewrite':
        return this.write(plan, { reference, facts, store, secret, signal, now, key });
    }
  }

  private async write(
    plan: Plan,
    context: {
      reference: SecretReference;
      facts: ReferenceFacts;
      store: { object?: AnySecretStore };
      secret?: V1Secret;
      signal: AbortSignal;
      now: number;
      key: string;
    },
  ): Promise<Outcome> {
    const { reference, facts, store, secret, signal, now, key } = context;
    let values: ReadValues;
    try {
      values = await this.readStore(key, plan, signal, (limited) =>
        this.deps.values.read(store.object!, reference, limited),
      );
    } catch (error) {
      if (error instanceof ReadSuperseded) throw error;
      return failureOutcome(error);
    }
    const writtenAt = new Date(now).toISOString();
    const fingerprint = this.deps.fingerprint(values.data, facts.namespace);
    const desired = buildSecret({
      namespace: facts.namespace,
      name: facts.targetName,
      referenceName: facts.name,
      type: reference.spec.target?.type ?? 'Opaque',
      labels: reference.spec.target?.labels ?? {},
      annotations: reference.spec.target?.annotations ?? {},
      data: values.data,
      contentHash: facts.contentHash,
      fingerprint,
      store: storeIdentity(reference),
      remoteVersions: values.remoteVersions,
      writtenAt,
      expiresAt: plan.expiresAt,
      ownerReferences: plan.ownerReferences,
    });
    // The values were needed only to build this object: once the write returns (or fails) their bytes are
    // zeroed, so no copy the operator owns outlives the write.
    const owned = values.data;
    values.data = {};
    let confirmed: SecretWrite;
    try {
      if (secret) desired.metadata!.resourceVersion = secret.metadata?.resourceVersion;
      confirmed = secret
        ? await this.deps.writer.replaceSecret(desired)
        : await this.deps.writer.createSecret(desired);
    } finally {
      zeroValues(owned);
    }
    if (confirmed.result === 'created') {
      this.createdSecrets.set(key, { name: facts.targetName, uid: confirmed.uid });
    }
    return outcomeOfWrite(confirmed, { remoteVersions: values.remoteVersions, fingerprint, writtenAt });
  }

  /**
   * Runs one store read of this reconcile where interruptIfRevoking can cut it short: on a change of state,
   * and at the first consuming Job's expiry, which no event announces.
   */
  private async readStore<T>(
    key: string,
    plan: Plan,
    signal: AbortSignal,
    read: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const superseded = new AbortController();
    this.reads.set(key, { consuming: new Set(plan.consuming.map((job) => job.uid)), superseded });
    const firstExpiry = Math.min(...plan.consuming.map((job) => Date.parse(job.expiresAt)));
    const expiry = Number.isFinite(firstExpiry)
      ? this.deps.clock.setTimer(
          () => this.interruptIfRevoking(key),
          firstExpiry - this.deps.clock.now() + expiryGraceMs,
        )
      : undefined;
    try {
      return await read(AbortSignal.any([signal, superseded.signal]));
    } catch (error) {
      if (superseded.signal.aborted && !signal.aborted) throw superseded.signal.reason;
      throw error;
    } finally {
      expiry?.cancel();
      this.reads.delete(key);
    }
  }

  /** The plan the caches call for now, as a reconcile would start it (without its live reads). */
  private cachedPlan(key: string): Plan | undefined {
    const [namespace, name] = splitKey(key);
    const reference = this.deps.view.reference(namespace, name);
    if (!reference) return undefined;
    const store = this.lookUpStore(reference);
    const deleting = reference.metadata.deletionTimestamp !== undefined;
    const facts = referenceFacts(reference, store.object, deleting, this.previousStatus(key, reference));
    return planReference({
      now: this.deps.clock.now(),
      reference: facts,
      store: store.state,
      jobs: this.deps.view.jobsReferencing(namespace, facts.targetName),
      secret: this.deps.view.managedSecret(namespace, facts.targetName),
      lastRefreshCheckAt: this.lastRefreshCheck.get(key),
      pods: this.deps.view.podsReferencing(namespace, facts.targetName),
      rivals: this.rivalsOf(reference, facts.targetName),
    });
  }

  private async recordEvidence(
    reference: SecretReference,
    facts: ReferenceFacts,
    store: { object?: AnySecretStore; state: StoreState },
    plan: Plan,
    outcome: Outcome,
    secret: V1Secret | undefined,
    now: number,
    previous: ReferenceStatus,
  ): Promise<void> {
    const key = `${facts.namespace}/${facts.name}`;
    const managed = secret && isManagedFor(secret, facts.namespace, facts.name) ? secret : undefined;
    const records: AuditRecord[] = auditRecordsFor(plan, outcome, {
      now,
      reference: { namespace: facts.namespace, name: facts.name, uid: reference.metadata.uid },
      store: {
        kind: reference.spec.storeRef.kind ?? 'SecretStore',
        name: reference.spec.storeRef.name,
        provider: store.object && selectProvider(store.object.spec)?.name,
      },
      targetName: facts.targetName,
      deleting: facts.deleting,
      previous,
      currentFingerprint: managed ? managedAnnotations(managed).fingerprint : undefined,
    });
    for (const record of records) await this.deps.audit.write(record);

    if (facts.deleting) return;
    const status = nextStatus(plan, outcome, {
      now,
      generation: reference.metadata.generation ?? 0,
      targetName: facts.targetName,
      store: store.state,
      previous,
    });
    if (statusDiffers(previous, status)) {
      const resourceVersion = await this.deps.writer.writeStatus(reference, status);
      if (resourceVersion) this.writtenStatus.set(key, { resourceVersion, status });
    }
    this.createdSecrets.delete(key);
  }

  /** The other references of the namespace that name the same target Secret. */
  private rivalsOf(reference: SecretReference, targetName: string) {
    return this.deps.view
      .referencesIn(reference.metadata.namespace!)
      .filter((other) => other.metadata.uid !== reference.metadata.uid && targetNameOf(other) === targetName)
      .map((other) => ({
        name: other.metadata.name!,
        uid: other.metadata.uid ?? '',
        createdAt: creationTimeOf(other),
      }));
  }

  private previousStatus(key: string, reference: SecretReference): ReferenceStatus {
    const status = this.recordedStatus(key, reference);
    const created = this.createdSecrets.get(key);
    return created ? { ...status, managedSecret: created } : status;
  }

  private recordedStatus(key: string, reference: SecretReference): ReferenceStatus {
    const written = this.writtenStatus.get(key);
    const cached = (reference.status ?? {}) as ReferenceStatus;
    if (!written) return cached;
    // resourceVersions are opaque; equality is the only safe comparison. Once the cache holds our write, or
    // anything later (the generation moved on), the cache is the truth again.
    if (
      reference.metadata.resourceVersion === written.resourceVersion ||
      statusDiffers(written.status, cached) === false
    ) {
      this.writtenStatus.delete(key);
      return cached;
    }
    return written.status;
  }

  /** Backoff in seconds while a Job waits (not the refresh pace), never slower than the refresh itself. */
  private waitingRetryMs(key: string, facts: ReferenceFacts): number {
    const failures = (this.waitingFailures.get(key) ?? 0) + 1;
    this.waitingFailures.set(key, failures);
    const maxMs = Math.min(waitingRetryMaxMs, facts.refreshIntervalMs);
    return backoffDelay(failures, { baseMs: 1_000, maxMs, factor: 2, jitter: 0.5 });
  }
}

/**
 * Whether this reconcile compared the remote versions with the Secret and left it current: only then does the
 * next refresh wait a refreshInterval. A check whose read or write failed (throttled, gone, refused) is not
 * recorded, so the retry (with the queue's backoff) checks again instead of keeping a stale value.
 */
function checkedRemote(plan: Plan, outcome: Outcome): boolean {
  const checks = plan.action === 'create' || plan.action === 'rewrite' || plan.action === 'refresh';
  return checks && (outcome.kind === 'written' || outcome.kind === 'current');
}

function writesSecret(plan: Plan): boolean {
  return ['create', 'rewrite', 'refresh', 'update-owners'].includes(plan.action);
}

/** Whether the claim or the recorded first starts must change before the Secret is written. */
function recordDiffers(previous: ReferenceStatus, plan: Plan): boolean {
  const starts = (list: ReferenceStatus['jobStarts']) =>
    JSON.stringify((list ?? []).map(({ uid, firstStartTime }) => [uid, firstStartTime]));
  return (
    previous.managedSecret?.name !== plan.managedSecret?.name ||
    previous.managedSecret?.uid !== plan.managedSecret?.uid ||
    starts(previous.jobStarts) !== starts(plan.jobStarts)
  );
}

function sameVersions(current: Record<string, string>, written: Record<string, string>): boolean {
  const keys = Object.keys(current);
  return keys.length === Object.keys(written).length && keys.every((key) => current[key] === written[key]);
}

export function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
