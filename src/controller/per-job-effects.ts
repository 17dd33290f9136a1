// The thin effects of per-Job isolation: each step of the per-Job plan carried out against the API server and
// the store, reporting only what the API server confirmed. Values are read for the one Job a Secret is for.
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { labels } from '../api/constants.ts';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import { type HeldLease, leaseAnnotationOf, leaseSource } from './dynamic-lease.ts';
import type { LeaseEffect } from './lease-records.ts';
import { buildSecret, managedAnnotations, zeroValues } from './managed-secret.ts';
import { failureOutcome, type Grant, type Outcome, outcomeOfWrite, type SecretWrite } from './outcome.ts';
import {
  holderOf,
  type JobCredential,
  jobCredential,
  jobLeaseVersion,
  revokeJobLease,
  settleJobCredential,
  trustedJobLease,
} from './per-job-leases.ts';
import type { JobSecretStep } from './per-job-plan.ts';
import type { ClusterWriter, ReadValues, ValueSource } from './ports.ts';
import { storeIdentity } from './reference-facts.ts';
import type { RemoteScope } from './remote-access.ts';

export interface PerJobEffectsDeps {
  writer: ClusterWriter;
  values: ValueSource;
  fingerprint: (data: Record<string, Buffer>, namespace: string) => string;
  logger?: Logger;
  /** The lease as the operator knows it now (one held in increments that lapsed has ended): it is replaced. */
  currentLease?: (lease: HeldLease) => HeldLease;
}

export interface StepContext {
  reference: SecretReference;
  namespace: string;
  contentHash: string;
  store: AnySecretStore;
  scope: RemoteScope;
  signal: AbortSignal;
  now: number;
  /** The reference's ttl: a Job's dynamic credential never lives longer than this. */
  ttlMs: number;
  /** Why each Job whose Secret is deleted loses it (TtlPassed, AccessEnded, ...), by Job uid, for its lease. */
  endReasons?: Record<string, string>;
}

/**
 * One step and what came of it. `checked`: the remote versions were compared and the Secret left current.
 * `leases`: what the store confirmed for the Job's dynamic credential (issued, renewed, revoked).
 */
export interface StepOutcome {
  step: JobSecretStep;
  outcome: Outcome;
  checked: boolean;
  leases?: LeaseEffect[];
  /** The dynamic credential's lease the written Secret holds. */
  lease?: HeldLease;
}

/**
 * Carries out every step in order. One Job's Secret that cannot be written now (its name taken, the API server
 * busy) does not hold back the other Jobs': its error is returned, to be thrown once records and status are
 * written. Also returns when each per-Job Secret that still exists was last found current.
 */
export async function carryOutSteps(
  deps: PerJobEffectsDeps,
  steps: JobSecretStep[],
  context: StepContext & { lastChecks: Record<string, number>; existing: V1Secret[] },
): Promise<{ results: StepOutcome[]; checks: Record<string, number>; stepError: unknown }> {
  const results: StepOutcome[] = [];
  const checks = { ...context.lastChecks };
  let stepError: unknown;
  for (const step of steps) {
    let result: StepOutcome;
    try {
      result = await carryOutStep(deps, step, context);
    } catch (error) {
      stepError ??= error;
      result = { step, outcome: { kind: 'idle' }, checked: false };
    }
    results.push(result);
    const uid =
      result.outcome.kind === 'written' ? result.outcome.effect.secret.uid : step.secret?.metadata?.uid;
    if (result.checked && uid) checks[uid] = context.now;
  }
  // Kept only for the per-Job Secrets that still exist, so the record does not outlive them.
  const remaining = new Set(context.existing.map((secret) => secret.metadata?.uid));
  for (const { outcome } of results) {
    if (outcome.kind === 'written') remaining.add(outcome.effect.secret.uid);
    if (outcome.kind === 'deleted') remaining.delete(outcome.effect.secret.uid);
  }
  const kept = Object.fromEntries(Object.entries(checks).filter(([uid]) => remaining.has(uid)));
  return { results, checks: kept, stepError };
}

