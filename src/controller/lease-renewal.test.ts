// When a lease held in increments is renewed and by how much, what a failed or lapsed renewal leaves the
// operator believing, and the status condition that reports it.
import { describe, expect, it } from 'vitest';
import type { HeldLease } from './dynamic-lease.ts';
import {
  afterFailure,
  afterLapse,
  afterRenewal,
  currentLease,
  incrementFor,
  nextRenewalMs,
  renewalCondition,
  renewalDue,
  withRenewalCondition,
} from './lease-renewal.ts';

const now = Date.parse('2026-12-01T12:00:00Z');
const increment = 15_000;
/** A lease whose bound (its Job's expiry) is ten minutes away, held in 15 s increments. */
const lease: HeldLease = {
  handle: { leaseId: 'database/creds/elt-reader/lease-1', tokenAccessor: 'accessor-1' },
  expiresAt: now + 600_000,
  fingerprint: 'hmac-sha256:aa',
  source: 'database/creds/elt-reader',
  incrementSeconds: 15,
};

describe('renewing a lease held in increments', () => {
  it('renews by the increment once two thirds of it have passed, not before', () => {
    const memory = { heldUntil: now + 15_000, failures: 0 };
    expect(renewalDue(lease, memory, increment, now)).toBeUndefined();
    expect(renewalDue(lease, memory, increment, now + 9_999)).toBeUndefined();
    expect(renewalDue(lease, memory, increment, now + 10_000)).toBe(15);
    expect(nextRenewalMs(lease, memory, increment, now)).toBe(10_000);
  });

  it('renews at once when this process has seen no renewal of it (after a restart)', () => {
    expect(renewalDue(lease, undefined, increment, now)).toBe(15);
    expect(nextRenewalMs(lease, undefined, increment, now)).toBe(0);
  });

  it('never renews past the bound, and stops once held to it', () => {
    const nearBound = { ...lease, expiresAt: now + 9_500 };
    expect(renewalDue(nearBound, { heldUntil: now + 5_000, failures: 0 }, increment, now)).toBe(9);
    const held = afterRenewal(nearBound, 9, 9, now);
    expect(renewalDue(nearBound, held, increment, now + 8_000)).toBeUndefined();
    expect(nextRenewalMs(nearBound, held, increment, now + 8_000)).toBeUndefined();
  });

  it('renews nothing for a lease renewed to its bound at issue (no increment)', () => {
    const toBound: HeldLease = { ...lease, incrementSeconds: undefined };
    expect(incrementFor(toBound, undefined)).toBeUndefined();
    expect(renewalDue(toBound, undefined, incrementFor(toBound, undefined), now)).toBeUndefined();
  });

  it('takes a lease to its bound in one renewal when the increment is removed from the spec', () => {
    const step = incrementFor(lease, undefined);
    expect(renewalDue(lease, { heldUntil: now + 10_000, failures: 0 }, step, now)).toBe(600);
  });

  it('stops renewing a lease the store granted less than asked, and ends it when it was held until', () => {
    const capped = afterRenewal(lease, 15, 8, now);
    expect(capped).toMatchObject({ heldUntil: now + 8_000, final: true });
    expect(renewalDue(lease, capped, increment, now + 7_000)).toBeUndefined();
    expect(currentLease(lease, capped, now).expiresAt).toBe(now + 8_000);
  });

  it('takes a lapsed lease as ended, so its Secret gets a new credential', () => {
    const lapsed = afterLapse(now);
    expect(renewalDue(lease, lapsed, increment, now)).toBeUndefined();
    expect(currentLease(lease, lapsed, now).expiresAt).toBe(now);
  });

  it('retries a failed renewal with backoff, never later than a third of the increment, and keeps the lease meanwhile', () => {
    const failure = { reason: 'Unavailable', message: 'Vault could not be reached (ECONNREFUSED)' };
    let memory = afterFailure({ heldUntil: now + 5_000, failures: 0 }, failure);
    expect(renewalDue(lease, memory, increment, now)).toBe(15);
    expect(nextRenewalMs(lease, memory, increment, now, 0)).toBe(1_000);
    for (let i = 0; i < 6; i++) memory = afterFailure(memory, failure);
    expect(nextRenewalMs(lease, memory, increment, now, 0)).toBe(5_000);
    // Held until its last renewal said: still the Secret's credential until then, ended after.
    expect(currentLease(lease, memory, now)).toBe(lease);
    expect(currentLease(lease, memory, now + 5_000).expiresAt).toBe(now + 5_000);
    // A renewal that succeeds clears the failure.
    expect(afterRenewal(lease, 15, 15, now).failures).toBe(0);
  });
});

describe('the CredentialsRenewed condition', () => {
  const context = { now, generation: 3 };

  it('is True while every renewal succeeds, with a message that does not change per renewal', () => {
    const condition = renewalCondition([], '15s', undefined, context);
    expect(condition).toMatchObject({ type: 'CredentialsRenewed', status: 'True', reason: 'Renewed' });
    expect(renewalCondition([], '15s', [condition], { now: now + 10_000, generation: 3 })).toEqual(condition);
  });

  it('is False with RenewalFailed naming the Job and the reason, never a lease', () => {
    const failing = [
      { holder: 'Job load-a', reason: 'AccessDenied', message: 'Vault policy does not allow it' },
    ];
    const condition = renewalCondition(failing, '15s', undefined, context);
    expect(condition).toMatchObject({ status: 'False', reason: 'RenewalFailed' });
    expect(condition.message).toContain('Job load-a');
    expect(condition.message).toContain('AccessDenied');
    expect(condition.message).not.toContain(lease.handle.leaseId);
  });

  it('is set beside the others, and removed when no lease is held in increments', () => {
    const ready = {
      type: 'Ready',
      status: 'True' as const,
      reason: 'Materialized',
      message: '',
      lastTransitionTime: '',
    };
    const renewed = renewalCondition([], '15s', undefined, context);
    expect(withRenewalCondition([ready], renewed).map((c) => c.type)).toEqual([
      'Ready',
      'CredentialsRenewed',
    ]);
    expect(withRenewalCondition([ready, renewed], undefined)).toEqual([ready]);
  });
});
