import type { V1Job, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildSecret } from './managed-secret.ts';
import {
  expiryGraceMs,
  jitteredRefreshMs,
  type PlanInput,
  planReference,
  type ReferenceFacts,
} from './plan.ts';

const hour = 3_600_000;
const now = Date.parse('2026-11-23T12:00:00Z');

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
    managedSecret: { name: 'warehouse-credentials', uid: 'uid-secret' },
    jobStarts: {},
    retiredSecrets: [],
    ...overrides,
  };
}

function job(
  name: string,
  options: { labels?: Record<string, string>; startedAgoMs?: number; done?: string } = {},
) {
  const started = new Date(now - (options.startedAgoMs ?? 60_000));
  const value: V1Job = {
    metadata: { name, namespace: 'etl', uid: `uid-${name}`, creationTimestamp: started },
    spec: { template: { metadata: { labels: options.labels ?? { app: 'dbt' } }, spec: { containers: [] } } },
    status: {
      startTime: started,
      conditions: options.done ? [{ type: options.done, status: 'True' }] : [],
    },
  };
  return value;
}

function managedSecret(owners: string[], contentHash = 'hash-1', uid = 'uid-secret'): V1Secret {
  const secret = buildSecret({
    namespace: 'etl',
    name: 'warehouse-credentials',
    referenceName: 'warehouse',
    type: 'Opaque',
    labels: {},
    annotations: {},
    data: {},
    contentHash,
    fingerprint: 'hmac-sha256:00',
    store: 'SecretStore/aws',
    remoteVersions: { 'prod/warehouse': 'v1' },
    writtenAt: new Date(now - 60_000).toISOString(),
    ownerReferences: owners.map((name) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name,
      uid: `uid-${name}`,
    })),
  });
  secret.metadata!.uid = uid;
  return secret;
}

function plan(input: Partial<PlanInput>) {
  return planReference({ now, reference: reference(), store: { state: 'ready' }, jobs: [], ...input });
}

