import { describe, expect, it } from 'vitest';
import { ReferenceReason, StoreReason } from './conditions.ts';
import { stalls, withStalled } from './stalled.ts';
import type { Condition } from './types.ts';

const now = new Date('2030-01-01T01:00:00Z');
const ready = (status: Condition['status'], reason: string): Condition => ({
  type: 'Ready',
  status,
  reason,
  message: `${reason} message`,
  lastTransitionTime: '2030-01-01T00:00:00Z',
  observedGeneration: 4,
});

describe('stalls', () => {
  it.each([
    ReferenceReason.AccessDenied,
    ReferenceReason.RemoteNotFound,
    ReferenceReason.Conflict,
    ReferenceReason.StoreNotFound,
    StoreReason.InvalidSpec,
  ])('is true for Ready=False %s, which needs a person to change something', (reason) => {
    expect(stalls(ready('False', reason))).toBe(true);
  });

  it.each([ReferenceReason.StoreUnavailable, ReferenceReason.SecretGone, 'SomeFutureReason'])(
    'is false for Ready=False %s, which the operator retries (Flux keeps waiting)',
    (reason) => {
      expect(stalls(ready('False', reason))).toBe(false);
    },
  );

  it('is false whenever Ready is not False', () => {
    expect(stalls(ready('True', ReferenceReason.Materialized))).toBe(false);
    expect(stalls(ready('Unknown', ReferenceReason.AccessDenied))).toBe(false);
  });
});

describe('withStalled', () => {
  it('adds Stalled with the reason, message and observedGeneration of Ready', () => {
    const failing = ready('False', ReferenceReason.AccessDenied);
    expect(withStalled([failing], failing, undefined, now)).toEqual([
      failing,
      {
        type: 'Stalled',
        status: 'True',
        reason: 'AccessDenied',
        message: 'AccessDenied message',
        lastTransitionTime: '2030-01-01T01:00:00Z',
        observedGeneration: 4,
      },
    ]);
  });

  it('keeps the transition time of a Stalled condition that was already there', () => {
    const failing = ready('False', ReferenceReason.RemoteNotFound);
    const before = withStalled([failing], failing, undefined, new Date('2029-12-31T00:00:00Z'));
    const after = withStalled([failing], failing, before, now);
    expect(after[1]?.lastTransitionTime).toBe('2029-12-31T00:00:00Z');
  });

  it('removes Stalled when Ready no longer stalls', () => {
    const failing = ready('False', ReferenceReason.AccessDenied);
    const healthy = ready('True', ReferenceReason.Materialized);
    const before = withStalled([failing], failing, undefined, now);
    expect(withStalled([...before.slice(1), healthy], healthy, before, now)).toEqual([healthy]);
  });
});
