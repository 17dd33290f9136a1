// Status as a function of (plan, outcome): what a reader sees never claims a write the API server did not
// confirm, and never says healthy while a consuming Job has no Secret. (Audit: audit-records.test.ts.)
import { describe, expect, it } from 'vitest';
import type { Outcome } from './outcome.ts';
import type { Plan, SecretAction } from './plan.ts';
import { nextStatus, type ReferenceStatus } from './status.ts';

const now = Date.parse('2026-11-30T12:00:00Z');
const target = 'warehouse-credentials';
const etl = {
  name: 'etl',
  uid: 'uid-etl',
  startTime: '2026-11-30T11:59:00Z',
  expiresAt: '2026-11-30T13:59:00Z',
};

function plan(action: SecretAction, overrides: Partial<Plan> = {}): Plan {
  return {
    action,
    consuming: [etl],
    refused: [],
    ended: [],
    ownerReferences: [],
    foreignPods: [],
    ownersChanged: false,
    recheckAfterMs: 300_000,
    expired: [],
    jobStarts: [],
    retire: [],
    expiresAt: etl.expiresAt,
    managedSecret: { name: target },
    ...overrides,
  };
}

/** The status of a reference whose Job already held the Secret. */
const holding: ReferenceStatus = {
  consumingJobs: [etl],
  remoteVersions: [{ name: 'warehouse', version: 'v1' }],
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Materialized',
      message: '',
      lastTransitionTime: '2026-11-30T11:59:00Z',
    },
  ],
};

const statusOf = (action: SecretAction, outcome: Outcome, previous: ReferenceStatus = {}) =>
  nextStatus(plan(action), outcome, {
    now,
    generation: 1,
    targetName: target,
    store: { state: 'ready' },
    previous,
  });

const failed: Outcome = {
  kind: 'failed',
  reason: 'RemoteValueInvalid',
  message: 'remote secret "bulk" has the key "my key", which cannot be a Secret key',
  retryable: false,
};
const gone: Outcome = { kind: 'gone' };
const written = (created: boolean): Outcome => ({
  kind: 'written',
  created,
  uid: created ? 'uid-secret' : undefined,
  remoteVersions: { warehouse: 'v2' },
  fingerprint: 'hmac-sha256:ab',
  writtenAt: '2026-11-30T12:00:00.000Z',
  effect: {
    kind: created ? 'created' : 'replaced',
    secret: { name: target, uid: 'uid-secret' },
    time: '2026-11-30T12:00:00.000Z',
    grants: [],
  },
});

describe('status while a consuming Job runs', () => {
  it.each<SecretAction>(['create', 'rewrite', 'refresh', 'update-owners'])(
    'is never Ready after %s was met by a Secret deleted first (nothing written), nor names the Job as served',
    (action) => {
      const status = statusOf(action, gone, holding);
      expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'SecretGone' });
      expect(status.consumingJobCount).toBe(0);
    },
  );

  it.each<SecretAction>(['create', 'rewrite', 'refresh'])('is never Ready after %s failed', (action) => {
    const status = statusOf(action, failed);
    expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'RemoteValueInvalid' });
    expect(status.conditions?.[0]?.message).toContain('"my key"');
  });

  it('counts no consuming Job while a failed create left it without a Secret', () => {
    const status = statusOf('create', failed);
    expect(status.consumingJobCount).toBe(0);
    expect(status.secretName).toBe(target);
  });

  it('is Ready with the Job named only once the API server confirmed the create', () => {
    const status = statusOf('create', written(true));
    expect(status.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Materialized' });
    expect(status.managedSecret?.uid).toBe('uid-secret');
    expect(status.consumingJobCount).toBe(1);
  });
});