describe('planReference', () => {
  it('creates the Secret when the first consuming Job appears, owned by that Job', () => {
    const result = plan({ jobs: [job('nightly-1')] });
    expect(result.action).toBe('create');
    expect(result.consuming.map((j) => j.name)).toEqual(['nightly-1']);
    expect(result.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'nightly-1', uid: 'uid-nightly-1' },
    ]);
  });

  it('gives a Job whose labels do not match consumers nothing, and reports why', () => {
    const result = plan({ jobs: [job('intruder', { labels: { app: 'crypto-miner' } })] });
    expect(result.action).toBe('none');
    expect(result.refused).toEqual([
      { name: 'intruder', uid: 'uid-intruder', reason: 'pod template label app is not "dbt"' },
    ]);
  });

  it('keeps one Secret for two concurrent Jobs, owned by both, until the later one expires', () => {
    const result = plan({
      jobs: [job('a', { startedAgoMs: 50 * 60_000 }), job('b', { startedAgoMs: 10 * 60_000 })],
      secret: managedSecret(['a', 'b']),
      lastRefreshCheckAt: now - 60_000,
    });
    expect(result.action).toBe('keep');
    expect(result.ownerReferences.map((o) => o.name)).toEqual(['a', 'b']);
    expect(result.expiresAt).toBe(new Date(now + 50 * 60_000).toISOString());
    // Comes back when the first Job's ttl ends, before the next refresh would be due.
    expect(result.requeueAfterMs).toBe(4 * 60_000);
  });

  it('revokes the Secret when the last consuming Job completes', () => {
    const result = plan({
      jobs: [job('nightly-1', { done: 'Complete' })],
      secret: managedSecret(['nightly-1']),
      reference: reference({
        previouslyConsuming: [
          {
            name: 'nightly-1',
            uid: 'uid-nightly-1',
            startTime: '',
            expiresAt: new Date(now + hour).toISOString(),
          },
        ],
      }),
    });
    expect(result.action).toBe('delete');
    expect(result.ended).toEqual([{ job: { name: 'nightly-1', uid: 'uid-nightly-1' }, cause: 'Revoked' }]);
  });

  it("records the end of a Job the Secret grants that status missed (its write was cut off), not an owner's nobody granted", () => {
    // `b` was granted by a Secret write whose status write the API server never confirmed; `c` was added as an
    // owner by someone else (no first start recorded for it).
    const secret = managedSecret(['a', 'b', 'c']);
    const result = plan({
      jobs: [job('a'), job('b', { done: 'Complete' }), job('c', { done: 'Complete' })],
      secret,
      lastRefreshCheckAt: now,
      reference: reference({
        previouslyConsuming: [
          { name: 'a', uid: 'uid-a', startTime: '', expiresAt: new Date(now + hour).toISOString() },
        ],
        jobStarts: { 'uid-a': now - 60_000, 'uid-b': now - 60_000 },
      }),
    });
    expect(result.action).toBe('update-owners');
    expect(result.ended).toEqual([{ job: { name: 'b', uid: 'uid-b' }, cause: 'Revoked' }]);
  });

  it.each(['Failed', 'FailureTarget', 'SuccessCriteriaMet'])(
    'treats a %s Job as no longer consuming',
    (condition) => {
      expect(plan({ jobs: [job('j', { done: condition })], secret: managedSecret(['j']) }).action).toBe(
        'delete',
      );
    },
  );

  it('expires access once a Job is older than the ttl, and says it expired', () => {
    const result = plan({
      jobs: [job('slow', { startedAgoMs: hour + 1 })],
      secret: managedSecret(['slow']),
      reference: reference({
        previouslyConsuming: [
          { name: 'slow', uid: 'uid-slow', startTime: '', expiresAt: new Date(now - 1).toISOString() },
        ],
      }),
    });
    expect(result.action).toBe('delete');
    expect(result.ended).toEqual([{ job: { name: 'slow', uid: 'uid-slow' }, cause: 'Expired' }]);
  });

  it('deletes the Secret when the SecretReference is being deleted, even with Jobs running', () => {
    const result = plan({
      jobs: [job('a')],
      secret: managedSecret(['a']),
      reference: reference({ deleting: true }),
    });
    expect(result.action).toBe('delete');
  });

  it('never overwrites or deletes a Secret of the same name that it does not manage', () => {
    const foreign: V1Secret = { metadata: { name: 'warehouse-credentials', namespace: 'etl' }, data: {} };
    expect(plan({ jobs: [job('a')], secret: foreign }).action).toBe('conflict');
    expect(plan({ jobs: [], secret: foreign }).action).toBe('conflict');
    expect(plan({ jobs: [job('a')], secret: foreign, reference: reference({ deleting: true }) }).action).toBe(
      'none',
    );
  });

  it('keeps an existing Secret through a store outage while Jobs are entitled, but creates none', () => {
    const missing = { state: 'missing', message: 'SecretStore "aws" not found' } as const;
    expect(plan({ jobs: [job('a')], secret: managedSecret(['a']), store: missing }).action).toBe('keep');
    expect(plan({ jobs: [job('a')], secret: managedSecret([]), store: missing }).action).toBe(
      'update-owners',
    );
    expect(plan({ jobs: [job('a')], store: missing }).action).toBe('none');
  });

  it('revokes at once when the store stops admitting the namespace', () => {
    const result = plan({
      jobs: [job('a')],
      secret: managedSecret(['a']),
      store: { state: 'not-allowed', message: 'namespace etl is not allowed' },
    });
    expect(result.action).toBe('delete');
  });

  it('revokes at once when the store stops letting the namespace reach a remote the reference names', () => {
    const refused = {
      state: 'not-allowed',
      reason: 'RemoteNotAllowed',
      message: 'not platform/root',
    } as const;
    const result = plan({ jobs: [job('a')], secret: managedSecret(['a']), store: refused });
    expect(result.action).toBe('delete');
    expect(result.consuming).toEqual([]);
    expect(plan({ jobs: [job('a')], store: refused }).action).toBe('none');
  });

  it('checks the remote versions every refreshInterval, and rewrites at once when the content definition changes', () => {
    const secret = managedSecret(['a']);
    expect(plan({ jobs: [job('a')], secret, lastRefreshCheckAt: now - 5 * 60_000 }).action).toBe('refresh');
    expect(plan({ jobs: [job('a')], secret }).action).toBe('refresh');
    expect(plan({ jobs: [job('a')], secret, lastRefreshCheckAt: now - 1000 }).action).toBe('keep');
    expect(
      plan({
        jobs: [job('a')],
        secret,
        lastRefreshCheckAt: now - 1000,
        reference: reference({ contentHash: 'hash-2' }),
      }).action,
    ).toBe('rewrite');
  });

  it('updates owners without touching content when a second Job starts', () => {
    const result = plan({
      jobs: [job('a'), job('b')],
      secret: managedSecret(['a']),
      lastRefreshCheckAt: now - 1000,
    });
    expect(result.action).toBe('update-owners');
  });

  it('ignores Jobs being deleted', () => {
    const deleting = job('a');
    deleting.metadata!.deletionTimestamp = new Date(now);
    expect(plan({ jobs: [deleting], secret: managedSecret(['a']) }).action).toBe('delete');
  });

  it('only admits listed ServiceAccounts when consumers names them', () => {
    const consumers = { matchLabels: { app: 'dbt' }, serviceAccountNames: ['dbt-runner'] };
    const runner = job('ok');
    runner.spec!.template.spec!.serviceAccountName = 'dbt-runner';
    const result = plan({ jobs: [runner, job('default-sa')], reference: reference({ consumers }) });
    expect(result.consuming.map((j) => j.name)).toEqual(['ok']);
    expect(result.refused[0]?.reason).toContain('ServiceAccount "default"');
  });
});