export async function carryOutStep(
  deps: PerJobEffectsDeps,
  step: JobSecretStep,
  context: StepContext,
): Promise<StepOutcome> {
  const done = (outcome: Outcome, checked = false): StepOutcome => ({ step, outcome, checked });
  const held = trustedJobLease(deps, step.secret, context.namespace);
  switch (step.action) {
    case 'keep':
    case 'withhold':
      return done({ kind: 'idle' });
    case 'delete': {
      // The Job's credential dies at the store first: deleting its Secret alone leaves it valid in its pods.
      const reason = context.endReasons?.[step.job.uid] ?? 'AccessEnded';
      const leases = await revokeJobLease(deps, held, holderOf(step), reason, leaseContext(context));
      const deleted = await deps.writer.deleteSecret(step.secret!);
      const outcome: Outcome =
        deleted.result === 'deleted'
          ? outcomeOfWrite(deleted, { time: new Date(context.now).toISOString(), grants: [] })
          : { kind: 'idle' };
      return { step, outcome, checked: false, leases };
    }
    case 'refresh': {
      let versions: Record<string, string>;
      try {
        versions = await deps.values.versions(
          context.store,
          context.reference,
          context.scope,
          context.signal,
          step.job,
        );
      } catch (error) {
        return done(failureOutcome(error));
      }
      const dynamic = context.reference.spec.dynamic;
      // A dynamic credential has no version at the store: the one the Secret holds stands while its lease does.
      if (dynamic) versions[leaseSource(dynamic)] = jobLeaseVersion(held, step, context);
      if (sameVersions(versions, managedAnnotations(step.secret!).remoteVersions)) {
        return done({ kind: 'current' }, true);
      }
      return write(deps, step, context);
    }
    case 'create':
    case 'rewrite':
      return write(deps, step, context);
  }
}

function leaseContext(context: StepContext) {
  const { reference, namespace, store, signal, now, ttlMs } = context;
  return { reference, namespace, store, signal, now, ttlMs };
}

async function write(
  deps: PerJobEffectsDeps,
  step: JobSecretStep,
  context: StepContext,
): Promise<StepOutcome> {
  const { reference, namespace, now } = context;
  let values: ReadValues;
  try {
    values = await deps.values.read(context.store, reference, context.scope, context.signal, step.job);
  } catch (error) {
    return { step, outcome: failureOutcome(error), checked: false };
  }
  const held = trustedJobLease(deps, step.secret, namespace);
  let credential: JobCredential | undefined;
  if (reference.spec.dynamic) {
    try {
      credential = await jobCredential(deps, step, held, values, leaseContext(context));
    } catch (error) {
      zeroValues(values.data);
      return { step, outcome: failureOutcome(error), checked: false };
    }
  }
  const writtenAt = new Date(now).toISOString();
  const fingerprint = deps.fingerprint(values.data, namespace);
  const grants: Grant[] = [grantOf(step)];
  const desired: V1Secret = buildSecret({
    namespace,
    name: step.name,
    referenceName: reference.metadata.name!,
    type: reference.spec.target?.type ?? 'Opaque',
    // The Job's uid is an operator-only mark (config/admission/reserved): it is how the Secret is found again.
    labels: { ...(reference.spec.target?.labels ?? {}), [labels.job]: step.job.uid },
    annotations: reference.spec.target?.annotations ?? {},
    data: values.data,
    contentHash: context.contentHash,
    fingerprint,
    store: storeIdentity(reference),
    remoteVersions: values.remoteVersions,
    writtenAt,
    expiresAt: step.entitlement?.expiresAt,
    ownerReferences: step.ownerReferences,
    audit: { time: writtenAt, grants },
    ownAnnotations: credential ? leaseAnnotationOf(credential.held) : undefined,
  });
  // Labels set last win over target.labels, so a user cannot point a Secret at another Job.
  desired.metadata!.labels![labels.job] = step.job.uid;
  const owned = values.data;
  values.data = {};
  let confirmed: SecretWrite;
  try {
    if (step.secret) desired.metadata!.resourceVersion = step.secret.metadata?.resourceVersion;
    confirmed = step.secret
      ? await deps.writer.replaceSecret(desired)
      : await deps.writer.createSecret(desired);
  } catch (error) {
    // Nothing confirmed: a lease issued for this write is revoked before the error goes on.
    if (credential?.issued) {
      await revokeJobLease(deps, credential.held, holderOf(step), 'WriteFailed', leaseContext(context));
    }
    throw error;
  } finally {
    zeroValues(owned);
  }
  const leases = await settleJobCredential(deps, step, credential, held, confirmed, leaseContext(context));
  const outcome = outcomeOfWrite(
    confirmed,
    { time: writtenAt, grants },
    { remoteVersions: values.remoteVersions, fingerprint, writtenAt },
  );
  const written = outcome.kind === 'written';
  return {
    step,
    outcome,
    checked: written,
    leases,
    ...(written && credential ? { lease: credential.held } : {}),
  };
}

/** A per-Job Secret is only ever granted to its one Job: created for it, or rewritten for it. */
function grantOf(step: JobSecretStep): Grant {
  const job = step.job;
  if (step.action === 'create') {
    return { action: 'Materialized', reason: 'SecretCreated', job, until: step.entitlement?.expiresAt };
  }
  const reason = step.action === 'rewrite' ? 'ContentChanged' : 'RemoteVersionChanged';
  return { action: 'Refreshed', reason, job };
}

function sameVersions(current: Record<string, string>, written: Record<string, string>): boolean {
  const keys = Object.keys(current);
  return keys.length === Object.keys(written).length && keys.every((key) => current[key] === written[key]);
}
