// Dynamic credentials of per-Job Secrets: each Job's Secret holds a lease of its own, issued for that Job (its
// child token names it, and its bound is that Job's expiry, never more than the ttl), kept while that Secret
// is rewritten, and revoked at the store before that Secret is deleted. Other Jobs' leases are not touched.
// The handle lives on the per-Job Secret (dynamic-lease.ts); it is believed only when its keyed fingerprint
// matches (only the operator holds the key, and only the operator may set secretlink.dev/ annotations).
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import type { IssuedLease, LeaseHandle } from '../providers/types.ts';
import {
  coversSecret,
  dynamicKeys,
  type HeldLease,
  heldLeaseOf,
  incrementSecondsOf,
  keepsLease,
  leaseRenewMarginMs,
  leaseRequestSource,
  leaseSeconds,
  leaseSource,
  leaseVersion,
} from './dynamic-lease.ts';
import { issueEffects, type LeaseEffect } from './lease-records.ts';
import type { LeaseHolding } from './lease-renewer.ts';
import { isManagedFor, managedAnnotations } from './managed-secret.ts';
import type { SecretWrite } from './outcome.ts';
import { type JobSecretStep, perJobSecretJob } from './per-job-plan.ts';
import type { ClusterWriter, ReadValues, ValueSource } from './ports.ts';

export interface JobLeaseDeps {
  writer: ClusterWriter;
  values: ValueSource;
  fingerprint: (data: Record<string, Buffer>, namespace: string) => string;
  logger?: Logger;
  /** The lease as the operator knows it now (a lease held in increments that lapsed has ended). */
  currentLease?: (lease: HeldLease) => HeldLease;
}

export interface JobLeaseContext {
  reference: SecretReference;
  namespace: string;
  /** Absent when the store object is gone: nothing can be issued or revoked then. */
  store: AnySecretStore;
  signal: AbortSignal;
  now: number;
  /** The reference's ttl: no lease lives longer than this from its issue. */
  ttlMs: number;
}

/** The credential a write puts in a Job's Secret: the lease it holds, or a new one issued for the Job. */
export interface JobCredential {
  held: HeldLease;
  issued: boolean;
  renewed: boolean;
}

/** Keyed HMAC over the whole handle, so neither the lease id nor the token accessor can be swapped. */
export function leaseFingerprint(
  deps: Pick<JobLeaseDeps, 'fingerprint'>,
  handle: LeaseHandle,
  namespace: string,
): string {
  return deps.fingerprint(
    { lease: Buffer.from(handle.leaseId), token: Buffer.from(handle.tokenAccessor) },
    namespace,
  );
}

/** The lease a per-Job Secret names, if its keyed fingerprint vouches for it; anything else is not revoked. */
export function trustedJobLease(
  deps: Pick<JobLeaseDeps, 'fingerprint' | 'currentLease'>,
  secret: V1Secret | undefined,
  namespace: string,
): HeldLease | undefined {
  const lease = heldLeaseOf(secret);
  if (!lease?.fingerprint) return undefined;
  if (leaseFingerprint(deps, lease.handle, namespace) !== lease.fingerprint) return undefined;
  return deps.currentLease ? deps.currentLease(lease) : lease;
}

/**
 * The version the Job's credential shows in remoteVersions at a refresh: the held lease's while it stands
 * (its bound is the Job's expiry, so it stands as long as the Secret), `lease:none` when it must be replaced.
 */
export function jobLeaseVersion(
  held: HeldLease | undefined,
  step: JobSecretStep,
  context: Pick<JobLeaseContext, 'reference' | 'now'>,
): string {
  return held && keepsLease(held, context.reference, context.now, step.entitlement?.expiresAt)
    ? leaseVersion(held.fingerprint)
    : 'lease:none';
}

/**
 * Puts the Job's credential into `values`: the one its Secret holds while that lease stands (read live: the
 * cache holds no values), or a new lease for this Job, bounded by its expiry and the ttl.
 */