describe('planReference with pods that refer to the target', () => {
  const podOf = (name: string, controllerJobUid?: string) => ({
    name,
    uid: `pod-uid-${name}`,
    ...(controllerJobUid ? { controllerJobUid } : {}),
  });

  it('writes nothing while a bare pod waits for the Secret, and names the pod', () => {
    const result = plan({ jobs: [job('nightly-1')], pods: [podOf('early-reader')] });
    expect(result.action).toBe('refuse');
    expect(result.foreignPods).toEqual([{ name: 'early-reader', uid: 'pod-uid-early-reader' }]);
    expect(result.consuming.map((j) => j.name)).toEqual(['nightly-1']);
  });

  it("creates the Secret when the only pods are the consuming Job's own", () => {
    const result = plan({ jobs: [job('nightly-1')], pods: [podOf('nightly-1-abcde', 'uid-nightly-1')] });
    expect(result.action).toBe('create');
    expect(result.foreignPods).toEqual([]);
  });

  it("keeps the Secret while a new Job's pod is seen before its start is: the pod is that Job's own", () => {
    // Resumed from a queue: until the Job controller records its start, the Job is not served, but its pods
    // are its own.
    const starting = job('nightly-2');
    starting.status = { conditions: [{ type: 'Suspended', status: 'False', reason: 'JobResumed' }] };
    const result = plan({
      reference: reference({
        previouslyConsuming: [
          {
            name: 'nightly-1',
            uid: 'uid-nightly-1',
            startTime: new Date(now - 60_000).toISOString(),
            expiresAt: new Date(now - 60_000 + hour).toISOString(),
          },
        ],
      }),
      jobs: [job('nightly-1'), starting],
      secret: managedSecret(['nightly-1']),
      lastRefreshCheckAt: now,
      pods: [podOf('nightly-1-abcde', 'uid-nightly-1'), podOf('nightly-2-fghij', 'uid-nightly-2')],
    });
    expect(result.foreignPods).toEqual([]);
    expect(result.action).toBe('keep');
    expect(result.consuming.map((j) => j.name)).toEqual(['nightly-1']);
  });

  it('counts a pod controlled by a Job that does not match consumers as foreign', () => {
    const result = plan({
      jobs: [job('nightly-1'), job('intruder', { labels: { app: 'crypto-miner' } })],
      pods: [podOf('intruder-xyz', 'uid-intruder'), podOf('nightly-1-abcde', 'uid-nightly-1')],
    });
    expect(result.action).toBe('refuse');
    expect(result.foreignPods.map((p) => p.name)).toEqual(['intruder-xyz']);
  });

  it('counts a pod controlled by a Job that does not refer to the target as foreign', () => {
    const result = plan({ jobs: [job('nightly-1')], pods: [podOf('other-job-pod', 'uid-unrelated')] });
    expect(result.action).toBe('refuse');
  });

  it('deletes a Secret it already wrote, and records the revocation, once a foreign pod appears', () => {
    const result = plan({
      reference: reference({
        previouslyConsuming: [
          {
            name: 'nightly-1',
            uid: 'uid-nightly-1',
            startTime: new Date(now - 60_000).toISOString(),
            expiresAt: new Date(now - 60_000 + hour).toISOString(),
          },
        ],
      }),
      jobs: [job('nightly-1')],
      secret: managedSecret(['nightly-1']),
      lastRefreshCheckAt: now,
      pods: [podOf('early-reader')],
    });
    expect(result.action).toBe('delete');
    expect(result.ended).toEqual([
      { job: { name: 'nightly-1', uid: 'uid-nightly-1' }, cause: 'Revoked', reason: 'ForeignPodUsesTarget' },
    ]);
  });

  it('does not report pods while no Job is entitled: nothing would be written anyway', () => {
    const result = plan({ jobs: [], pods: [podOf('early-reader')] });
    expect(result.action).toBe('none');
    expect(result.foreignPods).toEqual([]);
  });

  it('leaves a foreign Secret of the target name alone and reports the conflict, not the pods', () => {
    const foreignSecret: V1Secret = { metadata: { name: 'warehouse-credentials', namespace: 'etl' } };
    const result = plan({ jobs: [job('nightly-1')], secret: foreignSecret, pods: [podOf('its-own-user')] });
    expect(result.action).toBe('conflict');
    expect(result.foreignPods).toEqual([]);
  });
});

