// Audit records of dynamic credential leases, derived from what Vault confirmed (an issue, a renewal, a
// revocation) and the Jobs whose access it served: one record per Job, naming the lease by its keyed
// fingerprint, never by its id. Ids are deterministic, so a record derived again is recognised, not doubled;
// a renewal's id names the end it renewed to, so each renewal of a lease held in increments is one record.
import { type AuditRecord, auditRecordId } from '../audit/types.ts';
import { type HeldLease, leaseVersion } from './dynamic-lease.ts';

/** One change to a lease that Vault confirmed. */
export interface LeaseEffect {
  kind: 'issued' | 'renewed' | 'revoked';
  fingerprint: string;
  /** RFC 3339: when the lease ends at the latest (issue), or the end a renewal took it to. */
  expiresAt?: string;
  /** RFC 3339, at the issue of a lease held in increments: when it ends unless renewed. */
  heldUntil?: string;
  /** `<mount>/creds/<role>`. */
  source: string;
  secret: { name: string; uid?: string };
  /** The Jobs the lease was issued for, or whose access its revocation ended. */
  jobs: { name: string; uid: string }[];
  /**
   * Why: DynamicCredentialIssued; RenewedToBound (at issue), RenewedToIncrement (at issue, held in increments)
   * or Renewed (by the operator, while entitled); or the revocation's cause (JobEnded, TtlPassed, ...).
   */
  reason: string;
}

export interface LeaseRecordContext {
  time: string;
  reference: { namespace: string; name: string; uid?: string };
  store: { kind: string; name: string; provider?: string };
}

const actions = { issued: 'LeaseIssued', renewed: 'LeaseRenewed', revoked: 'LeaseRevoked' } as const;

export function leaseRecords(effects: readonly LeaseEffect[], context: LeaseRecordContext): AuditRecord[] {
  const { namespace } = context.reference;
  const records: AuditRecord[] = [];
  for (const effect of effects) {
    // A lease revoked with no Job left (the reference deleted) is still recorded, once, without a Job.
    for (const job of effect.jobs.length > 0 ? effect.jobs : [undefined]) {
      records.push({
        id: auditRecordId([
          'lease',
          effect.kind,
          effect.fingerprint,
          job?.uid,
          ...(effect.kind === 'renewed' ? [effect.expiresAt] : []),
        ]),
        time: context.time,
        action: actions[effect.kind],
        reference: context.reference,
        store: context.store,
        remotes: [{ name: effect.source, version: leaseVersion(effect.fingerprint) }],
        targetSecret: {
          namespace,
          name: effect.secret.name,
          ...(effect.secret.uid ? { uid: effect.secret.uid } : {}),
        },
        job: job ? { namespace, name: job.name, uid: job.uid } : undefined,
        reason: effect.reason,
        message: messageOf(effect, job?.name),
        lease: {
          fingerprint: effect.fingerprint,
          ...(effect.expiresAt ? { expiresAt: effect.expiresAt } : {}),
        },
      });
    }
  }
  return records;
}

function messageOf(effect: LeaseEffect, job: string | undefined): string {
  const forJob = job ? ` for Job ${job}` : '';
  switch (effect.kind) {
    case 'issued':
      return `Credential from ${effect.source} issued${forJob} into Secret ${effect.secret.name}, ending at ${effect.expiresAt} at the latest.`;
    case 'renewed':
      return effect.reason === 'RenewedToBound'
        ? `Credential from ${effect.source}${forJob} renewed to ${effect.expiresAt}, its bound.`
        : `Credential from ${effect.source}${forJob} renewed to ${effect.expiresAt} (held one increment ahead, never past its bound).`;
    case 'revoked':
      return `Credential from ${effect.source}${forJob} revoked at the store (${effect.reason}): it logs in no more.`;
  }
}

/**
 * What the issue of `lease` into a written Secret confirmed: the issue, and the renewal Vault made at issue (to
 * the bound, or to the increment when the lease is held in increments).
 */
export function issueEffects(
  lease: HeldLease,
  renewed: boolean | undefined,
  secret: LeaseEffect['secret'],
  jobs: LeaseEffect['jobs'],
): LeaseEffect[] {
  const expiresAt = new Date(lease.expiresAt).toISOString();
  const heldUntil = lease.heldUntil === undefined ? undefined : new Date(lease.heldUntil).toISOString();
  const base = { fingerprint: lease.fingerprint, source: lease.source, secret, jobs };
  const effects: LeaseEffect[] = [
    {
      kind: 'issued',
      ...base,
      expiresAt,
      ...(heldUntil ? { heldUntil } : {}),
      reason: 'DynamicCredentialIssued',
    },
  ];
  if (renewed) {
    effects.push(
      heldUntil
        ? { kind: 'renewed', ...base, expiresAt: heldUntil, reason: 'RenewedToIncrement' }
        : { kind: 'renewed', ...base, expiresAt, reason: 'RenewedToBound' },
    );
  }
  return effects;
}