export async function jobCredential(
  deps: JobLeaseDeps,
  step: JobSecretStep,
  held: HeldLease | undefined,
  values: ReadValues,
  context: JobLeaseContext,
): Promise<JobCredential> {
  const { reference, namespace, now } = context;
  const dynamic = reference.spec.dynamic!;
  const keys = dynamicKeys(dynamic);
  const source = leaseSource(dynamic);
  if (step.secret && held && keepsLease(held, reference, now, step.entitlement?.expiresAt)) {
    const live = await deps.writer.readSecret(namespace, step.name);
    const kept = Object.values(keys).map((key) => [key, live?.data?.[key]] as const);
    if (live?.metadata?.uid === step.secret.metadata?.uid && kept.every(([, value]) => value)) {
      for (const [key, value] of kept) putOwned(values.data, key, Buffer.from(value!, 'base64'));
      values.remoteVersions[source] = leaseVersion(held.fingerprint);
      return { held, issued: false, renewed: false };
    }
  }
  const issued = await deps.values.issueLease(
    context.store,
    {
      source: leaseRequestSource(dynamic),
      maxSeconds: leaseSeconds(now, step.entitlement?.expiresAt, context.ttlMs),
      incrementSeconds: incrementSecondsOf(reference),
      holder: { namespace, reference: reference.metadata.name!, job: step.job },
    },
    context.signal,
  );
  const fingerprint = leaseFingerprint(deps, issued.handle, namespace);
  for (const [field, key] of Object.entries(keys)) {
    const value = issued.fields[field];
    if (value) putOwned(values.data, key, value);
  }
  values.remoteVersions[source] = leaseVersion(fingerprint);
  return { held: issuedLease(issued, fingerprint, source, reference), issued: true, renewed: issued.renewed };
}

/**
 * After the write that carried the Job's credential. Written: a new lease is recorded (issued, and renewed to
 * its bound when the role's TTL was shorter), and a different lease the Secret held before is revoked. Not
 * written: a new lease is revoked at once, so no credential lives that no Secret holds.
 */
export async function settleJobCredential(
  deps: JobLeaseDeps,
  step: JobSecretStep,
  credential: JobCredential | undefined,
  previous: HeldLease | undefined,
  confirmed: SecretWrite,
  context: JobLeaseContext,
): Promise<LeaseEffect[]> {
  const written = confirmed.result === 'created' || confirmed.result === 'replaced';
  const effects: LeaseEffect[] = [];
  if (credential?.issued && !written) {
    await revokeJobLease(deps, credential.held, holderOf(step), 'WriteFailed', context);
    return effects;
  }
  if (!written) return effects;
  const secret = { name: step.name, uid: confirmed.secret.uid };
  // The issue, and the renewal Vault made at issue (to the Job's bound, or to the increment).
  if (credential?.issued)
    effects.push(...issueEffects(credential.held, credential.renewed, secret, [step.job]));
  const replaced = previous && previous.handle.leaseId !== credential?.held.handle.leaseId;
  if (replaced) {
    const reason = credential ? 'CredentialReplaced' : 'CredentialRemoved';
    effects.push(...(await revokeJobLease(deps, previous, { job: step.job, secret }, reason, context)));
  }
  return effects;
}

/**
 * Revokes a Job's lease at the store: its sessions end and it logs in no more. A failure does not keep the
 * Secret (access through Kubernetes still ends); the credential then ends at its bound, which Vault enforces.
 */
export async function revokeJobLease(
  deps: JobLeaseDeps,
  lease: HeldLease | undefined,
  holder: { job: { name: string; uid: string }; secret: { name: string; uid?: string } },
  reason: string,
  context: JobLeaseContext,
): Promise<LeaseEffect[]> {
  if (!lease) return [];
  const { secret } = holder;
  if (!context.store) {
    deps.logger?.warn(
      { secret: secret.name, lease: lease.fingerprint },
      "the store is gone, so a Job's dynamic credential cannot be revoked; it ends at its lease bound",
    );
    return [];
  }
  try {
    await deps.values.revokeLease(context.store, lease.handle, context.signal);
  } catch (error) {
    deps.logger?.warn(
      { secret: secret.name, lease: lease.fingerprint, reason: (error as { reason?: string }).reason },
      "revoking a Job's dynamic credential failed; it ends at its lease bound",
    );
    return [];
  }
  return [
    {
      kind: 'revoked',
      fingerprint: lease.fingerprint,
      source: lease.source,
      secret,
      jobs: [holder.job],
      reason,
    },
  ];
}

