// One reconcile of one SecretReference, given only its key: read current state from the caches, decide with
// the pure plan, carry it out with thin effects, then derive status and audit records. Level-triggered and
// idempotent: a missed or repeated event does no harm.
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type {
  AnySecretStore,
  Condition,
  DynamicCredential,
  ManagedSecretRecord,
  SecretReference,
} from '../api/types.ts';
import { AuditUnavailableError } from '../audit/leader-trail.ts';
import { type AuditRecord, type AuditSink, auditRecordId } from '../audit/types.ts';
import { selectProvider } from '../providers/registry.ts';
import type { LeaseHandle } from '../providers/types.ts';
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
import {
  dynamicKeys,
  dynamicProvider,
  type HeldLease,
  heldLeaseOf,
  incrementSecondsOf,
  keepsLease,
  leaseAnnotationOf,
  leaseRenewMarginMs,
  leaseRequestSource,
  leaseSeconds,
  leaseSource,
  leaseVersion,
  renewalIncrementMs,
} from './dynamic-lease.ts';
import { secretNamesReferencedBy } from './job-index.ts';
import { issueEffects, type LeaseEffect, leaseRecords } from './lease-records.ts';
import { renewalCondition, withRenewalCondition } from './lease-renewal.ts';
import { type LeaseHeld, type LeaseHolding, LeaseRenewer, leasesAfter } from './lease-renewer.ts';
import {
  auditAnnotation,
  buildSecret,
  claimMarkOf,
  isManagedFor,
  managedAnnotations,
  type WriteAudit,
  writeAuditOf,
  zeroValues,
} from './managed-secret.ts';
import {
  auditUnavailableOutcome,
  failureOutcome,
  type Grant,
  type Outcome,
  outcomeOfWrite,
  type SecretWrite,
} from './outcome.ts';
import { carryOutSteps, type StepOutcome } from './per-job-effects.ts';
import { JobLeaseMemory } from './per-job-lease-memory.ts';
import {
  checksWithLeasesDue,
  entitledJobLeases,
  issuedLease,
  nextJobLeaseVisitMs,
  revokeJobLease,
  trustedJobLease,
} from './per-job-leases.ts';
import {
  type JobSecretStep,
  nextJobCheckMs,
  type PerJobPlan,
  perJobSecretJob,
  perJobSecretName,
  planPerJob,
  unseenJobSecrets,
} from './per-job-plan.ts';
import { perJobAuditRecords, perJobStatus } from './per-job-records.ts';
import {
  checkedWhenWritten,
  expiryGraceMs,
  jitteredRefreshMs,
  type Plan,
  type PlanInput,
  planReference,
  type ReferenceFacts,
  type StoreState,
} from './plan.ts';
import { type PodUse, secretNamesUsedByJobs } from './pod-index.ts';
import type { ClusterView, ClusterWriter, ReadValues, ValueSource } from './ports.ts';
import { finalizer } from './ports.ts';
import { creationTimeOf, referenceFacts, storeIdentity } from './reference-facts.ts';
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

/**
 * Retries of a reference whose Job waits for a Secret it does not have: 1 s doubling to 30 s (never longer than
 * its refreshInterval), half of each delay random.
 */
export const waitingRetryBackoff = { baseMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.5 } as const;

/** Jobs read live per reconcile to confirm pods whose controller the Job cache has not seen yet. */
const maxUnseenJobReads = 5;

