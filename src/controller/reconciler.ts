// One reconcile of one SecretReference, given only its key: read current state from the caches, decide with
// the pure plan, carry it out with thin effects, then derive status and audit records. Level-triggered and
// idempotent: a missed or repeated event does no harm.
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AnySecretStore, ManagedSecretRecord, SecretReference } from '../api/types.ts';
import { type AuditRecord, type AuditSink, auditRecordId } from '../audit/types.ts';
import { selectProvider } from '../providers/registry.ts';
import { backoffDelay } from '../runtime/backoff.ts';
import type { Clock } from '../runtime/clock.ts';
import { RetryableError } from '../runtime/retryable-error.ts';
import {
  type AuditContext,
  auditRecordsFor,
  grantRecords,
  grantsOf,
  type HeldSecret,
} from './audit-records.ts';
import { secretNamesReferencedBy } from './job-index.ts';
import {
  auditAnnotation,
  buildSecret,
  isManagedFor,
  managedAnnotations,
  writeAuditOf,
  zeroValues,
} from './managed-secret.ts';
import { failureOutcome, type Grant, type Outcome, outcomeOfWrite, type SecretWrite } from './outcome.ts';
import { type Plan, type PlanInput, planReference, type ReferenceFacts, type StoreState } from './plan.ts';
import type { PodUse } from './pod-index.ts';
import type { ClusterView, ClusterWriter, ReadValues, ValueSource } from './ports.ts';
import { finalizer } from './ports.ts';
import { creationTimeOf, referenceFacts, storeIdentity, targetNameOf } from './reference-facts.ts';
import { judgeRemoteAccess, type RemoteScope, remoteScopeFor } from './remote-access.ts';
import { nextStatus, type ReferenceStatus, secretPresent, statusDiffers } from './status.ts';
import { judgeStoreAccess, judgeStoreSpec } from './store-access.ts';
import { guardedNames, type TrackedSecret } from './tracked-secrets.ts';

