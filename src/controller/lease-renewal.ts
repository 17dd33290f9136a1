// Leases held in increments (spec.dynamic.renewalIncrement): when one is renewed, by how much, what the
// operator then knows of it, and the status condition that reports failed renewals. Pure: `now` and what this
// process saw of each lease come in, so restarts, lapses and failures are tested without a store.
import { transitionTime } from '../api/conditions.ts';
import type { Condition } from '../api/types.ts';
import { backoffDelay } from '../runtime/backoff.ts';
import type { HeldLease } from './dynamic-lease.ts';

/** What this process saw of one lease held in increments. Memory only: a restart renews at once instead. */
export interface RenewalMemory {
  /** Epoch ms: when the lease ends unless renewed again, as its last issue or renewal confirmed. */
  heldUntil?: number;
  /** The lease can be held no further (Vault no longer holds it, or granted less than asked): it is replaced. */
  final?: boolean;
  /** Consecutive renewals that failed (Vault refused or did not answer), and the last one's safe reason. */
  failures: number;
  failure?: { reason: string; message: string };
}

/** Retries of a failed renewal: 1 s doubling, never later than a third of the increment (the lease's slack). */
export const renewalRetryBackoff = { baseMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.5 } as const;

export const renewalConditionType = 'CredentialsRenewed';

/** A lease is held to its bound once it reaches this close to it (Vault counts whole seconds). */
const boundSlackMs = 2_000;

/**
 * The increment a held lease is renewed by: the reference's, or (the increment was removed from the spec while
 * the lease was held in increments) no limit, so that one renewal takes it to its bound. Undefined: the lease
 * was renewed to its bound at issue and is not renewed again.
 */
export function incrementFor(
  held: Pick<HeldLease, 'incrementSeconds'>,
  referenceIncrementMs: number | undefined,
): number | undefined {
  if (referenceIncrementMs !== undefined) return referenceIncrementMs;
  return held.incrementSeconds ? Number.POSITIVE_INFINITY : undefined;
}

/**
 * How many seconds to renew the lease by now, or undefined when it is not due: two thirds of its increment have
 * passed since its last renewal (at once when this process has not seen one: after a restart), never past its
 * bound, and never after a renewal showed it can be held no further.
 */
export function renewalDue(
  held: HeldLease,
  memory: RenewalMemory | undefined,
  incrementMs: number | undefined,
  now: number,
): number | undefined {
  if (incrementMs === undefined || memory?.final) return undefined;
  const untilBound = held.expiresAt - now;
  if (untilBound < boundSlackMs) return undefined;
  const heldUntil = memory?.heldUntil;
  if (heldUntil !== undefined) {
    if (heldUntil >= held.expiresAt - boundSlackMs) return undefined;
    if (memory!.failures === 0 && now < heldUntil - incrementMs / 3) return undefined;
  }
  return Math.floor(Math.min(incrementMs, untilBound) / 1000);
}

/** When the next renewal of the lease is due (ms from now), if it will be. Failed renewals back off. */
export function nextRenewalMs(
  held: Pick<HeldLease, 'expiresAt'>,
  memory: RenewalMemory | undefined,
  incrementMs: number | undefined,
  now: number,
  draw = 0.5,
): number | undefined {
  if (incrementMs === undefined || memory?.final || held.expiresAt - now < boundSlackMs) return undefined;
  if (memory?.heldUntil === undefined) return 0;
  if (memory.heldUntil >= held.expiresAt - boundSlackMs) return undefined;
  if (memory.failures > 0) {
    const maxMs = Math.max(renewalRetryBackoff.baseMs, Math.min(renewalRetryBackoff.maxMs, incrementMs / 3));
    return backoffDelay(memory.failures, { ...renewalRetryBackoff, maxMs }, () => draw);
  }
  return Math.max(0, memory.heldUntil - incrementMs / 3 - now);
}

/** After a renewal Vault confirmed: held `granted` seconds from now; final when it granted less than asked. */
export function afterRenewal(held: HeldLease, asked: number, granted: number, now: number): RenewalMemory {
  const heldUntil = now + granted * 1000;
  const capped = granted < asked && heldUntil < held.expiresAt - boundSlackMs;
  return { heldUntil, failures: 0, ...(capped ? { final: true } : {}) };
}

/** After a renewal Vault answered with NotFound: the lease lapsed (or was revoked), so it ended by now. */
export function afterLapse(now: number): RenewalMemory {
  return { heldUntil: now, final: true, failures: 0 };
}

/** After a renewal that failed otherwise: retried with backoff; the lease stands until it was held. */
export function afterFailure(
  memory: RenewalMemory | undefined,
  failure: { reason: string; message: string },
): RenewalMemory {
  return { ...memory, failures: (memory?.failures ?? 0) + 1, failure };
}

/**
 * The lease as this process knows it now: one that can be held no further, or that was not renewed in time,
 * ends when it was last held until (so a write replaces it); otherwise as its Secret's annotation says.
 */
export function currentLease(held: HeldLease, memory: RenewalMemory | undefined, now: number): HeldLease {
  const heldUntil = memory?.heldUntil;
  if (heldUntil === undefined || (!memory?.final && heldUntil > now)) return held;
  return { ...held, expiresAt: Math.min(held.expiresAt, heldUntil) };
}

/**
 * The reference's CredentialsRenewed condition, only while it holds leases in increments: False with
 * RenewalFailed while a renewal is being retried (naming the Jobs and the store's reason, never a lease), True
 * otherwise. The message does not change with each renewal, so status is not rewritten for one.
 */
export function renewalCondition(
  failing: { holder: string; reason: string; message: string }[],
  increment: string,
  previous: Condition[] | undefined,
  context: { now: number; generation: number },
): Condition {
  const last = previous?.find((condition) => condition.type === renewalConditionType);
  const status = failing.length > 0 ? 'False' : 'True';
  const first = failing[0];
  const message = first
    ? `Renewing the dynamic credential of ${failing.map((f) => f.holder).join(', ')} failed ` +
      `(${first.reason}: ${first.message}); retrying with backoff. A credential not renewed in time lapses ` +
      'and its Secret gets a new one once the store answers.'
    : `Dynamic credentials are held ${increment} ahead and renewed while their Jobs are entitled, never past their ttl.`;
  return {
    type: renewalConditionType,
    status,
    reason: first ? 'RenewalFailed' : 'Renewed',
    message,
    lastTransitionTime: transitionTime(last, status, new Date(context.now)),
    observedGeneration: context.generation,
  };
}

/** `conditions` with the renewal condition set (or removed when the reference holds no lease in increments). */
export function withRenewalCondition(
  conditions: Condition[] | undefined,
  condition: Condition | undefined,
): Condition[] {
  const others = (conditions ?? []).filter((c) => c.type !== renewalConditionType);
  return condition ? [...others, condition] : others;
}