describe('planReference: ownership by recorded uid', () => {
  it('claims the target before the first create, and trusts only the Secret whose uid it recorded', () => {
    const fresh = plan({ jobs: [job('a')], reference: reference({ managedSecret: undefined }) });
    expect(fresh.action).toBe('create');
    expect(fresh.managedSecret).toEqual({ name: 'warehouse-credentials' });
    expect(plan({ jobs: [job('a')], secret: managedSecret(['a']), lastRefreshCheckAt: now }).action).toBe(
      'keep',
    );
  });

  it.each([
    ['no uid was ever recorded', reference({ managedSecret: { name: 'warehouse-credentials' } })],
    [
      'another uid was recorded',
      reference({ managedSecret: { name: 'warehouse-credentials', uid: 'other' } }),
    ],
    ['nothing was claimed', reference({ managedSecret: undefined })],
  ])('treats a Secret with the managed labels and content hash as a conflict when %s', (_, facts) => {
    const planted = managedSecret([], 'hash-1', 'uid-planted');
    const result = plan({ jobs: [job('a')], secret: planted, reference: facts });
    expect(result.action).toBe('conflict');
    expect(result.conflictingUid).toBe('uid-planted');
    expect(result.ownerReferences.map((o) => o.name)).toEqual(['a']);
  });

  it('never deletes a planted Secret, whether or not a Job is entitled, even when the reference is deleted', () => {
    const planted = managedSecret([], 'hash-1', 'uid-planted');
    expect(plan({ jobs: [], secret: planted }).action).toBe('conflict');
    expect(plan({ jobs: [job('a')], secret: planted, reference: reference({ deleting: true }) }).action).toBe(
      'none',
    );
  });

  it('claims a target as soon as a live read shows it free, and never from the cache alone', () => {
    const unclaimed = reference({ managedSecret: undefined });
    expect(plan({ reference: unclaimed, secretReadLive: true }).managedSecret).toEqual({
      name: 'warehouse-credentials',
    });
    expect(plan({ reference: unclaimed }).managedSecret).toBeUndefined();
    const foreign: V1Secret = { metadata: { name: 'warehouse-credentials', namespace: 'etl', uid: 'x' } };
    expect(
      plan({ reference: unclaimed, secret: foreign, secretReadLive: true }).managedSecret,
    ).toBeUndefined();
  });

  it('keeps the claim but forgets the uid once its Secret is revoked or gone', () => {
    expect(plan({ jobs: [], secret: managedSecret([]) }).managedSecret).toEqual({
      name: 'warehouse-credentials',
    });
    expect(plan({ jobs: [] }).managedSecret).toEqual({ name: 'warehouse-credentials' });
  });
});

describe('planReference: two references, one target', () => {
  const rival = (name: string, createdAt: string, uid = `uid-${name}`) => ({ name, uid, createdAt });

  it.each([
    ['created earlier', rival('original', '2026-10-01T00:00:00.000Z'), 'TargetClaimed'],
    [
      'created in the same second with a smaller uid',
      rival('twin', '2026-11-01T00:00:00.000Z', 'uid-a'),
      'TargetClaimed',
    ],
    ['created later', rival('latecomer', '2026-11-02T00:00:00.000Z'), undefined],
    [
      'created in the same second with a larger uid',
      rival('twin', '2026-11-01T00:00:00.000Z', 'uid-z'),
      undefined,
    ],
  ])('lets only the oldest act when the other reference was %s', (_, other, reason) => {
    const result = plan({
      jobs: [job('a')],
      rivals: [other],
      reference: reference({ managedSecret: undefined }),
    });
    expect(result.standstill?.reason).toBe(reason);
    expect(result.action).toBe(reason ? 'none' : 'create');
    if (reason) {
      expect(result.standstill?.message).toContain(other.name);
      expect(result.consuming).toEqual([]);
      expect(result.managedSecret).toBeUndefined();
    }
  });

  it('revokes what a younger reference still holds once an older one names the same target', () => {
    const result = plan({
      jobs: [job('a')],
      secret: managedSecret(['a']),
      rivals: [rival('original', '2026-10-01T00:00:00.000Z')],
    });
    expect(result.action).toBe('delete');
  });
});

describe('planReference: refused namespaces', () => {
  it('serves no Job in kube-system, and says why', () => {
    const result = plan({ jobs: [job('a')], reference: reference({ namespace: 'kube-system' }) });
    expect(result.action).toBe('none');
    expect(result.standstill?.reason).toBe('NamespaceRefused');
  });
});