/** The Job and Secret a step's lease belongs to. */
export function holderOf(step: JobSecretStep): {
  job: { name: string; uid: string };
  secret: { name: string; uid?: string };
} {
  return { job: step.job, secret: { name: step.name, uid: step.secret?.metadata?.uid } };
}

/** Puts a value the operator owns under `key`, zeroing the one it replaces. */
function putOwned(data: Record<string, Buffer>, key: string, value: Buffer): void {
  if (Object.hasOwn(data, key)) data[key]!.fill(0);
  data[key] = value;
}

/**
 * The refresh checks to plan with, less those of per-Job Secrets whose lease ends before the Secret does (a
 * role whose max TTL is shorter than the Job's ttl): such a Secret is refreshed now, and gets a new lease.
 */
export function checksWithLeasesDue(
  checks: Record<string, number>,
  secrets: V1Secret[],
  reference: SecretReference,
  now: number,
  current: (lease: HeldLease) => HeldLease = (lease) => lease,
): Record<string, number> {
  if (!reference.spec.dynamic) return checks;
  const due = new Set(
    secrets
      .filter((secret) => {
        const held = heldLeaseOf(secret);
        return held && !keepsLease(current(held), reference, now, managedAnnotations(secret).expiresAt);
      })
      .map((secret) => secret.metadata?.uid),
  );
  return Object.fromEntries(Object.entries(checks).filter(([uid]) => !due.has(uid)));
}

/** When the first lease that ends before its Secret must be replaced (ms from now), if any. */
export function nextJobLeaseVisitMs(
  secrets: V1Secret[],
  now: number,
  current: (lease: HeldLease) => HeldLease = (lease) => lease,
): number | undefined {
  const due = secrets.flatMap((secret) => {
    const found = heldLeaseOf(secret);
    const held = found && current(found);
    if (!held || coversSecret(held, managedAnnotations(secret).expiresAt)) return [];
    return [Math.max(0, held.expiresAt - leaseRenewMarginMs - now)];
  });
  return due.length > 0 ? Math.min(...due) : undefined;
}

/** The lease a write holds after its issue: held in increments when the store granted one, else to its bound. */
export function issuedLease(
  issued: IssuedLease,
  fingerprint: string,
  source: string,
  reference: SecretReference,
): HeldLease {
  const held: HeldLease = { handle: issued.handle, expiresAt: issued.expiresAt, fingerprint, source };
  const incrementSeconds = incrementSecondsOf(reference);
  if (issued.heldUntil === undefined || !incrementSeconds) return held;
  return { ...held, incrementSeconds, heldUntil: issued.heldUntil };
}

/** The leases of the per-Job Secrets whose Job is still entitled (consuming): those renewed in increments. */
export function entitledJobLeases(
  deps: Pick<JobLeaseDeps, 'fingerprint'>,
  secrets: V1Secret[],
  consuming: readonly { name: string; uid: string }[],
  reference: { namespace: string; name: string },
): LeaseHolding[] {
  const jobs = new Map(consuming.map((job) => [job.uid, job]));
  return secrets.flatMap((secret) => {
    const job = jobs.get(perJobSecretJob(secret) ?? '');
    if (!job || !isManagedFor(secret, reference.namespace, reference.name)) return [];
    const lease = trustedJobLease(deps, secret, reference.namespace);
    if (!lease) return [];
    const held = { name: secret.metadata!.name!, uid: secret.metadata?.uid };
    return [{ lease, secret: held, jobs: [{ name: job.name, uid: job.uid }] }];
  });
}
