// Ready reasons and transition times that status derives from a plan: Expired while an expired Job runs.
import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type PlanInput, planReference, type ReferenceFacts } from './plan.ts';
import { nextStatus, type StatusContext } from './status.ts';

const hour = 3_600_000;
const now = Date.parse('2026-11-23T12:00:00.789Z');

function reference(overrides: Partial<ReferenceFacts> = {}): ReferenceFacts {
  return {
    namespace: 'etl',
    name: 'warehouse',
    deleting: false,
    targetName: 'warehouse-credentials',
    ttlMs: hour,
    refreshIntervalMs: 5 * 60_000,
    consumers: { matchLabels: { app: 'dbt' } },
    contentHash: 'hash-1',
    previouslyConsuming: [],
    uid: 'uid-warehouse',
    createdAt: '2026-11-01T00:00:00.000Z',
    jobStarts: {},
    retiredSecrets: [],
    ...overrides,
  };
}

function runningJob(name: string, startedAgoMs: number): V1Job {
  const started = new Date(now - startedAgoMs);
  return {
    metadata: { name, namespace: 'etl', uid: `uid-${name}`, creationTimestamp: started },
    spec: { template: { metadata: { labels: { app: 'dbt' } }, spec: { containers: [] } } },
    status: { startTime: started, active: 1, conditions: [] },
  };
}

function statusOf(input: Partial<PlanInput>, previous: StatusContext['previous'] = {}) {
  const plan = planReference({ now, reference: reference(), store: { state: 'ready' }, jobs: [], ...input });
  return nextStatus(
    plan,
    { kind: 'idle' },
    {
      now,
      generation: 1,
      targetName: 'warehouse-credentials',
      store: { state: 'ready' },
      previous,
    },
  );
}

describe('the Ready condition of a reference', () => {
  it('stamps a new transition as RFC 3339 to the second, like every other condition', () => {
    const [ready] = statusOf({}).conditions ?? [];
    expect(ready?.lastTransitionTime).toBe('2026-11-23T12:00:00Z');
  });

  it('says Expired, not NoConsumers, while the only matching Job runs past its ttl', () => {
    const [ready] = statusOf({ jobs: [runningJob('overrunning', 2 * hour)] }).conditions ?? [];
    expect(ready).toMatchObject({ status: 'True', reason: 'Expired' });
    expect(ready?.message).toContain('overrunning');
  });

  it('says NoConsumers once no expired Job runs any more', () => {
    const [ready] = statusOf({ jobs: [] }).conditions ?? [];
    expect(ready).toMatchObject({ status: 'True', reason: 'NoConsumers' });
  });
});