describe('planReference: ttl counted from the first start', () => {
  it('gives a Job created suspended nothing, and records no start for it', () => {
    const queued = job('queued');
    queued.spec!.suspend = true;
    queued.status = {};
    expect(plan({ jobs: [queued] }).action).toBe('none');
    expect(plan({ jobs: [queued] }).jobStarts).toEqual([]);
  });

  it('serves a Job the Job controller has not synced yet from its creation, and records that as its start', () => {
    const pending = job('pending', { startedAgoMs: 5_000 });
    pending.status = {};
    const result = plan({ jobs: [pending], secret: undefined });
    expect(result.action).toBe('create');
    const created = now - 5_000;
    expect(result.consuming).toEqual([
      {
        name: 'pending',
        uid: 'uid-pending',
        startTime: new Date(created).toISOString(),
        expiresAt: new Date(created + hour).toISOString(),
      },
    ]);
    expect(result.jobStarts).toEqual([
      { name: 'pending', uid: 'uid-pending', firstStartTime: new Date(created).toISOString() },
    ]);
  });

  it('gives a Job not synced yet nothing once its ttl would have passed since its creation', () => {
    const late = job('late', { startedAgoMs: 2 * hour });
    late.status = {};
    expect(plan({ jobs: [late] }).action).toBe('none');
    expect(plan({ jobs: [late] }).jobStarts).toEqual([]);
  });

  it.each([
    [
      'was suspended (a queue may have held it for hours)',
      (pending: V1Job) => {
        pending.status = { conditions: [{ type: 'Suspended', status: 'False', reason: 'JobResumed' }] };
      },
    ],
    [
      'is run by another controller (spec.managedBy)',
      (pending: V1Job) => {
        pending.spec!.managedBy = 'kueue.x-k8s.io/multikueue';
      },
    ],
  ])('waits for the start of a Job that %s', (_, shape) => {
    const pending = job('pending', { startedAgoMs: 5_000 });
    pending.status = {};
    shape(pending);
    expect(plan({ jobs: [pending] }).action).toBe('none');
    expect(plan({ jobs: [pending] }).jobStarts).toEqual([]);
  });

  it('keeps counting ttl from the creation it recorded once the Job controller records a later start', () => {
    const created = now - 10 * 60_000;
    const started = job('started', { startedAgoMs: 9 * 60_000 });
    const result = plan({
      jobs: [started],
      secret: managedSecret(['started']),
      reference: reference({ jobStarts: { 'uid-started': created } }),
    });
    expect(result.consuming[0]?.expiresAt).toBe(new Date(created + hour).toISOString());
  });

  it('revokes at once when a consuming Job is suspended, and remembers its first start', () => {
    const paused = job('paused', { startedAgoMs: 10 * 60_000 });
    paused.spec!.suspend = true;
    const firstStart = now - 10 * 60_000;
    const result = plan({
      jobs: [paused],
      secret: managedSecret(['paused']),
      reference: reference({
        jobStarts: { 'uid-paused': firstStart },
        previouslyConsuming: [
          {
            name: 'paused',
            uid: 'uid-paused',
            startTime: new Date(firstStart).toISOString(),
            expiresAt: new Date(firstStart + hour).toISOString(),
          },
        ],
      }),
    });
    expect(result.action).toBe('delete');
    expect(result.ended).toEqual([{ job: { name: 'paused', uid: 'uid-paused' }, cause: 'Revoked' }]);
    expect(result.jobStarts).toEqual([
      { name: 'paused', uid: 'uid-paused', firstStartTime: new Date(firstStart).toISOString() },
    ]);
  });

  it('counts ttl from the recorded first start after a resume resets status.startTime', () => {
    const resumed = job('resumed', { startedAgoMs: 60_000 });
    const firstStart = now - hour - 1;
    const result = plan({
      jobs: [resumed],
      reference: reference({ jobStarts: { 'uid-resumed': firstStart } }),
    });
    expect(result.action).toBe('none');
    expect(result.consuming).toEqual([]);
  });

  it('takes the start a status without first starts recorded for a consuming Job', () => {
    const resumed = job('resumed', { startedAgoMs: 60_000 });
    const started = new Date(now - hour - 1).toISOString();
    const previouslyConsuming = [{ name: 'resumed', uid: 'uid-resumed', startTime: started, expiresAt: '' }];
    const result = plan({ jobs: [resumed], reference: reference({ previouslyConsuming }) });
    expect(result.consuming).toEqual([]);
    expect(result.jobStarts).toEqual([{ name: 'resumed', uid: 'uid-resumed', firstStartTime: started }]);
  });

  it('never lets a start time edited into the future lengthen the first entitlement', () => {
    const forged = job('forged', { startedAgoMs: -hour });
    const result = plan({ jobs: [forged] });
    expect(result.consuming[0]?.expiresAt).toBe(new Date(now + hour).toISOString());
    expect(result.jobStarts).toEqual([
      { name: 'forged', uid: 'uid-forged', firstStartTime: new Date(now).toISOString() },
    ]);
  });

  it('prunes the first start of a Job that no longer exists or has finished', () => {
    const result = plan({
      jobs: [job('a'), job('done', { done: 'Complete' })],
      reference: reference({ jobStarts: { 'uid-gone': now - 1000, 'uid-done': now - 1000 } }),
    });
    expect(result.jobStarts.map((start) => start.uid)).toEqual(['uid-a']);
  });
});

