// One reconcile against fake cluster and store seams: what it audits and reports follows what the writer
// confirmed, not what the plan asked for.

import type { V1Job, V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { noLeases } from '../../test/support/no-leases.ts';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import type { AuditRecord } from '../audit/types.ts';
import { NotFound, Throttled, Unavailable } from '../providers/errors.ts';
import { RetryableError } from '../runtime/retryable-error.ts';
import { buildSecret, managedAnnotations } from './managed-secret.ts';
import type { SecretWrite } from './outcome.ts';
import { type ClusterView, type ClusterWriter, finalizer, type ValueSource } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import { referenceFacts } from './reference-facts.ts';
import type { ReferenceStatus } from './status.ts';

const now = Date.parse('2026-11-30T12:00:00Z');
const started = new Date(now - 60_000);
const target = 'warehouse';

const store = {
  kind: 'SecretStore',
  metadata: { name: 'vault', namespace: 'etl', uid: 'uid-store', generation: 1 },
  spec: {
    provider: {
      vault: {
        server: 'https://vault.internal:8200',
        auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } },
      },
    },
  },
} as unknown as AnySecretStore;

const job: V1Job = {
  metadata: { name: 'dbt', namespace: 'etl', uid: 'uid-dbt', creationTimestamp: started },
  spec: {
    template: {
      metadata: { labels: { app: 'dbt' } },
      spec: { containers: [{ name: 'dbt', envFrom: [{ secretRef: { name: target } }] }] },
    },
  },
  status: { startTime: started, active: 1 },
};

function reference(status: ReferenceStatus): SecretReference {
  return {
    metadata: {
      name: 'warehouse',
      namespace: 'etl',
      uid: 'uid-warehouse',
      generation: 1,
      resourceVersion: '10',
      finalizers: [finalizer],
      creationTimestamp: new Date(now - 3_600_000),
    },
    spec: {
      storeRef: { name: 'vault' },
      data: [{ key: 'password', remote: { name: 'prod/warehouse', property: 'password' } }],
      consumers: { matchLabels: { app: 'dbt' } },
    },
    status,
  } as unknown as SecretReference;
}

/** Longer ago than the default refreshInterval (5m): the held Secret's refresh is due. */
const writtenLongAgo = new Date(now - 10 * 60_000);

/** The status of a reference whose Job already holds its Secret (uid-secret), written from version v1. */
const holding: ReferenceStatus = {
  observedGeneration: 1,
  secretName: target,
  consumingJobs: [
    { name: 'dbt', uid: 'uid-dbt', startTime: started.toISOString(), expiresAt: '2026-11-30T12:59:00.000Z' },
  ],
  consumingJobCount: 1,
  managedSecret: { name: target, uid: 'uid-secret' },
  jobStarts: [{ name: 'dbt', uid: 'uid-dbt', firstStartTime: started.toISOString() }],
  remoteVersions: [{ name: 'prod/warehouse', version: 'v1' }],
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Materialized',
      message: '',
      lastTransitionTime: started.toISOString(),
    },
  ],
};

function heldSecret(ref: SecretReference, writtenAt = writtenLongAgo): V1Secret {
  const secret = buildSecret({
    namespace: 'etl',
    name: target,
    referenceName: 'warehouse',
    type: 'Opaque',
    labels: {},
    annotations: {},
    data: {},
    contentHash: referenceFacts(ref, store, false, holding).contentHash,
    fingerprint: 'hmac-sha256:00',
    store: 'SecretStore/vault',
    remoteVersions: { 'prod/warehouse': 'v1' },
    writtenAt: writtenAt.toISOString(),
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'dbt', uid: 'uid-dbt' }],
  });
  secret.metadata!.uid = 'uid-secret';
  secret.metadata!.resourceVersion = '5';
  return secret;
}