describe('status after a write it did not record', () => {
  it('names the versions and write time the held Secret carries, not the ones status last recorded', () => {
    const status = nextStatus(
      plan('keep'),
      { kind: 'idle' },
      {
        now,
        generation: 1,
        targetName: target,
        store: { state: 'ready' },
        previous: holding,
        held: { remoteVersions: { warehouse: 'v2' }, writtenAt: '2026-11-30T11:59:30.000Z' },
      },
    );
    expect(status.remoteVersions).toEqual([{ name: 'warehouse', version: 'v2' }]);
    expect(status.writtenAt).toBe('2026-11-30T11:59:30.000Z');
  });

  it("keeps what status recorded when the held copy is older (a cache behind the operator's own write)", () => {
    const recorded = { ...holding, writtenAt: '2026-11-30T11:59:45.000Z' };
    const status = nextStatus(
      plan('keep'),
      { kind: 'idle' },
      {
        now,
        generation: 1,
        targetName: target,
        store: { state: 'ready' },
        previous: recorded,
        held: { remoteVersions: { warehouse: 'v0' }, writtenAt: '2026-11-30T11:59:30.000Z' },
      },
    );
    expect(status.remoteVersions).toEqual(holding.remoteVersions);
    expect(status.writtenAt).toBe('2026-11-30T11:59:45.000Z');
  });
});

describe('first starts seen while a reconcile wrote', () => {
  const etlStart = { name: 'etl', uid: 'uid-etl', firstStartTime: etl.startTime };
  const load = { name: 'load', uid: 'uid-load', firstStartTime: '2026-11-30T11:59:58.000Z' };

  it('records them with the status after the write, without listing those Jobs as consuming', () => {
    const status = nextStatus(plan('create', { jobStarts: [etlStart] }), written(true), {
      now,
      generation: 1,
      targetName: target,
      store: { state: 'ready' },
      previous: {},
      startsSincePlan: [load, { ...etlStart, firstStartTime: '2026-11-30T11:59:59.000Z' }],
    });
    // The next reconcile finds the start recorded, so it writes the Secret with no status write before it.
    expect(status.jobStarts).toEqual([etlStart, load]);
    // Access is granted only by a confirmed write: the Job that started later is not consuming yet.
    expect(status.consumingJobs?.map((job) => job.name)).toEqual(['etl']);
    expect(status.consumingJobCount).toBe(1);
  });
});

describe('a remote outside the store’s remoteAccess', () => {
  it('is reported as RemoteNotAllowed with the judgement’s message, not as StoreNotAllowed', () => {
    const store = {
      state: 'not-allowed',
      reason: 'RemoteNotAllowed',
      message: 'reach "platform/root"',
    } as const;
    const status = nextStatus(
      plan('none', { consuming: [] }),
      { kind: 'idle' },
      {
        now,
        generation: 1,
        targetName: target,
        store,
        previous: {},
      },
    );
    expect(status.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'RemoteNotAllowed',
      message: 'reach "platform/root"',
    });
  });
});

describe('the Stalled condition Flux and Argo CD read', () => {
  const denied: Outcome = {
    kind: 'failed',
    reason: 'AccessDenied',
    message: 'the store refused',
    retryable: false,
  };
  const unavailable: Outcome = {
    kind: 'failed',
    reason: 'StoreUnavailable',
    message: 'timeout',
    retryable: true,
  };

  it('stands beside Ready=False, at the same generation, when the failure needs a person', () => {
    const status = statusOf('create', denied);
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'AccessDenied',
        observedGeneration: 1,
      }),
      expect.objectContaining({
        type: 'Stalled',
        status: 'True',
        reason: 'AccessDenied',
        observedGeneration: 1,
      }),
    ]);
  });

  it('is absent while the operator retries a failure that may clear on its own', () => {
    const status = statusOf('create', unavailable);
    expect(status.conditions?.map((condition) => condition.type)).toEqual(['Ready']);
  });

  it('is removed once the reference recovers', () => {
    const stalled = statusOf('create', denied);
    const recovered = statusOf('create', written(true), stalled);
    expect(recovered.conditions?.map((condition) => condition.type)).toEqual(['Ready']);
  });
});