describe('planReference: the refresh decision', () => {
  const minute = 60_000;
  const interval = 5 * minute;
  // One Job started a minute ago with a one-hour ttl: its expiry is 59 minutes away, never the first visit.
  const holding = { jobs: [job('a')], secret: managedSecret(['a']) };

  it.each([
    // [case, last successful check, contentHash, owners on the Secret, action, next visit after success]
    [
      'no check has succeeded yet (a restart, or a failed check)',
      undefined,
      'hash-1',
      ['a'],
      'refresh',
      interval,
    ],
    ['the interval has just passed', now - interval, 'hash-1', ['a'], 'refresh', interval],
    ['long overdue', now - hour, 'hash-1', ['a'], 'refresh', interval],
    ['checked a second ago', now - 1000, 'hash-1', ['a'], 'keep', interval - 1000],
    [
      'checked 4 minutes ago, owners changed',
      now - 4 * minute,
      'hash-1',
      ['a', 'b'],
      'update-owners',
      minute,
    ],
    ['checked a second ago, content definition changed', now - 1000, 'hash-2', ['a'], 'rewrite', interval],
  ] as const)('when %s', (_, lastRefreshCheckAt, contentHash, owners, action, requeueAfterMs) => {
    const result = plan({
      ...holding,
      secret: managedSecret([...owners]),
      lastRefreshCheckAt,
      reference: reference({ contentHash }),
    });
    expect(result.action).toBe(action);
    expect(result.requeueAfterMs).toBe(requeueAfterMs);
  });

  it('says the owners changed only when the Secret it manages is owned by other Jobs than the consuming ones', () => {
    expect(plan({ ...holding, lastRefreshCheckAt: now }).ownersChanged).toBe(false);
    expect(
      plan({ ...holding, secret: managedSecret(['a', 'gone']), lastRefreshCheckAt: now }).ownersChanged,
    ).toBe(true);
    expect(plan({ jobs: [job('a')] }).ownersChanged).toBe(false);
  });

  it('does not refresh from a store that cannot be used now: only the owners are kept in line', () => {
    const result = plan({
      ...holding,
      secret: managedSecret(['a', 'b']),
      store: { state: 'invalid', message: 'bad spec' },
    });
    expect(result.action).toBe('update-owners');
  });

  it('comes back an interval on, not at once, when a due refresh cannot be made from a store that cannot be used', () => {
    // The last check (or, after a restart, the last write) is long past: without a usable store the refresh
    // stays due, and coming back "when it is due" would be at once, again and again.
    for (const state of [
      { state: 'missing', message: 'no such store' },
      { state: 'invalid', message: 'bad spec' },
    ] as const) {
      const result = plan({ ...holding, lastRefreshCheckAt: now - 2 * hour, store: state });
      expect(result.action).toBe('keep');
      expect(result.requeueAfterMs).toBe(interval);
    }
  });

  it('comes back a little after the first expiry when it is before the next refresh, never jittered', () => {
    const result = plan({
      jobs: [job('a', { startedAgoMs: hour - 2 * minute })],
      secret: managedSecret(['a']),
      lastRefreshCheckAt: now,
      refreshJitter: { fraction: 0.5, draw: 0.99 },
    });
    expect(result.requeueAfterMs).toBe(2 * minute + expiryGraceMs);
    expect(result.recheckAfterMs).toBe(2 * minute + expiryGraceMs);
  });

  it('rechecks a failure no retry fixes at the next refresh counted from now, not from the last check', () => {
    const result = plan({ ...holding, lastRefreshCheckAt: now - 4 * minute });
    expect(result.action).toBe('keep');
    expect(result.requeueAfterMs).toBe(minute);
    expect(result.recheckAfterMs).toBe(interval);
    expect(plan({}).recheckAfterMs).toBe(interval);
  });

  it('spreads the next refresh by the injected draw', () => {
    const spread = (draw: number) =>
      plan({ ...holding, lastRefreshCheckAt: now, refreshJitter: { fraction: 0.1, draw } }).requeueAfterMs;
    expect(spread(0)).toBe(interval);
    expect(spread(0.5)).toBe(interval - 0.05 * interval);
    expect(spread(0.999)).toBe(Math.round(interval - 0.0999 * interval));
  });
});

