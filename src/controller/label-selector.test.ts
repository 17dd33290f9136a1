import { describe, expect, it } from 'vitest';
import { judgeSelector, selectorMatches } from './label-selector.ts';

describe('label selectors', () => {
  const labels = { app: 'dbt', tier: 'batch' };

  it.each([
    [{}, true],
    [{ matchLabels: { app: 'dbt' } }, true],
    [{ matchLabels: { app: 'airbyte' } }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['dbt', 'meltano'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['dbt'] }] }, false],
    [{ matchExpressions: [{ key: 'owner', operator: 'NotIn', values: ['x'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }, false],
  ])('%j matches {app: dbt, tier: batch}: %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  it('says which requirement was not met', () => {
    expect(
      judgeSelector({ matchExpressions: [{ key: 'app', operator: 'In', values: ['meltano'] }] }, labels),
    ).toEqual({
      matches: false,
      unmet: 'labels do not satisfy app In (meltano)',
    });
  });
});