/** The store a reference names, whether it may be used, and which remotes its namespace may reach through it. */
interface StoreLookup {
  object?: AnySecretStore;
  state: StoreState;
  scope: RemoteScope;
}

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

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  /**
   * When each reference's remote versions were last compared and found current or written; set only after that
   * succeeded, so a failed check or rewrite is tried again. Memory only: a restart just checks once more.
   */
  private readonly lastRefreshCheck = new Map<string, number>();
  /**
   * The status this process last wrote, until the cache shows that write. Ends of access and refusals are
   * judged against the previous status, so reading a stale one from the cache would record them twice.
   */
  private readonly writtenStatus = new Map<string, { resourceVersion: string; status: ReferenceStatus }>();
  /**
   * The Secret this process created, until status records its uid: if that status write fails, the retry
   * still knows the Secret is its own instead of reporting it as a conflict.
   */
  private readonly createdSecrets = new Map<string, ManagedSecretRecord>();
  /** Consecutive failures of a reference while a Job waits for its Secret, to space the retries. */
  private readonly waitingFailures = new Map<string, number>();
  /**
   * The last few writes (Secret uid and time) whose grants this process recorded, per reference: a cache that
   * still shows the write before is not mistaken for one left unrecorded. A held Secret whose write is not
   * here has its grants recorded from its annotation (after a restart, or a failed audit write); the record
   * ids make that a no-op where they were recorded already.
   */
  private readonly recordedWrites = new Map<string, string[]>();

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    const reference = this.deps.view.reference(namespace, name);
    if (!reference) {
      this.lastRefreshCheck.delete(key);
      this.writtenStatus.delete(key);
      this.createdSecrets.delete(key);
      this.waitingFailures.delete(key);
      this.recordedWrites.delete(key);
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
    const labelledSecrets = this.deps.view.managedSecretsOf(namespace, name);
    const neighbours = this.neighboursOf(reference);
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
      labelledSecrets,
      neighbours,
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
    let basis = this.writtenStatus.get(key)?.resourceVersion ?? reference.metadata.resourceVersion ?? '';
    if (!deleting && writesSecret(plan) && recordDiffers(previous, plan)) {
      // The claim (before a create) and each Job's first start are recorded before the Secret is written, so
      // no crash can leave a Secret whose ownership or entitlement the cluster does not remember.
      previous = {
        ...previous,
        managedSecret: plan.managedSecret,
        jobStarts: plan.jobStarts,
        // A claim that moves to a new target drops the old Secret's uid: it is kept here, in the same write.
        retiredSecrets: plan.retire.length > 0 ? plan.retire : undefined,
      };
      const resourceVersion = await this.deps.writer.writeStatus(reference, previous);
      if (!resourceVersion) return {};
      this.writtenStatus.set(key, { resourceVersion, status: previous });
      basis = resourceVersion;
    }
    // Secrets under an earlier target name go before the target is written; a delete that cannot be confirmed
    // throws, and the retry (status still lists them) tries again.
    const stillRetired = await this.retireSecrets(namespace, plan.retire);
    const held = heldSecret(secret, facts);
    const audit: AuditContext = {
      now,
      reference: { namespace: facts.namespace, name: facts.name, uid: reference.metadata.uid },
      store: {
        kind: reference.spec.storeRef.kind ?? 'SecretStore',
        name: reference.spec.storeRef.name,
        provider: store.object && selectProvider(store.object.spec)?.name,
      },
      targetName: facts.targetName,
      deleting,
      previous,
      basis,
      held,
      storeRefusal:
        store.state.state === 'not-allowed' && store.state.reason
          ? { reason: store.state.reason, message: store.state.message }
          : undefined,
    };
    // A write this process has not seen recorded (it stopped, or the audit failed, after the write) is
    // recorded now, before anything replaces the Secret and the grants it carries.
    if (held && secret) await this.recordHeldWrite(key, secret, held, audit);
    const outcome = await this.carryOut(plan, { reference, facts, store, secret, key, signal });
    log.debug({ outcome: outcome.kind }, 'reconciled');
    if (checkedRemote(plan, outcome)) this.lastRefreshCheck.set(key, now);

    await this.recordEvidence(reference, facts, store, plan, outcome, audit, stillRetired);
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
      const secretUid = orphan.metadata?.uid;
      for (const owner of owners.length > 0 ? owners : [undefined]) {
        await this.deps.audit.write({
          // No reference, no recorded state: the deleted Secret and the Job identify the revocation.
          id: auditRecordId(['orphan', namespace, referenceName, secretUid, owner?.uid]),
          time: new Date(this.deps.clock.now()).toISOString(),
          action: 'Revoked',
          reference: { namespace, name: referenceName },
          remotes: Object.entries(remoteVersions).map(([name, version]) => ({
            name,
            version,
          })),
          targetSecret: { namespace, name: orphan.metadata!.name!, ...(secretUid ? { uid: secretUid } : {}) },
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

  private lookUpStore(reference: SecretReference): StoreLookup {
    const namespace = reference.metadata.namespace!;
    const kind = reference.spec.storeRef.kind ?? 'SecretStore';
    const object = this.deps.view.store(kind, namespace, reference.spec.storeRef.name);
    const labels = this.deps.view.namespaceLabels(namespace);
    const access = judgeStoreAccess(namespace, reference.spec.storeRef, object, labels);
    const scope = remoteScopeFor(kind, object?.spec, namespace, labels);
    if (access.state !== 'ready' || !object) return { object, state: access, scope };
    const spec = judgeStoreSpec(reference.spec.storeRef, object);
    // Which remotes the reference names is judged before any store call, as which store it names is.
    const state = spec.state === 'ready' ? judgeRemoteAccess(reference, scope) : spec;
    return { object, state, scope };
  }

  private async carryOut(
    plan: Plan,
    context: {
      reference: SecretReference;
      facts: ReferenceFacts;
      store: StoreLookup;
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
      case 'delete': {
        // Already gone (garbage collection, or a cache that lags our own delete): nothing deleted now.
        const deleted = await this.deps.writer.deleteSecret(secret!);
        return deleted.result === 'deleted'
          ? outcomeOfWrite(deleted, { time: new Date(now).toISOString(), grants: [] })
          : { kind: 'idle' };
      }
      case 'update-owners':
        return this.setOwners(plan, secret!, now);
      case 'refresh': {
        let versions: Record<string, string>;
        try {
          versions = await this.deps.values.versions(store.object!, reference, store.scope, signal);
        } catch (error) {
          return failureOutcome(error);
        }
        if (sameVersions(versions, managedAnnotations(secret!).remoteVersions)) {
          return plan.ownersChanged ? this.setOwners(plan, secret!, now) : { kind: 'current' };
        }
        return this.write(plan, { reference, facts, store, secret, signal, now, key });
      }
      case 'create':
      case 'rewrite':
        return this.write(plan, { reference, facts, store, secret, signal, now, key });
    }
  }

  /** Brings the Secret's owners in line; the Jobs it adds are granted access, carried with the patch. */
  private async setOwners(plan: Plan, secret: V1Secret, now: number): Promise<Outcome> {
    const audit = { time: new Date(now).toISOString(), grants: grantsOf(plan, 'owners', ownerUids(secret)) };
    const written = await this.deps.writer.setSecretOwners(
      secret,
      {
        ownerReferences: plan.ownerReferences,
        // Only a patch that grants replaces the grants of the write before it.
        annotations: audit.grants.length > 0 ? auditAnnotation(audit) : {},
      },
      plan.expiresAt,
    );
    return outcomeOfWrite(written, audit);
  }

  private async write(
    plan: Plan,
    context: {
      reference: SecretReference;
      facts: ReferenceFacts;
      store: StoreLookup;
      secret?: V1Secret;
      signal: AbortSignal;
      now: number;
      key: string;
    },
  ): Promise<Outcome> {
    const { reference, facts, store, secret, signal, now, key } = context;
    let values: ReadValues;
    try {
      values = await this.deps.values.read(store.object!, reference, store.scope, signal);
    } catch (error) {
      return failureOutcome(error);
    }
    const writtenAt = new Date(now).toISOString();
    const fingerprint = this.deps.fingerprint(values.data, facts.namespace);
    const grants: Grant[] = grantsOf(plan, secret ? 'replace' : 'create', secret ? ownerUids(secret) : []);
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
      audit: { time: writtenAt, grants },
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
      this.createdSecrets.set(key, { name: facts.targetName, uid: confirmed.secret.uid });
    }
    return outcomeOfWrite(
      confirmed,
      { time: writtenAt, grants },
      { remoteVersions: values.remoteVersions, fingerprint, writtenAt },
    );
  }

  /** Records the grants the held Secret's last write carried, unless this process recorded them already. */
  private async recordHeldWrite(
    key: string,
    secret: V1Secret,
    held: HeldSecret,
    context: AuditContext,
  ): Promise<void> {
    const write = writeAuditOf(secret);
    if (!write || this.recordedWrites.get(key)?.includes(`${held.uid}/${write.time}`)) return;
    await writeAll(this.deps.audit, grantRecords(held, write, held, context));
    this.rememberRecorded(key, `${held.uid}/${write.time}`);
  }

  private rememberRecorded(key: string, write: string): void {
    this.recordedWrites.set(key, [...(this.recordedWrites.get(key) ?? []), write].slice(-4));
  }

  /**
   * Audit records first, then status. A record that cannot be made fails the reconcile before status moves
   * on, so the retry derives it again (from status, or from the Secret's annotation) under the same id.
   */
  private async recordEvidence(
    reference: SecretReference,
    facts: ReferenceFacts,
    store: StoreLookup,
    plan: Plan,
    outcome: Outcome,
    audit: AuditContext,
    stillRetired: TrackedSecret[],
  ): Promise<void> {
    const key = `${facts.namespace}/${facts.name}`;
    const { now, previous } = audit;
    const records: AuditRecord[] = auditRecordsFor(plan, outcome, audit);
    await writeAll(this.deps.audit, records);
    const effect = outcome.kind === 'written' || outcome.kind === 'current' ? outcome.effect : undefined;
    if (effect && effect.grants.length > 0) this.rememberRecorded(key, `${effect.secret.uid}/${effect.time}`);

    if (facts.deleting) return;
    const status = nextStatus(plan, outcome, {
      now,
      generation: reference.metadata.generation ?? 0,
      targetName: facts.targetName,
      store: store.state,
      previous,
      stillRetired,
      held: audit.held,
    });
    if (statusDiffers(previous, status)) {
      const resourceVersion = await this.deps.writer.writeStatus(reference, status);
      if (resourceVersion) this.writtenStatus.set(key, { resourceVersion, status });
    }
    this.createdSecrets.delete(key);
  }

  /**
   * Deletes each retired Secret by uid and returns those not confirmed gone (none: a failure throws). Gone
   * already (404), or the name now held by another Secret (uid precondition failed), both mean this one is gone.
   */
  private async retireSecrets(namespace: string, retire: TrackedSecret[]): Promise<TrackedSecret[]> {
    for (const { name, uid } of retire) {
      try {
        const { result } = await this.deps.writer.deleteSecret({ metadata: { namespace, name, uid } });
        if (result !== 'deleted' && result !== 'gone') {
          throw new RetryableError(
            `Secret ${name} (uid ${uid}) under an earlier target name was not deleted`,
          );
        }
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        const current = await this.deps.writer.readSecret(namespace, name);
        if (current?.metadata?.uid === uid) throw error;
      }
    }
    return [];
  }

  /** The other references of the namespace, with the names the pod admission policy guards for each. */
  private neighboursOf(reference: SecretReference) {
    return this.deps.view
      .referencesIn(reference.metadata.namespace!)
      .filter((other) => other.metadata.uid !== reference.metadata.uid)
      .map((other) => ({
        name: other.metadata.name!,
        guardedNames: guardedNames((other.status ?? {}) as ReferenceStatus),
        consumers: other.spec.consumers,
      }));
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

/**
 * The Secret this reference holds: managed for it and the very one (by uid) status recorded. Only its
 * annotations are believed when records are derived from it.
 */
function heldSecret(secret: V1Secret | undefined, facts: ReferenceFacts): HeldSecret | undefined {
  const recorded = facts.managedSecret;
  const uid = secret?.metadata?.uid;
  if (!secret || !uid || !isManagedFor(secret, facts.namespace, facts.name)) return undefined;
  if (recorded?.uid !== uid || recorded.name !== secret.metadata?.name) return undefined;
  const { remoteVersions, fingerprint, writtenAt } = managedAnnotations(secret);
  const owners = (secret.metadata?.ownerReferences ?? []).map(({ name, uid }) => ({ name, uid }));
  return { name: recorded.name, uid, remoteVersions, fingerprint, writtenAt, owners };
}

/**
 * Hands every record to the sink at once, in order (the file keeps that order and commits them together),
 * and resolves when all are recorded; any failure fails the reconcile, whose retry derives the same records
 * under the same ids, so those recorded already are not recorded twice.
 */
async function writeAll(sink: AuditSink, records: AuditRecord[]): Promise<void> {
  const results = await Promise.allSettled(records.map((record) => sink.write(record)));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

function ownerUids(secret: V1Secret): string[] {
  return (secret.metadata?.ownerReferences ?? []).map((owner) => owner.uid);
}

function writesSecret(plan: Plan): boolean {
  return ['create', 'rewrite', 'refresh', 'update-owners'].includes(plan.action);
}

/** Whether the claim, the retired Secrets or the recorded first starts must change before the Secret is written. */
function recordDiffers(previous: ReferenceStatus, plan: Plan): boolean {
  const starts = (list: ReferenceStatus['jobStarts']) =>
    JSON.stringify((list ?? []).map(({ uid, firstStartTime }) => [uid, firstStartTime]));
  return (
    previous.managedSecret?.name !== plan.managedSecret?.name ||
    previous.managedSecret?.uid !== plan.managedSecret?.uid ||
    starts(previous.jobStarts) !== starts(plan.jobStarts) ||
    JSON.stringify((previous.retiredSecrets ?? []).map(({ uid }) => uid)) !==
      JSON.stringify(plan.retire.map(({ uid }) => uid))
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