describe('jitteredRefreshMs', () => {
  const interval = 300_000;
  it.each([
    // [due in, fraction, draw, expected]
    [interval, 0, 0.7, interval],
    [interval, 0.1, 0, interval],
    [interval, 0.1, 1, interval - 30_000],
    [interval, 1, 1, 0],
    [10_000, 0.1, 1, 0],
    [0, 0.5, 0.5, 0],
    [-5_000, 0.1, 0, 0],
    [interval, 2, 1, 0],
    [interval, -1, 1, interval],
    [interval, 0.1, 7, interval - 30_000],
  ])('due in %i ms, fraction %d, draw %d: %i ms', (dueInMs, fraction, draw, expected) => {
    expect(jitteredRefreshMs(dueInMs, interval, { fraction, draw })).toBe(expected);
  });

  it('is exact without jitter', () => {
    expect(jitteredRefreshMs(interval, interval)).toBe(interval);
  });

  it('stays within [due - fraction x interval, due] for any draw in [0, 1)', () => {
    for (let step = 0; step < 100; step++) {
      const draw = step / 100;
      const value = jitteredRefreshMs(interval, interval, { fraction: 0.2, draw });
      expect(value).toBeGreaterThanOrEqual(interval - 0.2 * interval);
      expect(value).toBeLessThanOrEqual(interval);
    }
  });
});

describe('planReference: a renamed target and the Secrets it leaves behind', () => {
  const renamed = (overrides: Partial<ReferenceFacts> = {}) =>
    reference({
      targetName: 'warehouse-v2',
      secretName: 'warehouse-credentials',
      previouslyConsuming: [
        {
          name: 'old-run',
          uid: 'uid-old-run',
          startTime: new Date(now - 60_000).toISOString(),
          expiresAt: new Date(now + hour).toISOString(),
        },
      ],
      ...overrides,
    });

  it.each([
    {
      case: 'a Job waits for the new name: the old Secret is retired by uid, the new one created and claimed',
      input: { reference: renamed(), jobs: [job('new-run')] },
      action: 'create',
      claim: { name: 'warehouse-v2' },
    },
    {
      case: 'no Job waits for the new name: the old Secret is retired all the same',
      input: { reference: renamed(), jobs: [] },
      action: 'none',
      claim: undefined,
    },
    {
      case: 'the new name is a Secret secretlink did not create: a conflict, and the old one is retired still',
      input: {
        reference: renamed(),
        jobs: [job('new-run')],
        secret: { metadata: { name: 'warehouse-v2', namespace: 'etl', uid: 'uid-foreign' } },
        secretReadLive: true,
      },
      action: 'conflict',
      claim: undefined,
    },
  ])('$case', ({ input, action, claim }) => {
    const result = plan(input);
    expect(result.action).toBe(action);
    expect(result.retire).toEqual([{ name: 'warehouse-credentials', uid: 'uid-secret' }]);
    expect(result.managedSecret).toEqual(claim);
    // The Job that held the old Secret loses it, and the record names that Secret, not the new target.
    expect(result.ended).toEqual([
      { job: { name: 'old-run', uid: 'uid-old-run' }, cause: 'Revoked', secret: 'warehouse-credentials' },
    ]);
  });

  it('keeps a retired Secret until its delete is confirmed, and forgets it once it is', () => {
    const retired = [{ name: 'warehouse-credentials', uid: 'uid-secret' }];
    const pending = plan({ reference: renamed({ managedSecret: undefined, retiredSecrets: retired }) });
    expect(pending.retire).toEqual(retired);
    const done = plan({ reference: renamed({ managedSecret: undefined, retiredSecrets: [] }) });
    expect(done.retire).toEqual([]);
  });

  it('recovers a Secret whose record status lost from its managed labels, but never retires the target', () => {
    const atOldName = { ...managedSecret([], 'hash-1', 'uid-unrecorded') };
    const atTarget = managedSecret([], 'hash-1', 'uid-target');
    atTarget.metadata!.name = 'warehouse-v2';
    const result = plan({
      reference: renamed({ managedSecret: undefined }),
      labelledSecrets: [atOldName, atTarget],
    });
    expect(result.retire).toEqual([{ name: 'warehouse-credentials', uid: 'uid-unrecorded' }]);
  });

  it('retires nothing while the target keeps its name', () => {
    const result = plan({
      jobs: [job('nightly-1')],
      secret: managedSecret(['nightly-1']),
      labelledSecrets: [managedSecret(['nightly-1'])],
      lastRefreshCheckAt: now - 60_000,
    });
    expect(result.action).toBe('keep');
    expect(result.retire).toEqual([]);
  });

  it('revokes what a reference deleted while renamed still holds under both names', () => {
    const result = plan({
      reference: renamed({ deleting: true, managedSecret: { name: 'warehouse-v2', uid: 'uid-v2' } }),
      secret: (() => {
        const secret = managedSecret(['new-run'], 'hash-1', 'uid-v2');
        secret.metadata!.name = 'warehouse-v2';
        return secret;
      })(),
      labelledSecrets: [managedSecret(['old-run'])],
      jobs: [job('new-run')],
    });
    expect(result.action).toBe('delete');
    expect(result.retire).toEqual([{ name: 'warehouse-credentials', uid: 'uid-secret' }]);
  });
});