/** Reconciles once with the Job holding its Secret, a new remote version, and the writer's given answer. */
async function reconcileRefresh(options: { replace?: SecretWrite; read?: () => never; secret?: boolean }) {
  const ref = reference(holding);
  const audit: AuditRecord[] = [];
  const statuses: ReferenceStatus[] = [];
  const replaced: V1Secret[] = [];
  const view: ClusterView = {
    reference: () => ref,
    referencesTargeting: () => [ref],
    referencesGuarding: () => [ref],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: () => (options.secret === false ? undefined : heldSecret(ref)),
    managedSecretsOf: () => [],
    jobsReferencing: () => [job],
    podsReferencing: () => [],
  };
  const writer: ClusterWriter = {
    readSecret: async () => undefined,
    readJob: async () => undefined,
    createSecret: async () => ({ result: 'created', secret: { name: target, uid: 'uid-new' } }),
    replaceSecret: async (secret) => {
      replaced.push(secret);
      return options.replace ?? { result: 'replaced', secret: { name: target, uid: 'uid-secret' } };
    },
    setSecretOwners: async () => ({ result: 'updated', secret: { name: target, uid: 'uid-secret' } }),
    deleteSecret: async () => ({ result: 'deleted', secret: { name: target, uid: 'uid-secret' } }),
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async (_, status) => {
      statuses.push(status);
      return `${11 + statuses.length}`;
    },
  };
  const values: ValueSource = {
    ...noLeases,
    read: async () => {
      options.read?.();
      return { data: { password: Buffer.from('second') }, remoteVersions: { 'prod/warehouse': 'v2' } };
    },
    versions: async () => ({ 'prod/warehouse': 'v2' }),
  };
  const reconciler = new Reconciler({
    view,
    writer,
    values,
    audit: { name: 'memory', write: async (record) => void audit.push(record) },
    fingerprint: () => 'hmac-sha256:11',
    clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  const result = await reconciler.reconcile('etl/warehouse', new AbortController().signal).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const ready = statuses.at(-1)?.conditions?.[0];
  return { result, audit, ready, replaced, statuses };
}

describe('a reconcile reports what the API server confirmed', () => {
  it('audits a refresh the API server confirmed, and stays Ready', async () => {
    const { result, audit, ready, replaced } = await reconcileRefresh({
      replace: { result: 'replaced', secret: { name: target, uid: 'uid-secret' } },
    });
    expect(replaced).toHaveLength(1);
    expect(result).toHaveProperty('value');
    expect(audit.map((record) => [record.action, record.reason])).toEqual([
      ['Refreshed', 'RemoteVersionChanged'],
    ]);
    expect(ready).toMatchObject({ status: 'True', reason: 'Materialized' });
  });

  it('audits no refresh when the Secret vanished before the replace, says so, and retries', async () => {
    const { result, audit, ready, replaced, statuses } = await reconcileRefresh({
      replace: { result: 'gone' },
    });
    expect(replaced).toHaveLength(1);
    expect(audit).toEqual([]);
    expect(ready).toMatchObject({ status: 'False', reason: 'SecretGone' });
    expect(statuses.at(-1)?.consumingJobCount).toBe(0);
    expect((result as { error: unknown }).error).toBeInstanceOf(RetryableError);
  });

  it('reports a Secret the API server refused as a failure, not a refresh', async () => {
    const rejected: SecretWrite = {
      result: 'rejected',
      message: 'replace Secret: the API server refused it',
    };
    const { audit, ready } = await reconcileRefresh({ replace: rejected });
    expect(audit.map((record) => [record.action, record.reason])).toEqual([['Failed', 'RemoteValueInvalid']]);
    expect(ready).toMatchObject({ status: 'False', reason: 'RemoteValueInvalid' });
  });

  it('retries in seconds, not at refreshInterval, while a Job waits for a Secret whose remote is missing', async () => {
    const missing = () => {
      throw new NotFound('remote secret "prod/warehouse" does not exist');
    };
    const { result, ready } = await reconcileRefresh({ secret: false, read: missing });
    expect(ready).toMatchObject({ status: 'False', reason: 'RemoteNotFound' });
    const { requeueAfterMs } = (result as { value: { requeueAfterMs: number } }).value;
    expect(requeueAfterMs).toBeGreaterThan(0);
    expect(requeueAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('retries in seconds while a Job waits and the store is down, not after the queue’s backoff', async () => {
    const down = () => {
      throw new Unavailable('the store did not answer');
    };
    const { result, ready } = await reconcileRefresh({ secret: false, read: down });
    expect(ready).toMatchObject({ status: 'False', reason: 'StoreUnavailable' });
    const { requeueAfterMs } = (result as { value: { requeueAfterMs: number } }).value;
    expect(requeueAfterMs).toBeGreaterThan(0);
    expect(requeueAfterMs).toBeLessThanOrEqual(30_000);
  });
});

/**
 * A reconciler whose Job holds its Secret (written from v1) while the store already has v2; `reads` answers
 * each value read in turn (a function that throws fails it). The clock moves only when the test says so.
 */
function rotatedStore(reads: Array<() => void>, options: { writtenAt?: Date } = {}) {
  const ref = reference(holding);
  const clock = { at: now };
  const replaced: V1Secret[] = [];
  const audit: AuditRecord[] = [];
  let versionChecks = 0;
  const view: ClusterView = {
    reference: () => ref,
    referencesTargeting: () => [ref],
    referencesGuarding: () => [ref],
    store: () => store,
    namespaceLabels: () => ({}),
    // The cache still holds the Secret as written from v1 until a replace succeeds.
    managedSecret: () => replaced.at(-1) ?? heldSecret(ref, options.writtenAt),
    managedSecretsOf: () => [],
    jobsReferencing: () => [job],
    podsReferencing: () => [],
  };
  const writer: ClusterWriter = {
    readSecret: async () => undefined,
    readJob: async () => undefined,
    createSecret: async () => ({ result: 'created', secret: { name: target, uid: 'uid-new' } }),
    replaceSecret: async (secret) => {
      replaced.push({ ...secret, metadata: { ...secret.metadata, uid: 'uid-secret' } });
      return { result: 'replaced', secret: { name: target, uid: 'uid-secret' } };
    },
    setSecretOwners: async () => ({ result: 'updated', secret: { name: target, uid: 'uid-secret' } }),
    deleteSecret: async () => ({ result: 'deleted', secret: { name: target, uid: 'uid-secret' } }),
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async () => '20',
  };
  const values: ValueSource = {
    ...noLeases,
    read: async () => {
      reads.shift()?.();
      return { data: { password: Buffer.from('second') }, remoteVersions: { 'prod/warehouse': 'v2' } };
    },
    versions: async () => {
      versionChecks++;
      return { 'prod/warehouse': 'v2' };
    },
  };
  const reconciler = new Reconciler({
    view,
    writer,
    values,
    audit: { name: 'memory', write: async (record) => void audit.push(record) },
    fingerprint: () => 'hmac-sha256:11',
    clock: { now: () => clock.at, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0.1,
    random: () => 0,
  });
  const reconcile = () =>
    reconciler.reconcile('etl/warehouse', new AbortController().signal).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
  return { reconcile, clock, replaced, audit, versionChecks: () => versionChecks };
}

const throttled = () => {
  throw new Throttled('the store asked to slow down');
};

describe('a refresh is recorded only once it succeeded', () => {
  it('retries a throttled read after a detected rotation with backoff, and writes the new version on the retry', async () => {
    const { reconcile, clock, replaced, audit, versionChecks } = rotatedStore([throttled]);
    const first = await reconcile();
    // Thrown, not a requeue at refreshInterval: the work queue retries a thrown reconcile with its backoff.
    expect((first as { error: unknown }).error).toBeInstanceOf(RetryableError);
    expect(replaced).toEqual([]);

    // The queue's first retries come within seconds; the check was not recorded, so the retry checks again.
    clock.at = now + 2_000;
    const retry = await reconcile();
    expect(retry).toHaveProperty('value');
    expect(versionChecks()).toBe(2);
    expect(replaced).toHaveLength(1);
    expect(managedAnnotations(replaced[0]!).remoteVersions).toEqual({ 'prod/warehouse': 'v2' });
    // The throttled attempt is audited as a failure, the retry as the refresh it was.
    expect(audit.map((record) => [record.action, record.reason])).toEqual([
      ['Failed', 'StoreUnavailable'],
      ['Refreshed', 'RemoteVersionChanged'],
    ]);
  });

  it('records the check time only after success: the next refresh is then a refreshInterval away', async () => {
    const { reconcile, clock, versionChecks } = rotatedStore([throttled, throttled]);
    await reconcile();
    clock.at = now + 1_000;
    await reconcile();
    expect(versionChecks()).toBe(2);

    clock.at = now + 3_000;
    const done = await reconcile();
    expect(versionChecks()).toBe(3);
    // Counted from the successful check, as the plan computed it (jitter draw 0: exactly the interval).
    expect(done).toEqual({ value: { requeueAfterMs: 5 * 60_000 } });

    clock.at = now + 4_000;
    const quiet = await reconcile();
    expect(versionChecks()).toBe(3);
    expect(quiet).toEqual({ value: { requeueAfterMs: 5 * 60_000 - 1_000 } });
  });
});

describe("a restarted operator counts the next refresh from the held Secret's last write", () => {
  it('reads nothing for a Secret written within refreshInterval, and reads once the interval has passed', async () => {
    // A fresh reconciler is a restarted operator: it has checked nothing itself yet.
    const { reconcile, clock, replaced, versionChecks } = rotatedStore([], {
      writtenAt: new Date(now - 60_000),
    });
    const first = await reconcile();
    expect(versionChecks()).toBe(0);
    expect(replaced).toEqual([]);
    // Due 5 minutes after the write (jitter draw 0), so 4 minutes from now.
    expect(first).toEqual({ value: { requeueAfterMs: 4 * 60_000 } });

    clock.at = now + 4 * 60_000;
    await reconcile();
    expect(versionChecks()).toBe(1);
    expect(managedAnnotations(replaced[0]!).remoteVersions).toEqual({ 'prod/warehouse': 'v2' });
  });

  it('takes a write time still to come (an edited annotation) as now: the refresh waits one interval, no more', async () => {
    const { reconcile, clock, versionChecks } = rotatedStore([], {
      writtenAt: new Date(now + 365 * 24 * 3_600_000),
    });
    expect(await reconcile()).toEqual({ value: { requeueAfterMs: 5 * 60_000 } });
    expect(versionChecks()).toBe(0);

    clock.at = now + 5 * 60_000;
    await reconcile();
    expect(versionChecks()).toBe(1);
  });
});

describe('audit records are made once, even when making them fails or the operator stops', () => {
  /** A reconciler over a shared cluster (the Secret as last written) whose audit sink fails while `failing`. */
  function restartable(cluster: { secret: V1Secret; statuses: ReferenceStatus[] }, failing: () => boolean) {
    const ref = reference(holding);
    const audit: AuditRecord[] = [];
    const view: ClusterView = {
      reference: () => ref,
      referencesTargeting: () => [ref],
      referencesGuarding: () => [ref],
      store: () => store,
      namespaceLabels: () => ({}),
      managedSecret: () => cluster.secret,
      managedSecretsOf: () => [],
      jobsReferencing: () => [job],
      podsReferencing: () => [],
    };
    const writer: ClusterWriter = {
      readSecret: async () => cluster.secret,
      readJob: async () => undefined,
      createSecret: async () => ({ result: 'created', secret: { name: target, uid: 'uid-new' } }),
      replaceSecret: async (secret) => {
        cluster.secret = {
          ...secret,
          metadata: { ...secret.metadata, uid: 'uid-secret', resourceVersion: '6' },
        };
        return { result: 'replaced', secret: { name: target, uid: 'uid-secret', resourceVersion: '6' } };
      },
      setSecretOwners: async () => ({ result: 'updated', secret: { name: target, uid: 'uid-secret' } }),
      deleteSecret: async () => ({ result: 'deleted', secret: { name: target, uid: 'uid-secret' } }),
      addFinalizer: async () => {},
      removeFinalizer: async () => {},
      writeStatus: async (_, status) => {
        cluster.statuses.push(status);
        return `${20 + cluster.statuses.length}`;
      },
    };
    const values: ValueSource = {
      ...noLeases,
      read: async () => ({
        data: { password: Buffer.from('second') },
        remoteVersions: { 'prod/warehouse': 'v2' },
      }),
      versions: async () => ({ 'prod/warehouse': 'v2' }),
    };
    const reconciler = new Reconciler({
      view,
      writer,
      values,
      audit: {
        name: 'memory',
        write: async (record) => {
          if (failing()) throw new Error('the audit file cannot be written');
          audit.push(record);
        },
      },
      fingerprint: () => 'hmac-sha256:11',
      clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
      logger: pino({ level: 'silent' }),
      refreshJitter: 0,
    });
    const reconcile = () =>
      reconciler.reconcile('etl/warehouse', new AbortController().signal).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    return { reconcile, audit };
  }

  it('fails the reconcile before status when a record cannot be made, and records it once on the retry', async () => {
    const cluster = { secret: heldSecret(reference(holding)), statuses: [] as ReferenceStatus[] };
    let failing = true;
    const { reconcile, audit } = restartable(cluster, () => failing);
    expect(await reconcile()).toHaveProperty('error');
    expect(managedAnnotations(cluster.secret).remoteVersions).toEqual({ 'prod/warehouse': 'v2' });
    expect(cluster.statuses).toEqual([]);

    failing = false;
    expect(await reconcile()).toHaveProperty('value');
    await reconcile();
    expect(audit.map((record) => [record.action, record.targetSecret.uid])).toEqual([
      ['Refreshed', 'uid-secret'],
    ]);
    // Status, written only now, names the version the Secret was written from, not the one status last knew.
    expect(cluster.statuses.at(-1)?.remoteVersions).toEqual([{ name: 'prod/warehouse', version: 'v2' }]);
  });

  it('records a write a stopped operator made once, from the Secret, and never again', async () => {
    const cluster = { secret: heldSecret(reference(holding)), statuses: [] as ReferenceStatus[] };
    const stopped = restartable(cluster, () => true);
    await stopped.reconcile();
    expect(stopped.audit).toEqual([]);

    const restarted = restartable(cluster, () => false);
    await restarted.reconcile();
    await restarted.reconcile();
    expect(restarted.audit.map((record) => [record.action, record.job?.name, record.reason])).toEqual([
      ['Refreshed', 'dbt', 'RemoteVersionChanged'],
    ]);
    // A third operator emits it again under the same id, which every sink takes as already recorded.
    const again = restartable(cluster, () => false);
    await again.reconcile();
    expect(again.audit.map((record) => record.id)).toEqual(restarted.audit.map((record) => record.id));
  });
});

/** A reconciler whose Job holds its Secret and whose store never answers a version check until aborted. */
function stalledStore() {
  const ref = reference(holding);
  const clock = { at: now };
  const timers: Array<{ at: number; callback: () => void }> = [];
  const jobs: V1Job[] = [job];
  const audit: AuditRecord[] = [];
  const statuses: ReferenceStatus[] = [];
  const deleted: V1Secret[] = [];
  const view: ClusterView = {
    reference: () => ref,
    referencesTargeting: () => [ref],
    referencesGuarding: () => [ref],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: () => (deleted.length > 0 ? undefined : heldSecret(ref)),
    managedSecretsOf: () => [],
    jobsReferencing: () => jobs,
    podsReferencing: () => [],
  };
  const writer: ClusterWriter = {
    readSecret: async () => undefined,
    readJob: async () => undefined,
    createSecret: async () => ({ result: 'created', secret: { name: target, uid: 'uid-new' } }),
    replaceSecret: async () => ({ result: 'replaced', secret: { name: target, uid: 'uid-secret' } }),
    setSecretOwners: async () => ({ result: 'updated', secret: { name: target, uid: 'uid-secret' } }),
    deleteSecret: async (secret) => {
      deleted.push(secret);
      return { result: 'deleted', secret: { name: target, uid: secret.metadata?.uid ?? '' } };
    },
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async (_, status) => {
      statuses.push(status);
      return `${20 + statuses.length}`;
    },
  };
  const never = (signal: AbortSignal) =>
    new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  const values: ValueSource = {
    ...noLeases,
    read: (_s, _r, _scope, signal) => never(signal),
    versions: (_s, _r, _scope, signal) => never(signal),
  };
  const reconciler = new Reconciler({
    view,
    writer,
    values,
    audit: { name: 'memory', write: async (record) => void audit.push(record) },
    fingerprint: () => 'hmac-sha256:11',
    clock: {
      now: () => clock.at,
      setTimer: (callback, delayMs) => {
        const timer = { at: clock.at + delayMs, callback };
        timers.push(timer);
        return { cancel: () => timers.splice(timers.indexOf(timer), 1) };
      },
    },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  const reconcile = () => reconciler.reconcile('etl/warehouse', new AbortController().signal);
  return { reconciler, reconcile, clock, timers, jobs, audit, statuses, deleted };
}

describe('a revocation never waits for a stalled store read', () => {
  it('abandons the read when the consuming Job completes, records nothing, and revokes on the run that follows', async () => {
    const scene = stalledStore();
    const stalled = scene.reconcile();
    await new Promise((resolve) => setImmediate(resolve));
    // A change that keeps the Job's access leaves the read alone.
    scene.reconciler.interruptIfRevoking('etl/warehouse');
    await new Promise((resolve) => setImmediate(resolve));

    scene.jobs[0] = {
      ...job,
      status: { ...job.status, active: 0, conditions: [{ type: 'Complete', status: 'True' }] },
    };
    scene.reconciler.interruptIfRevoking('etl/warehouse');
    expect(await stalled).toEqual({ requeueAfterMs: 0 });
    expect(scene.audit).toEqual([]);
    expect(scene.statuses).toEqual([]);

    await scene.reconcile();
    expect(scene.deleted).toHaveLength(1);
    expect(scene.audit.map((record) => [record.action, record.job?.name])).toEqual([['Revoked', 'dbt']]);
  });

  it("abandons the read when the consuming Job's ttl ends, which no event announces", async () => {
    const scene = stalledStore();
    const stalled = scene.reconcile();
    await new Promise((resolve) => setImmediate(resolve));
    const expiry = scene.timers.find((timer) => timer.at > now);
    expect(expiry?.at).toBe(Date.parse('2026-11-30T12:59:00.000Z') + 50);

    scene.clock.at = expiry!.at;
    expiry!.callback();
    expect(await stalled).toEqual({ requeueAfterMs: 0 });
    await scene.reconcile();
    expect(scene.deleted).toHaveLength(1);
    expect(scene.audit.map((record) => [record.action, record.job?.name])).toEqual([['Expired', 'dbt']]);
    expect(scene.timers).toEqual([]);
  });
});

describe('a burst of Job starts', () => {
  it('records the first start of a Job seen during a write with the status after it, so serving it needs one status write', async () => {
    // A Job with no start yet was resumed from a queue: it waits for the start the Job controller records.
    const resumed = { type: 'Suspended', status: 'False', reason: 'JobResumed' };
    const loader = (name: string, startTime?: Date): V1Job => ({
      ...job,
      metadata: { ...job.metadata, name, uid: `uid-${name}` },
      status: startTime ? { startTime, active: 1 } : { active: 1, conditions: [resumed] },
    });
    const jobs = [job, loader('load', started), loader('late')];
    let status = holding;
    const statuses: ReferenceStatus[] = [];
    const owners: string[][] = [];
    const view: ClusterView = {
      reference: () => reference(status),
      referencesTargeting: () => [reference(status)],
      referencesGuarding: () => [reference(status)],
      store: () => store,
      namespaceLabels: () => ({}),
      managedSecret: () => heldSecret(reference(holding)),
      managedSecretsOf: () => [],
      jobsReferencing: () => jobs,
      podsReferencing: () => [],
    };
    const writer: ClusterWriter = {
      readSecret: async () => undefined,
      readJob: async () => undefined,
      createSecret: async () => ({ result: 'created', secret: { name: target, uid: 'uid-new' } }),
      replaceSecret: async () => {
        throw new Error('only the owners change');
      },
      setSecretOwners: async (_, metadata) => {
        owners.push((metadata?.ownerReferences ?? []).map((owner) => owner.name));
        // Another Job starts while the owners are written; its start queues the next reconcile.
        jobs[2] = loader('late', new Date(now - 1_000));
        return { result: 'updated', secret: { name: target, uid: 'uid-secret' } };
      },
      deleteSecret: async () => ({ result: 'deleted', secret: { name: target, uid: 'uid-secret' } }),
      addFinalizer: async () => {},
      removeFinalizer: async () => {},
      writeStatus: async (_, written) => {
        statuses.push(written);
        status = written;
        return `${11 + statuses.length}`;
      },
    };
    const reconciler = new Reconciler({
      view,
      writer,
      values: {
        ...noLeases,
        read: async () => ({ data: {}, remoteVersions: {} }),
        versions: async () => ({ 'prod/warehouse': 'v1' }),
      },
      audit: { name: 'memory', write: async () => {} },
      fingerprint: () => 'hmac-sha256:11',
      clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
      logger: pino({ level: 'silent' }),
      refreshJitter: 0,
    });

    await reconciler.reconcile('etl/warehouse', new AbortController().signal);
    // The first start of `load` before its write; after it, `load` consumes and the start of `late` is kept.
    expect(statuses.map((s) => s.jobStarts?.map((start) => start.name))).toEqual([
      ['dbt', 'load'],
      ['dbt', 'late', 'load'],
    ]);
    expect(statuses.at(-1)?.consumingJobs?.map((j) => j.name)).toEqual(['dbt', 'load']);

    await reconciler.reconcile('etl/warehouse', new AbortController().signal);
    expect(owners.at(-1)).toEqual(['dbt', 'late', 'load']);
    // Only the status after the write: nothing had to be recorded before it.
    expect(statuses).toHaveLength(3);
    expect(statuses.at(-1)?.consumingJobs?.map((j) => j.name)).toEqual(['dbt', 'late', 'load']);
  });
});
