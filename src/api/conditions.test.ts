import { describe, expect, it } from 'vitest';
import { findCondition, ReferenceReason, setCondition, transitionTime } from './conditions.ts';
import type { Condition } from './types.ts';

const earlier = '2030-01-01T00:00:00Z';
const now = new Date('2030-01-01T01:02:03.456Z');

const ready = (status: Condition['status'], reason: string): Omit<Condition, 'lastTransitionTime'> => ({
  type: 'Ready',
  status,
  reason,
  message: `${reason} message`,
  observedGeneration: 2,
});

describe('setCondition', () => {
  it('adds a condition the list does not have, stamped now to the second', () => {
    expect(setCondition(undefined, ready('True', ReferenceReason.NoConsumers), now)).toEqual([
      { ...ready('True', ReferenceReason.NoConsumers), lastTransitionTime: '2030-01-01T01:02:03Z' },
    ]);
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const current: Condition[] = [
      { ...ready('True', ReferenceReason.NoConsumers), lastTransitionTime: earlier },
    ];
    const next = setCondition(current, ready('True', ReferenceReason.Materialized), now);
    expect(next).toEqual([{ ...ready('True', ReferenceReason.Materialized), lastTransitionTime: earlier }]);
  });

  it('moves lastTransitionTime when the status flips', () => {
    const current: Condition[] = [
      { ...ready('True', ReferenceReason.Materialized), lastTransitionTime: earlier },
    ];
    const [condition] = setCondition(current, ready('False', ReferenceReason.AccessDenied), now);
    expect(condition).toMatchObject({
      status: 'False',
      reason: 'AccessDenied',
      lastTransitionTime: '2030-01-01T01:02:03Z',
    });
  });

  it('leaves other conditions and their order alone', () => {
    const other: Condition = {
      type: 'Degraded',
      status: 'False',
      reason: 'Fine',
      message: '',
      lastTransitionTime: earlier,
    };
    const current: Condition[] = [
      { ...ready('True', ReferenceReason.NoConsumers), lastTransitionTime: earlier },
      other,
    ];
    const next = setCondition(current, ready('False', ReferenceReason.StoreNotFound), now);
    expect(next.map((condition) => condition.type)).toEqual(['Ready', 'Degraded']);
    expect(findCondition(next, 'Degraded')).toBe(other);
    expect(current[0]!.reason).toBe(ReferenceReason.NoConsumers);
  });
});

describe('condition reasons', () => {
  it('are CamelCase words the CRD condition schema and kubectl columns can show', () => {
    for (const [name, value] of Object.entries(ReferenceReason)) {
      expect(value).toBe(name);
      expect(value).toMatch(/^[A-Z][A-Za-z]*$/);
    }
  });
});

describe('transitionTime', () => {
  it('writes a new transition as RFC 3339 to the second, whatever the clock says in milliseconds', () => {
    expect(transitionTime(undefined, 'True', new Date('2030-01-01T01:02:03.987Z'))).toBe(
      '2030-01-01T01:02:03Z',
    );
  });
});