export interface ReconcilerDeps {
  view: ClusterView;
  writer: ClusterWriter;
  values: ValueSource;
  audit: AuditSink;
  fingerprint: (data: Record<string, Buffer>, namespace: string) => string;
  /**
   * Whether access may be granted now: false while the audit file cannot take records. Asked before every
   * write that grants (a create, a rewrite, a Job added); never before a delete. Always true when absent.
   */
  grantsAudited?: () => Promise<boolean>;
  /** This replica's identity: carried by its writes and named by its records (`AuditRecord.operator`). */
  identity?: string;
  /** Keyed mark of a write (`secretlink.dev/claim`), to know an unconfirmed create as ours after a restart. */
  claimMark?: (parts: readonly string[]) => string;
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
   * succeeded, so a failed check or rewrite is tried again. Memory only: a restarted process starts from the
   * held Secret's last full write (`checkedWhenWritten`).
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
  /** Per-Job mode: the leases each reference's per-Job Secrets hold, to revoke one whose Secret vanished. */
  private readonly jobLeases = new JobLeaseMemory();
  /** Leases held in increments (spec.dynamic.renewalIncrement): renewed while entitled, remembered per reference. */
  private readonly renewer: LeaseRenewer;
  /** Per-Job mode: when each per-Job Secret's remote versions were last found current, by Secret uid. */
  private readonly perJobChecks = new Map<string, Record<string, number>>();
  /** Consecutive failures of a reference while a Job waits for its Secret, to space the retries. */
  private readonly waitingFailures = new Map<string, number>();
  /**
   * The last few writes (Secret uid and time) whose grants this process recorded, per reference: a cache that
   * still shows the write before is not mistaken for one left unrecorded. A held Secret whose write is not
   * here has its grants recorded from its annotation (after a restart, or a failed audit write); the record
   * ids make that a no-op where they were recorded already.
   */
  private readonly recordedWrites = new Map<string, string[]>();
  /** Store reads in flight, by reference key. */
  private readonly reads = new Map<string, InFlightRead>();
  /**
   * Records owed for Secrets this process deleted while the audit file could not take them, whose source in the
   * cluster went with the Secret (the grants its annotation carried, an orphan's owners), per reference; made
   * first thing on the next reconcile of that reference. Ends of access need none: status keeps them owed.
   */
  private readonly owedRecords = new Map<string, AuditRecord[]>();

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
    this.renewer = new LeaseRenewer(deps.values, deps.logger);
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
    try {
      return await this.reconcileOnce(key, signal);
    } catch (error) {
      // Access was taken away as planned, only its record waits for the audit file: look again in seconds
      // rather than after the queue's growing backoff, and status waits with the records.
      if (!(error instanceof AuditUnavailableError)) throw error;
      this.deps.logger.warn({ reference: key }, 'audit records wait for the audit file; retrying');
      // Never later than a lease held in increments needs its next renewal.
      const [namespace, name] = splitKey(key);
      const reference = this.deps.view.reference(namespace, name);
      const renewalMs = reference && renewalIncrementMs(reference);
      const retryMs = this.waitingRetryMs(key, waitingRetryBackoff.maxMs);
      return { requeueAfterMs: renewalMs ? Math.min(retryMs, renewalMs / 3) : retryMs };
    }
  }

  private async reconcileOnce(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    await this.payOwedRecords(key);
    const reference = this.deps.view.reference(namespace, name);
    if (!reference) {
      this.lastRefreshCheck.delete(key);
      this.writtenStatus.delete(key);
      this.createdSecrets.delete(key);
      this.waitingFailures.delete(key);
      this.recordedWrites.delete(key);
      this.perJobChecks.delete(key);
      this.jobLeases.forget(key);
      this.renewer.retain(key, undefined);
      await this.removeOrphans(key, namespace, name);
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
    if (reference.spec.isolation === 'PerJob') {
      return this.reconcilePerJob({ key, reference, facts, store, previous, now, draw, signal });
    }
    let secret = this.deps.view.managedSecret(namespace, facts.targetName);
    if (!this.lastRefreshCheck.has(key)) {
      const checked = checkedWhenWritten(heldSecret(secret, facts)?.writtenAt, now);
      if (checked !== undefined) this.lastRefreshCheck.set(key, checked);
    }
    let unseenJobs: V1Job[] = [];
    let secretReadLive = false;
    // One snapshot of the caches per reconcile; only the live reads below add to it.
    const cachedJobs = this.deps.view.jobsReferencing(namespace, facts.targetName);
    const pods = this.deps.view.podsReferencing(namespace, facts.targetName);
    const rivals = this.rivalsOf(reference, facts.targetName);
    const labelledSecrets = this.deps.view.managedSecretsOf(namespace, name);
    let neighbours = this.neighboursOf(reference, cachedJobs);
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
    // Status records a Secret the cache does not hold: the cache may lag a write made moments ago (its watch
    // resumes late after an API server restart). Taken for gone, its Jobs' ends would be recorded without a
    // delete, and the Secret, once cached, found unrecorded: a Conflict, then a second end record.
    const lagging =
      !secret && previous.managedSecret?.name === facts.targetName && !!previous.managedSecret.uid;
    if (plan.action === 'create' || (plan.action === 'refuse' && !secret) || unclaimed || lagging) {
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
      if (unseenJobs.length > 0) {
        // The Jobs read live may refer to names the cached ones do not: the neighbours guarding those are
        // looked up now. Those guarding the cached Jobs' names stay as the snapshot above saw them.
        const seen = new Set(neighbours.map((neighbour) => neighbour.name));
        const more = this.neighboursOf(reference, unseenJobs).filter((other) => !seen.has(other.name));
        neighbours = [...neighbours, ...more];
        plan = planReference(input());
      }
    }

    // A lease held in increments is renewed while Jobs use the Secret; one that lapsed is then replaced.
    const trustedLeases = new Set((previous.remoteVersions ?? []).map(({ version }) => version));
    const incrementMs = renewalIncrementMs(reference);
    const holding = entitledHolding(plan, secret, this.trustedLease(reference, facts, secret, trustedLeases));
    await this.renewLeases(key, reference, store, holding ? [holding] : [], now, signal);
    const current = (lease: HeldLease) => this.renewer.current(key, lease, now);
    // A dynamic credential about to reach its bound while Jobs still use the Secret is replaced by a new one.
    if (leaseDue(reference, secret, plan, now, current)) plan = { ...plan, action: 'rewrite' };
    const log = this.deps.logger.child({ reference: key, action: plan.action });
    let basis = this.writtenStatus.get(key)?.resourceVersion ?? reference.metadata.resourceVersion ?? '';
    if (!deleting && secret && this.unconfirmedCreate(reference, facts, previous, secret, basis)) {
      // A create this reference made (its mark matches the status it was decided against) whose uid status
      // never recorded: the operator stopped between the two. Status records it now, as the create would have.
      const status = { ...previous, managedSecret: { name: facts.targetName, uid: secret.metadata!.uid! } };
      const resourceVersion = await this.deps.writer.writeStatus(reference, status);
      if (resourceVersion) this.writtenStatus.set(key, { resourceVersion, status });
      log.info(
        { secretUid: secret.metadata?.uid },
        'recognised a Secret this reference created before a stop',
      );
      return { requeueAfterMs: 0 };
    }
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
    if (held && secret) await this.recordHeldWrite(key, secret, held, audit, plan.action === 'delete');
    const leases: LeaseEffect[] = [];
    let outcome: Outcome;
    try {
      outcome = await this.carryOut(plan, {
        reference,
        facts,
        store,
        secret,
        key,
        signal,
        leases,
        trustedLeases,
        basis,
      });
    } catch (error) {
      if (!(error instanceof ReadSuperseded)) throw error;
      // Nothing was written and nothing is recorded: the next run, at once, revokes from the new state.
      log.debug('store read abandoned: a Job lost its access meanwhile');
      return { requeueAfterMs: 0 };
    }
    log.debug({ outcome: outcome.kind }, 'reconciled');
    if (checkedRemote(plan, outcome)) this.lastRefreshCheck.set(key, now);

    const heldNow = leasesAfter(holding ? [holding] : [], leases);
    this.renewer.retain(key, new Set(heldNow.map(({ lease }) => lease.fingerprint)));
    this.renewer.observe(key, leases);
    // Lease records have no other source: owed until the audit file takes them, like a deleted Secret's.
    await this.recordOrKeepOwed(key, leaseRecords(leases, { time: new Date(now).toISOString(), ...audit }));
    const renewal = this.renewalConditionOf(key, reference, heldNow, previous, now);
    await this.recordEvidence(reference, facts, store, plan, outcome, audit, stillRetired, renewal);
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
      // A Job waits for a Secret it does not have: the remote may appear, or the store come back, any moment,
      // so look again in seconds (1 s doubling to 30 s), never after the queue's backoff of up to 5 minutes.
      if (plan.consuming.length > 0 && !secretPresent(plan, outcome)) {
        return { requeueAfterMs: this.waitingRetryMs(key, facts.refreshIntervalMs) };
      }
      if (outcome.reason === 'AuditUnavailable') {
        return { requeueAfterMs: this.waitingRetryMs(key, facts.refreshIntervalMs) };
      }
      if (outcome.retryable) throw new RetryableError(`${outcome.reason}: ${outcome.message}`);
      // No one waits (a missing remote, a denied policy): look again at the next refresh.
      return { requeueAfterMs: plan.recheckAfterMs };
    }
    this.waitingFailures.delete(key);
    const renewalVisit = this.renewer.nextVisitMs(key, heldNow, incrementMs, now);
    const leaseVisit = nextLeaseVisit(plan, leases, secret, now, current);
    return { requeueAfterMs: earliest(leaseVisit, renewalVisit) };
  }

  /**
   * Isolation PerJob: the reference-level plan decides who consumes (no Secret is ever written under the target
   * name, and no pod waits for one), then each consuming Job gets its own Secret and every other per-Job Secret
   * of the reference goes.
   */
  private async reconcilePerJob(context: {
    key: string;
    reference: SecretReference;
    facts: ReferenceFacts;
    store: StoreLookup;
    previous: ReferenceStatus;
    now: number;
    draw: number;
    signal: AbortSignal;
  }): Promise<ReconcileResult> {
    const { key, reference, facts, store, now, signal } = context;
    let { previous } = context;
    const { namespace, name, deleting } = facts;
    const cached = this.deps.view.managedSecretsOf(namespace, name);
    const labelled = [...cached, ...(await this.laggingJobSecrets(facts, previous, cached))];
    let secret = this.deps.view.managedSecret(namespace, facts.targetName);
    let secretReadLive = false;
    const input = (): PlanInput => {
      const jobs = this.deps.view.jobsReferencing(namespace, facts.targetName);
      return {
        now,
        reference: facts,
        store: store.state,
        jobs,
        secret,
        lastRefreshCheckAt: now,
        refreshJitter: { fraction: this.deps.refreshJitter, draw: context.draw },
        rivals: this.rivalsOf(reference, facts.targetName),
        secretReadLive,
        // Per-Job Secrets are this mode's own business, not Secrets left under an earlier target name.
        labelledSecrets: labelled.filter((s) => !perJobSecretJob(s)),
        neighbours: this.neighboursOf(reference, jobs),
      };
    };
    let plan = planReference(input());
    // The target name is claimed only once a live read shows it free: only then are pods rewritten. Whether
    // status holds the claim decides, not the plan: with a consuming Job the plan proposes one at once (it
    // would create the shared Secret), and someone's Secret under that name is not in the managed-Secret cache.
    const claimed = facts.managedSecret?.name === facts.targetName;
    if (!deleting && !plan.standstill && !claimed && !secret) {
      secret = await this.deps.writer.readSecret(namespace, facts.targetName);
      secretReadLive = true;
      plan = planReference(input());
    }
    const pods: Record<string, PodUse[]> = {};
    for (const job of plan.consuming) {
      const jobSecret = perJobSecretName(facts.targetName, job.uid);
      pods[jobSecret] = this.deps.view.podsReferencing(namespace, jobSecret);
    }
    // Leases held in increments are renewed while their Job is entitled; one that lapsed is then replaced.
    const incrementMs = renewalIncrementMs(reference);
    const holdings = deleting ? [] : entitledJobLeases(this.deps, labelled, plan.consuming, facts);
    await this.renewLeases(key, reference, store, holdings, now, signal);
    const current = (lease: HeldLease) => this.renewer.current(key, lease, now);
    const perJob = planPerJob({
      now,
      reference: facts,
      plan,
      storeReady: store.state.state === 'ready',
      secrets: labelled,
      lastChecks: checksWithLeasesDue(this.perJobChecks.get(key) ?? {}, labelled, reference, now, current),
      pods,
    });
    let basis = this.writtenStatus.get(key)?.resourceVersion ?? reference.metadata.resourceVersion ?? '';
    const writes = perJob.steps.some((s) => ['create', 'rewrite', 'refresh'].includes(s.action));
    if (!deleting && writes && recordDiffers(previous, plan)) {
      // As in Shared mode: the claim and first starts are recorded before any Secret is written.
      previous = {
        ...previous,
        managedSecret: plan.managedSecret,
        jobStarts: plan.jobStarts,
        retiredSecrets: plan.retire.length > 0 ? plan.retire : undefined,
      };
      const resourceVersion = await this.deps.writer.writeStatus(reference, previous);
      if (!resourceVersion) return {};
      this.writtenStatus.set(key, { resourceVersion, status: previous });
      basis = resourceVersion;
    }
    const stillRetired = await this.retireSecrets(namespace, plan.retire);
    const audit: AuditContext = {
      now,
      reference: { namespace, name, uid: reference.metadata.uid },
      store: {
        kind: reference.spec.storeRef.kind ?? 'SecretStore',
        name: reference.spec.storeRef.name,
        provider: store.object && selectProvider(store.object.spec)?.name,
      },
      targetName: facts.targetName,
      deleting,
      previous,
      basis,
      storeRefusal:
        store.state.state === 'not-allowed' && store.state.reason
          ? { reason: store.state.reason, message: store.state.message }
          : undefined,
    };
    // A write whose grants this process has not recorded (it stopped, or the audit failed) is recorded first.
    const keep = 4 + 2 * (labelled.length + perJob.steps.length);
    for (const held of labelled.filter((s) => perJobSecretJob(s) && isManagedFor(s, namespace, name))) {
      const write = writeAuditOf(held);
      const uid = held.metadata?.uid;
      if (!write || !uid || this.recordedWrites.get(key)?.includes(`${uid}/${write.time}`)) continue;
      const content = managedAnnotations(held);
      for (const record of grantRecords({ name: held.metadata!.name!, uid }, write, content, audit)) {
        await this.deps.audit.write(record);
      }
      this.rememberRecorded(key, `${uid}/${write.time}`, keep);
    }
    // No Job is given a Secret that could not be audited (status says AuditUnavailable); deletes go on
    // whatever the audit file can take.
    const grants = new Set(['create', 'rewrite', 'refresh']);
    const audited = await this.grantsAudited();
    const steps = audited ? perJob.steps : perJob.steps.filter((step) => !grants.has(step.action));
    const carried = await carryOutSteps({ ...this.deps, currentLease: current }, steps, {
      reference,
      namespace,
      contentHash: facts.contentHash,
      store: store.object!,
      scope: store.scope,
      signal,
      now,
      ttlMs: facts.ttlMs,
      endReasons: endReasonsOf(perJob, deleting),
      lastChecks: this.perJobChecks.get(key) ?? {},
      existing: labelled,
    });
    const { checks, stepError } = carried;
    const results = audited ? carried.results : [...carried.results, ...unauditedSteps(perJob.steps)];
    this.perJobChecks.set(key, checks);
    const leases = results.flatMap((result) => result.leases ?? []);
    // A per-Job Secret that went without this operator deleting it (garbage collection, once its Job was
    // deleted) took its lease's handle with it: the lease remembered from an earlier reconcile is revoked now.
    for (const gone of this.jobLeases.vanished(key, labelled, results)) {
      const revoked = await revokeJobLease(
        this.deps,
        gone.lease,
        gone,
        endReasonOf(perJob, gone.job.uid, deleting, 'SecretDeleted'),
        { reference, namespace, store: store.object!, signal, now, ttlMs: facts.ttlMs },
      );
      this.jobLeases.markRevoked(key, gone.lease.fingerprint);
      leases.push(...revoked);
    }
    this.jobLeases.remember(
      key,
      labelled,
      results,
      (secret) => trustedJobLease(this.deps, secret, namespace),
      now,
    );
    const heldNow = leasesAfter(holdings, leases);
    this.renewer.retain(key, new Set(heldNow.map(({ lease }) => lease.fingerprint)));
    this.renewer.observe(key, leases);
    // Lease records have no other source: owed until the audit file takes them, like a deleted Secret's.
    await this.recordOrKeepOwed(key, leaseRecords(leases, { time: new Date(now).toISOString(), ...audit }));
    for (const record of perJobAuditRecords(plan, perJob, results, audit))
      await this.deps.audit.write(record);
    for (const { outcome } of results) {
      if (outcome.kind === 'written')
        this.rememberRecorded(key, `${outcome.effect.secret.uid}/${outcome.effect.time}`, keep);
    }
    if (stepError !== undefined && deleting) throw stepError;
    if (deleting) {
      // Every per-Job Secret the delete found is gone (deleted now, or already): the reference may go.
      await this.deps.writer.removeFinalizer(reference);
      return {};
    }
    const status = perJobStatus(plan, results, {
      now,
      generation: reference.metadata.generation ?? 0,
      targetName: facts.targetName,
      store: store.state,
      previous,
      stillRetired,
      // As in Shared mode: first starts seen meanwhile spare the next reconcile a status write before its writes.
      startsSincePlan: this.cachedPlan(key)?.jobStarts,
    });
    const renewal = this.renewalConditionOf(key, reference, heldNow, previous, now);
    status.conditions = withRenewalCondition(status.conditions, renewal);
    if (statusDiffers(previous, status)) {
      const resourceVersion = await this.deps.writer.writeStatus(reference, status);
      if (resourceVersion) this.writtenStatus.set(key, { resourceVersion, status });
    }
    if (stepError !== undefined) throw stepError;
    const failed = results.find((r) => r.outcome.kind === 'failed' || r.outcome.kind === 'gone')?.outcome;
    if (failed?.kind === 'gone' || (failed?.kind === 'failed' && failed.retryable)) {
      throw new RetryableError(
        failed.kind === 'gone'
          ? 'a per-Job Secret was deleted before it could be written'
          : `${failed.reason}: ${failed.message}`,
      );
    }
    if (failed) return { requeueAfterMs: this.waitingRetryMs(key, facts.refreshIntervalMs) };
    this.waitingFailures.delete(key);
    const interval = facts.refreshIntervalMs;
    return {
      requeueAfterMs: Math.min(
        plan.requeueAfterMs ?? interval,
        jitteredRefreshMs(interval, interval, { fraction: this.deps.refreshJitter, draw: context.draw }),
        // A lease that ends before its Secret (the role's max TTL is shorter) is replaced a little before.
        nextJobLeaseVisitMs(labelled, now, current) ?? interval,
        // A lease held in increments is renewed at two thirds of its increment (sooner after a failure).
        this.renewer.nextVisitMs(key, heldNow, incrementMs, now) ?? interval,
        // The earliest per-Job Secret due for its refresh check.
        nextJobCheckMs(checks, interval, now) ?? interval,
      ),
    };
  }

  /**
   * The per-Job Secrets status records (a Job it lists as consuming held one) that the cache lacks, read live.
   * As in Shared mode, a cache lagging the operator's own create would otherwise have the Secret created again
   * (a 409, and status saying the Job has none), or its Job's end recorded with no delete while it stands.
   * Only a Secret carrying this reference's labels and that Job's uid counts; its values are not kept.
   */
  private async laggingJobSecrets(
    facts: ReferenceFacts,
    previous: ReferenceStatus,
    cached: V1Secret[],
  ): Promise<V1Secret[]> {
    const { namespace, name } = facts;
    const found: V1Secret[] = [];
    for (const unseen of unseenJobSecrets(previous, cached, facts.targetName)) {
      const live = await this.deps.writer.readSecret(namespace, unseen.name);
      if (!live || !isManagedFor(live, namespace, name) || perJobSecretJob(live) !== unseen.jobUid) {
        continue;
      }
      found.push({ ...live, data: undefined, stringData: undefined });
    }
    return found;
  }

  /**
   * A managed Secret whose SecretReference no longer exists (the operator was down when it was deleted, or
   * crashed before revoking) is removed. Jobs still running lose nothing they were entitled to: without a
   * reference, nothing entitles them.
   */
  private async removeOrphans(key: string, namespace: string, referenceName: string): Promise<void> {
    for (const orphan of this.deps.view.managedSecretsOf(namespace, referenceName)) {
      // Already gone (the cache lags a delete made moments ago): nothing was revoked now, nothing to record.
      if ((await this.deps.writer.deleteSecret(orphan)).result !== 'deleted') continue;
      const owners = orphan.metadata?.ownerReferences ?? [];
      const { remoteVersions, fingerprint } = managedAnnotations(orphan);
      const secretUid = orphan.metadata?.uid;
      const records: AuditRecord[] = [];
      for (const owner of owners.length > 0 ? owners : [undefined]) {
        records.push({
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
      // The deleted Secret was the only source of these records: owed until the audit file takes them.
      await this.recordOrOwe(key, records);
    }
  }

  /** The mark a write decided against the status at `basis` carries. */
  private claimMarkFor(reference: SecretReference, facts: ReferenceFacts, basis: string): string | undefined {
    return this.deps.claimMark?.([reference.metadata.uid ?? '', facts.targetName, basis]);
  }

  /**
   * Whether `secret` is a create of this reference that status has not recorded: it has the reference's labels
   * and the target's name, status claims that name but names another uid (or none), and its mark is the one a
   * create decided against the current status carries. A copied mark does not match once status has moved on.
   */
  private unconfirmedCreate(
    reference: SecretReference,
    facts: ReferenceFacts,
    previous: ReferenceStatus,
    secret: V1Secret,
    basis: string,
  ): boolean {
    const uid = secret.metadata?.uid;
    const claimed = previous.managedSecret;
    if (!uid || secret.metadata?.name !== facts.targetName || claimed?.name !== facts.targetName)
      return false;
    if (claimed.uid === uid || !isManagedFor(secret, facts.namespace, facts.name)) return false;
    const mark = this.claimMarkFor(reference, facts, basis);
    return mark !== undefined && claimMarkOf(secret) === mark;
  }

  /** Who makes a write: carried on the Secret with its grants. */
  private writer(): Pick<WriteAudit, 'by'> {
    return this.deps.identity ? { by: this.deps.identity } : {};
  }

  /** Sends one record on, naming this replica unless it names the replica that made the write. */
  private async record(record: AuditRecord): Promise<void> {
    const identity = this.deps.identity;
    await this.deps.audit.write(record.operator || !identity ? record : { ...record, operator: identity });
  }

  /** Makes `records` in order; those not made when the audit file is unavailable are owed to `key`. */
  private async recordOrOwe(key: string, records: AuditRecord[]): Promise<void> {
    for (const [index, record] of records.entries()) {
      try {
        await this.record(record);
      } catch (error) {
        if (error instanceof AuditUnavailableError) {
          this.owedRecords.set(key, [...(this.owedRecords.get(key) ?? []), ...records.slice(index)]);
        }
        throw error;
      }
    }
  }

  /**
   * Makes `records`; while the audit file cannot take them they stay owed to `key` and the reconcile goes on
   * (a revocation or a renewal never waits for the audit file). Each is made once, by id, when it can.
   */
  private async recordOrKeepOwed(key: string, records: AuditRecord[]): Promise<void> {
    try {
      await this.recordOrOwe(key, records);
    } catch (error) {
      if (!(error instanceof AuditUnavailableError)) throw error;
      this.deps.logger.warn({ reference: key }, 'audit records owed until the audit file takes them');
    }
  }

  /** The records owed to `key`, made before anything else; a repeat of one already made is a no-op by id. */
  private async payOwedRecords(key: string): Promise<void> {
    const owed = this.owedRecords.get(key);
    if (!owed) return;
    this.owedRecords.delete(key);
    await this.recordOrKeepOwed(key, owed);
  }

  /** Whether a write that grants access may be made now (false while the audit file cannot record it). */
  private async grantsAudited(): Promise<boolean> {
    return this.deps.grantsAudited ? this.deps.grantsAudited() : true;
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
    const dynamic = reference.spec.dynamic;
    if (state.state !== 'ready' || !dynamic) return { object, state, scope };
    return { object, scope, state: judgeDynamic(dynamic, object, `${kind} ${reference.spec.storeRef.name}`) };
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
      /** Collects what Vault confirmed for dynamic credential leases, for their audit records. */
      leases: LeaseEffect[];
      /** Lease versions status recorded (only the operator writes status): the only leases it revokes. */
      trustedLeases: Set<string>;
      basis: string;
    },
  ): Promise<Outcome> {
    const { reference, facts, store, secret, key, signal, leases, trustedLeases, basis } = context;
    const held = this.trustedLease(reference, facts, secret, trustedLeases);
    const now = this.deps.clock.now();
    switch (plan.action) {
      case 'none':
      case 'conflict':
      case 'refuse':
      case 'keep':
        return { kind: 'idle' };
      case 'delete': {
        // The credential dies at the store first: deleting the Secret alone leaves it valid in running pods.
        await this.revokeLease(held, {
          store: store.object,
          secret: secret!,
          jobs: plan.ended.length > 0 ? plan.ended.map(({ job }) => job) : ownersOf(secret!),
          reason: facts.deleting ? 'ReferenceDeleted' : revocationReason(plan),
          signal,
          leases,
        });
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
          versions = await this.readStore(key, plan, signal, (limited) =>
            this.deps.values.versions(store.object!, reference, store.scope, limited),
          );
        } catch (error) {
          if (error instanceof ReadSuperseded) throw error;
          return failureOutcome(error);
        }
        const dynamic = reference.spec.dynamic;
        if (dynamic) {
          // A dynamic credential has no version at the store: the one held stands while its lease does.
          versions[leaseSource(dynamic)] =
            held && keepsLease(held, reference, now, plan.expiresAt)
              ? leaseVersion(held.fingerprint)
              : 'lease:none';
        }
        if (sameVersions(versions, managedAnnotations(secret!).remoteVersions)) {
          return plan.ownersChanged ? this.setOwners(plan, secret!, now) : { kind: 'current' };
        }
        return this.write(plan, { reference, facts, store, secret, signal, now, key, leases, held, basis });
      }
      case 'create':
      case 'rewrite':
        return this.write(plan, { reference, facts, store, secret, signal, now, key, leases, held, basis });
    }
  }

  /** Brings the Secret's owners in line; the Jobs it adds are granted access, carried with the patch. */
  private async setOwners(plan: Plan, secret: V1Secret, now: number): Promise<Outcome> {
    const audit: WriteAudit = {
      time: new Date(now).toISOString(),
      grants: grantsOf(plan, 'owners', ownerUids(secret)),
      ...this.writer(),
    };
    // Removing owners grants nothing and never waits for the audit file; adding a Job does.
    if (audit.grants.length > 0 && !(await this.grantsAudited())) return auditUnavailableOutcome;
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
      leases: LeaseEffect[];
      /** The lease the Secret holds, when status vouches for it. */
      held?: HeldLease;
      basis: string;
    },
  ): Promise<Outcome> {
    const { reference, facts, store, secret, signal, now, key, leases, held, basis } = context;
    // Checked before the store is read: nothing is read for a write that could not be audited.
    if (!(await this.grantsAudited())) return auditUnavailableOutcome;
    let values: ReadValues;
    try {
      values = await this.readStore(key, plan, signal, (limited) =>
        this.deps.values.read(store.object!, reference, store.scope, limited),
      );
    } catch (error) {
      if (error instanceof ReadSuperseded) throw error;
      return failureOutcome(error);
    }
    let lease: { held: HeldLease; issued: boolean; renewed?: boolean } | undefined;
    if (reference.spec.dynamic) {
      try {
        lease = await this.dynamicCredential(
          reference,
          facts,
          store,
          secret,
          held,
          plan,
          values,
          now,
          signal,
        );
      } catch (error) {
        zeroValues(values.data);
        return failureOutcome(error);
      }
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
      audit: { time: writtenAt, grants, ...this.writer() },
      ownAnnotations: lease ? leaseAnnotationOf(lease.held) : undefined,
      claim: this.claimMarkFor(reference, facts, basis),
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
    if (lease?.issued) {
      await this.settleIssuedLease(lease.held, confirmed, {
        renewed: lease.renewed,
        facts,
        store,
        secret,
        held,
        plan,
        signal,
        leases,
      });
    } else if (!lease && held && (confirmed.result === 'created' || confirmed.result === 'replaced')) {
      // spec.dynamic was removed: the credential the Secret held is no longer in it.
      await this.revokeLease(held, {
        store: store.object,
        secret,
        jobs: ownersOf(secret!),
        reason: 'CredentialRemoved',
        signal,
        leases,
      });
    }
    return outcomeOfWrite(
      confirmed,
      { time: writtenAt, grants, ...this.writer() },
      { remoteVersions: values.remoteVersions, fingerprint, writtenAt },
    );
  }

  /**
   * The dynamic credential a write puts in the Secret: the one the Secret holds while its lease stands (read
   * live: the cache holds no values), or a new lease bounded by the Secret's expiry and the ttl.
   */
  private async dynamicCredential(
    reference: SecretReference,
    facts: ReferenceFacts,
    store: StoreLookup,
    secret: V1Secret | undefined,
    held: HeldLease | undefined,
    plan: Plan,
    values: ReadValues,
    now: number,
    signal: AbortSignal,
  ): Promise<{ held: HeldLease; issued: boolean; renewed?: boolean }> {
    const dynamic = reference.spec.dynamic!;
    const keys = dynamicKeys(dynamic);
    const source = leaseSource(dynamic);
    if (secret && held && keepsLease(held, reference, now, plan.expiresAt)) {
      const live = await this.deps.writer.readSecret(facts.namespace, facts.targetName);
      const kept = Object.values(keys).map((key) => [key, live?.data?.[key]] as const);
      if (live?.metadata?.uid === secret.metadata?.uid && kept.every(([, value]) => value)) {
        for (const [key, value] of kept) putOwned(values.data, key, Buffer.from(value!, 'base64'));
        values.remoteVersions[source] = leaseVersion(held.fingerprint);
        return { held, issued: false };
      }
    }
    // Shared mode: the credential is the Secret's, and names the Job whose start brought the Secret (the STS
    // session name); per-Job mode passes each Job its own.
    const firstJob = [...plan.consuming].sort((a, b) => a.startTime.localeCompare(b.startTime))[0];
    const issued = await this.deps.values.issueLease(
      store.object!,
      {
        source: leaseRequestSource(dynamic),
        maxSeconds: leaseSeconds(now, plan.expiresAt, facts.ttlMs),
        incrementSeconds: incrementSecondsOf(reference),
        holder: {
          namespace: facts.namespace,
          reference: facts.name,
          ...(firstJob ? { job: { name: firstJob.name, uid: firstJob.uid } } : {}),
        },
      },
      signal,
    );
    const fingerprint = this.leaseFingerprint(issued.handle, facts.namespace);
    for (const [field, key] of Object.entries(keys)) {
      const value = issued.fields[field];
      if (value) putOwned(values.data, key, value);
    }
    values.remoteVersions[source] = leaseVersion(fingerprint);
    return {
      held: issuedLease(issued, fingerprint, source, reference),
      issued: true,
      renewed: issued.renewed,
    };
  }

  /**
   * After the write that carried a new lease: if the Secret was written, the lease it replaced is revoked and
   * the new one recorded; if not, the new one is revoked at once, so no credential lives that no Secret holds.
   */
  private async settleIssuedLease(
    lease: HeldLease,
    confirmed: SecretWrite,
    context: {
      facts: ReferenceFacts;
      store: StoreLookup;
      secret?: V1Secret;
      /** The lease the Secret held before this write, when status vouches for it. */
      held?: HeldLease;
      /** Whether the new lease was renewed to reach its bound. */
      renewed?: boolean;
      plan: Plan;
      signal: AbortSignal;
      leases: LeaseEffect[];
    },
  ): Promise<void> {
    const { store, secret, plan, signal, leases, facts } = context;
    const written = confirmed.result === 'created' || confirmed.result === 'replaced';
    if (!written) {
      await this.revokeLease(lease, {
        store: store.object,
        jobs: [],
        reason: 'WriteFailed',
        signal,
        leases: [],
      });
      return;
    }
    const jobs = plan.consuming.map(({ name, uid }) => ({ name, uid }));
    const target = { name: facts.targetName, uid: confirmed.secret.uid };
    // The issue, and the renewal Vault made at issue (to the bound, or to the increment).
    leases.push(...issueEffects(lease, context.renewed, target, jobs));
    const replaced = context.held;
    if (replaced && replaced.handle.leaseId !== lease.handle.leaseId) {
      await this.revokeLease(replaced, {
        store: store.object,
        secret,
        jobs: ownersOf(secret!),
        reason: 'CredentialReplaced',
        signal,
        leases,
      });
    }
  }

  /**
   * The lease the Secret's annotation names, believed only when status (which only the operator writes)
   * recorded its fingerprint: an annotation edited to name another lease, or another token, is not revoked.
   */
  private trustedLease(
    reference: SecretReference,
    facts: ReferenceFacts,
    secret: V1Secret | undefined,
    trusted: Set<string>,
  ): HeldLease | undefined {
    const lease = heldLeaseOf(secret);
    if (!lease || !heldSecret(secret, facts)) return undefined;
    const fingerprint = this.leaseFingerprint(lease.handle, facts.namespace);
    if (fingerprint !== lease.fingerprint || !trusted.has(leaseVersion(fingerprint))) {
      this.deps.logger.warn(
        { reference: `${facts.namespace}/${reference.metadata.name}`, secret: secret?.metadata?.name },
        'the Secret names a lease status does not vouch for; it is not revoked by the operator',
      );
      return undefined;
    }
    return this.renewer.current(`${facts.namespace}/${facts.name}`, lease, this.deps.clock.now());
  }

  /**
   * Renews the held leases that are due (only through a store this reference may use) and records each
   * renewal at once, owed if the audit file cannot take it: nothing later in the reconcile can lose it.
   */
  private async renewLeases(
    key: string,
    reference: SecretReference,
    store: StoreLookup,
    holdings: LeaseHolding[],
    now: number,
    signal: AbortSignal,
  ): Promise<void> {
    const renewals = await this.renewer.renewDue(key, holdings, {
      store: store.state.state === 'ready' ? store.object : undefined,
      incrementMs: renewalIncrementMs(reference),
      now,
      signal,
    });
    if (renewals.length === 0) return;
    const context = {
      time: new Date(now).toISOString(),
      reference: {
        namespace: reference.metadata.namespace!,
        name: reference.metadata.name!,
        uid: reference.metadata.uid,
      },
      store: {
        kind: reference.spec.storeRef.kind ?? 'SecretStore',
        name: reference.spec.storeRef.name,
        provider: store.object && selectProvider(store.object.spec)?.name,
      },
    };
    await this.recordOrKeepOwed(key, leaseRecords(renewals, context));
  }

  /**
   * The CredentialsRenewed condition while the reference holds leases in increments: False while a renewal of
   * one still held is retried. Absent otherwise.
   */
  private renewalConditionOf(
    key: string,
    reference: SecretReference,
    held: LeaseHeld[],
    previous: ReferenceStatus,
    now: number,
  ): Condition | undefined {
    const increment = reference.spec.dynamic?.database ? reference.spec.dynamic.renewalIncrement : undefined;
    if (!increment) return undefined;
    const context = { now, generation: reference.metadata.generation ?? 0 };
    return renewalCondition(this.renewer.failing(key, held), increment, previous.conditions, context);
  }

  /** Keyed HMAC over the whole handle, so neither the lease id nor the token accessor can be swapped. */
  private leaseFingerprint(handle: LeaseHandle, namespace: string): string {
    return this.deps.fingerprint(
      { lease: Buffer.from(handle.leaseId), token: Buffer.from(handle.tokenAccessor) },
      namespace,
    );
  }

  /**
   * Revokes a lease at the store. A failure does not keep the Secret (access through Kubernetes still ends);
   * the credential then ends at its lease's bound, which Vault enforces without the operator.
   */
  private async revokeLease(
    lease: HeldLease | undefined,
    context: {
      store?: AnySecretStore;
      secret?: V1Secret;
      jobs: { name: string; uid: string }[];
      reason: string;
      signal: AbortSignal;
      leases: LeaseEffect[];
    },
  ): Promise<void> {
    if (!lease) return;
    const secretName = context.secret?.metadata?.name ?? '';
    if (!context.store) {
      this.deps.logger.warn(
        { secret: secretName, lease: lease.fingerprint },
        'the store is gone, so the dynamic credential cannot be revoked; it ends at its lease bound',
      );
      return;
    }
    try {
      await this.deps.values.revokeLease(context.store, lease.handle, context.signal);
    } catch (error) {
      this.deps.logger.warn(
        { secret: secretName, lease: lease.fingerprint, reason: (error as { reason?: string }).reason },
        'revoking the dynamic credential failed; it ends at its lease bound',
      );
      return;
    }
    context.leases.push({
      kind: 'revoked',
      fingerprint: lease.fingerprint,
      source: lease.source,
      secret: { name: secretName, uid: context.secret?.metadata?.uid },
      jobs: context.jobs,
      reason: context.reason,
    });
  }

  /** Records the grants the held Secret's last write carried, unless this process recorded them already. */
  private async recordHeldWrite(
    key: string,
    secret: V1Secret,
    held: HeldSecret,
    context: AuditContext,
    deleting: boolean,
  ): Promise<void> {
    const write = writeAuditOf(secret);
    if (!write || this.recordedWrites.get(key)?.includes(`${held.uid}/${write.time}`)) return;
    const records = grantRecords(held, write, held, context);
    this.rememberRecorded(key, `${held.uid}/${write.time}`);
    const owedBefore = this.owedRecords.get(key)?.length ?? 0;
    try {
      await this.recordOrOwe(key, records);
    } catch (error) {
      // The delete does not wait for the record of the grant it ends: it is owed (in memory; the Secret that
      // carried it is about to go). Anything else waits, so the grant is recorded before it is replaced.
      if (deleting && error instanceof AuditUnavailableError) return;
      this.forgetRecorded(key, `${held.uid}/${write.time}`);
      // Only these grants stop being owed (the Secret still carries them); records owed before stay owed.
      const stillOwed = this.owedRecords.get(key)?.slice(0, owedBefore) ?? [];
      if (stillOwed.length > 0) this.owedRecords.set(key, stillOwed);
      else this.owedRecords.delete(key);
      throw error;
    }
  }

  private forgetRecorded(key: string, write: string): void {
    this.recordedWrites.set(
      key,
      (this.recordedWrites.get(key) ?? []).filter((known) => known !== write),
    );
  }

  /** `keep`: how many writes to remember; PerJob holds one Secret per Job, so one write each at least. */
  private rememberRecorded(key: string, write: string, keep = 4): void {
    this.recordedWrites.set(key, [...(this.recordedWrites.get(key) ?? []), write].slice(-keep));
  }

  /**
   * Audit records first, then status. A record that cannot be made fails the reconcile before status moves
   * on, so the retry derives it again (from status, or from the Secret's annotation) under the same id.
   */

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
    const jobs = this.deps.view.jobsReferencing(namespace, facts.targetName);
    return planReference({
      now: this.deps.clock.now(),
      reference: facts,
      store: store.state,
      jobs,
      secret: this.deps.view.managedSecret(namespace, facts.targetName),
      lastRefreshCheckAt: this.lastRefreshCheck.get(key),
      pods: this.deps.view.podsReferencing(namespace, facts.targetName),
      rivals: this.rivalsOf(reference, facts.targetName),
      labelledSecrets: this.deps.view.managedSecretsOf(namespace, name),
      neighbours: this.neighboursOf(reference, jobs),
    });
  }

  private async recordEvidence(
    reference: SecretReference,
    facts: ReferenceFacts,
    store: StoreLookup,
    plan: Plan,
    outcome: Outcome,
    audit: AuditContext,
    stillRetired: TrackedSecret[],
    renewal?: Condition,
  ): Promise<void> {
    const key = `${facts.namespace}/${facts.name}`;
    const { now, previous } = audit;
    const records: AuditRecord[] = auditRecordsFor(plan, outcome, audit);
    for (const record of records) await this.record(record);
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
      // Jobs that started while this reconcile wrote: their first starts go with this status write, so the
      // reconcile their start queued writes their Secret without a status write before it.
      startsSincePlan: this.cachedPlan(key)?.jobStarts,
    });
    status.conditions = withRenewalCondition(status.conditions, renewal);
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

  /**
   * The other references of the namespace that guard a Secret name the pods of `jobs` refer to, with the names
   * the pod admission policy guards for each. The plan consults a neighbour only to bar one of the Jobs it is
   * given, and only through a guarded name that Job's pod template refers to (secretNamesUsedByPod, as the plan
   * reads it): a reference guarding none of those names bars no Job, and leaving it out changes no plan. So
   * the plan gets these, found through the index of guarded names, not every reference of the namespace.
   */
  private neighboursOf(reference: SecretReference, jobs: V1Job[]) {
    const namespace = reference.metadata.namespace!;
    const found = new Map<string, SecretReference>();
    for (const name of secretNamesUsedByJobs(jobs)) {
      for (const other of this.deps.view.referencesGuarding(namespace, name)) {
        if (other.metadata.uid !== reference.metadata.uid) found.set(other.metadata.name!, other);
      }
    }
    return [...found.values()].map((other) => ({
      name: other.metadata.name!,
      guardedNames: guardedNames((other.status ?? {}) as ReferenceStatus),
      consumers: other.spec.consumers,
    }));
  }

  /** The other references of the namespace that name the same target Secret. */
  private rivalsOf(reference: SecretReference, targetName: string) {
    return this.deps.view
      .referencesTargeting(reference.metadata.namespace!, targetName)
      .filter((other) => other.metadata.uid !== reference.metadata.uid)
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
  private waitingRetryMs(key: string, refreshIntervalMs: number): number {
    const failures = (this.waitingFailures.get(key) ?? 0) + 1;
    this.waitingFailures.set(key, failures);
    const maxMs = Math.min(waitingRetryBackoff.maxMs, refreshIntervalMs);
    return backoffDelay(failures, { ...waitingRetryBackoff, maxMs });
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

/** Whether the dynamic credential the Secret holds must be replaced before Jobs go on using the Secret. */
function leaseDue(
  reference: SecretReference,
  secret: V1Secret | undefined,
  plan: Plan,
  now: number,
  current: (lease: HeldLease) => HeldLease,
): boolean {
  if (!reference.spec.dynamic || !secret || plan.consuming.length === 0) return false;
  // A Secret written before spec.dynamic holds no lease: the changed content hash rewrites it anyway.
  const held = heldLeaseOf(secret);
  if (!held) return false;
  if (!['keep', 'refresh', 'update-owners'].includes(plan.action)) return false;
  return !keepsLease(current(held), reference, now, plan.expiresAt);
}

/** The plan's next visit, or sooner: in time to replace a lease before its bound while Jobs use it. */
function nextLeaseVisit(
  plan: Plan,
  leases: LeaseEffect[],
  secret: V1Secret | undefined,
  now: number,
  current: (lease: HeldLease) => HeldLease,
): number | undefined {
  if (plan.consuming.length === 0 || plan.action === 'delete') return plan.requeueAfterMs;
  const issued = leases.find((lease) => lease.kind === 'issued')?.expiresAt;
  const held = heldLeaseOf(secret);
  const ends = issued ? Date.parse(issued) : held && current(held).expiresAt;
  // A lease that lasts as long as the Secret needs no visit of its own: the Secret's expiry brings one.
  if (ends === undefined || (plan.expiresAt && ends >= Date.parse(plan.expiresAt) - 2_000)) {
    return plan.requeueAfterMs;
  }
  const due = Math.max(0, ends - leaseRenewMarginMs - now);
  return plan.requeueAfterMs === undefined ? due : Math.min(plan.requeueAfterMs, due);
}

/** Why each Job whose per-Job Secret is deleted loses it, for the revocation of the lease that Secret holds. */
function endReasonsOf(perJob: PerJobPlan, deleting: boolean): Record<string, string> {
  const reasons: Record<string, string> = {};
  for (const step of perJob.steps) {
    if (step.action !== 'delete') continue;
    const fallback = step.endsAccess ? 'AccessEnded' : 'TargetRenamed';
    reasons[step.job.uid] = endReasonOf(perJob, step.job.uid, deleting, fallback);
  }
  return reasons;
}

/** Why a Job's per-Job Secret (and its lease) goes: the end of its access as planned, else `fallback`. */
function endReasonOf(perJob: PerJobPlan, jobUid: string, deleting: boolean, fallback: string): string {
  if (deleting) return 'ReferenceDeleted';
  const end = perJob.ended.find((ended) => ended.job.uid === jobUid);
  if (!end) return fallback;
  return end.cause === 'Expired' ? 'TtlPassed' : (end.reason ?? 'AccessEnded');
}

/** The grants held back while the audit file cannot record them: each reported as AuditUnavailable. */
function unauditedSteps(steps: JobSecretStep[]): StepOutcome[] {
  return steps
    .filter((step) => step.action === 'create' || step.action === 'rewrite' || step.action === 'refresh')
    .map((step) => ({ step, outcome: auditUnavailableOutcome, checked: false }));
}

/** Why the Secret is deleted, for the revocation of the lease it holds. */
function revocationReason(plan: Plan): string {
  return plan.ended.some((ended) => ended.cause === 'Expired') ? 'TtlPassed' : 'AccessEnded';
}

function ownersOf(secret: V1Secret): { name: string; uid: string }[] {
  return (secret.metadata?.ownerReferences ?? []).map(({ name, uid }) => ({ name, uid }));
}

/** Puts a value the operator owns under `key`, zeroing the one it replaces. */
function putOwned(data: Record<string, Buffer>, key: string, value: Buffer): void {
  if (Object.hasOwn(data, key)) data[key]!.fill(0);
  data[key] = value;
}

/** Whether the store can issue the dynamic credential the reference asks for, before any call to it. */
function judgeDynamic(dynamic: DynamicCredential, store: AnySecretStore, storeName: string): StoreState {
  const provider = selectProvider(store.spec)?.name;
  const needed = dynamicProvider(dynamic);
  if (provider !== needed) {
    const what =
      needed === 'vault' ? "a credential Vault's database engine creates" : 'temporary AWS credentials';
    return {
      state: 'invalid',
      message: `spec.dynamic asks for ${what}, but ${storeName} is a ${provider} store: name a ${needed === 'vault' ? 'Vault' : 'AWS'} store, or change spec.dynamic`,
    };
  }
  const roleArn = dynamic.awsRole?.roleArn;
  if (roleArn && !(store.spec.provider.aws?.assumableRoles ?? []).includes(roleArn)) {
    return {
      state: 'not-allowed',
      reason: 'RemoteNotAllowed',
      message: `${storeName} does not list ${roleArn} in spec.provider.aws.assumableRoles: ask its owner to add it`,
    };
  }
  return { state: 'ready' };
}

/** The shared Secret's lease while the Secret is entitled (Jobs use it and it stays), for its renewal. */
function entitledHolding(
  plan: Plan,
  secret: V1Secret | undefined,
  lease: HeldLease | undefined,
): LeaseHolding | undefined {
  if (!lease || !secret || plan.consuming.length === 0) return undefined;
  if (plan.action === 'delete' || plan.action === 'refuse' || plan.action === 'conflict') return undefined;
  const jobs = plan.consuming.map(({ name, uid }) => ({ name, uid }));
  return { lease, secret: { name: secret.metadata!.name!, uid: secret.metadata?.uid }, jobs };
}

function earliest(...delays: (number | undefined)[]): number | undefined {
  const known = delays.filter((delay): delay is number => delay !== undefined);
  return known.length > 0 ? Math.min(...known) : undefined;
}