describe('planReference: a Job whose pods another reference refuses', () => {
  /** A dbt Job whose pods also mount `billing-credentials`, with the given pod-template labels. */
  function alsoMountsBilling(name: string, labels: Record<string, string>): V1Job {
    const value = job(name, { labels });
    value.spec!.template.spec = {
      containers: [],
      volumes: [{ name: 'billing', secret: { secretName: 'billing-credentials' } }],
    };
    return value;
  }
  const billing = (guardedNames: string[]) => ({
    name: 'billing',
    guardedNames,
    consumers: { matchLabels: { team: 'finance' } },
  });

  it.each<{
    case: string;
    labels: Record<string, string>;
    guarded: string[];
    action: string;
    refused: boolean;
  }>([
    {
      case: 'does not match the other reference: refused, no Secret written for it',
      labels: { app: 'dbt' },
      guarded: ['billing-credentials'],
      action: 'none',
      refused: true,
    },
    {
      case: 'matches both references: consumes',
      labels: { app: 'dbt', team: 'finance' },
      guarded: ['billing-credentials'],
      action: 'create',
      refused: false,
    },
    {
      case: 'the other reference has not claimed that name, so no policy guards it: consumes',
      labels: { app: 'dbt' },
      guarded: [],
      action: 'create',
      refused: false,
    },
    {
      case: 'the name is one the other reference retired and has not deleted yet: refused',
      labels: { app: 'dbt' },
      guarded: ['billing-credentials', 'billing-v2'],
      action: 'none',
      refused: true,
    },
  ])('a Job that $case', ({ labels, guarded, action, refused }) => {
    const result = plan({ jobs: [alsoMountsBilling('mixed', labels)], neighbours: [billing(guarded)] });
    expect(result.action).toBe(action);
    if (refused) {
      expect(result.consuming).toEqual([]);
      expect(result.ownerReferences).toEqual([]);
      expect(result.refused).toEqual([
        {
          name: 'mixed',
          uid: 'uid-mixed',
          reason:
            'its pods also refer to Secret billing-credentials of SecretReference billing and do not match ' +
            'that reference\'s consumers (pod template label team is not "finance"), so the pod admission ' +
            'policy refuses them',
        },
      ]);
    } else {
      expect(result.consuming.map((j) => j.name)).toEqual(['mixed']);
      expect(result.refused).toEqual([]);
    }
  });

  it('revokes a Job it served once another reference starts guarding a name its pods refer to', () => {
    const result = plan({
      reference: reference({
        previouslyConsuming: [
          {
            name: 'mixed',
            uid: 'uid-mixed',
            startTime: new Date(now - 60_000).toISOString(),
            expiresAt: new Date(now + hour).toISOString(),
          },
        ],
      }),
      jobs: [alsoMountsBilling('mixed', { app: 'dbt' })],
      secret: managedSecret(['mixed']),
      neighbours: [billing(['billing-credentials'])],
    });
    expect(result.action).toBe('delete');
    expect(result.ended).toEqual([{ job: { name: 'mixed', uid: 'uid-mixed' }, cause: 'Revoked' }]);
  });
});

describe('planReference: a target renamed back before its old Secret was confirmed gone', () => {
  it('takes the retired Secret under the target name as its own again, by uid, and retires the other', () => {
    const result = plan({
      reference: reference({
        managedSecret: { name: 'warehouse-v2', uid: 'uid-v2' },
        retiredSecrets: [{ name: 'warehouse-credentials', uid: 'uid-secret' }],
      }),
      jobs: [job('nightly-1')],
      secret: managedSecret(['nightly-1']),
      lastRefreshCheckAt: now - 60_000,
    });
    expect(result.action).toBe('keep');
    expect(result.managedSecret).toEqual({ name: 'warehouse-credentials', uid: 'uid-secret' });
    expect(result.retire).toEqual([{ name: 'warehouse-v2', uid: 'uid-v2' }]);
  });
});
