// One reconcile of a reference whose target was renamed, against fake cluster and store seams: the old Secret
// is recorded as retired before anything is written, deleted by uid before the new one is created, and
// forgotten only once the API server confirms it gone.

import type { V1Job, V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { noLeases } from '../../test/support/no-leases.ts';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import type { AuditRecord } from '../audit/types.ts';
import { RetryableError } from '../runtime/retryable-error.ts';
import type { SecretWrite } from './outcome.ts';
import { type ClusterView, type ClusterWriter, finalizer } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import type { ReferenceStatus } from './status.ts';

const identity = (secret: V1Secret) => ({
  name: secret.metadata?.name ?? '',
  uid: secret.metadata?.uid ?? '',
  resourceVersion: secret.metadata?.resourceVersion ?? '',
});

const now = Date.parse('2026-11-30T12:00:00Z');
const started = new Date(now - 60_000);

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

/** A running dbt Job whose pods take `secretName`. */
function jobFor(name: string, secretName: string): V1Job {
  return {
    metadata: { name, namespace: 'etl', uid: `uid-${name}`, creationTimestamp: started },
    spec: {
      template: {
        metadata: { labels: { app: 'dbt' } },
        spec: { containers: [{ name: 'dbt', envFrom: [{ secretRef: { name: secretName } }] }] },
      },
    },
    status: { startTime: started, active: 1 },
  };
}

/** Renamed from `warehouse-old` (whose Secret uid-old the Job old-run holds) to `warehouse-new`. */
const renamed: SecretReference = {
  metadata: {
    name: 'warehouse',
    namespace: 'etl',
    uid: 'uid-warehouse',
    generation: 2,
    resourceVersion: '10',
    finalizers: [finalizer],
    creationTimestamp: new Date(now - 3_600_000),
  },
  spec: {
    storeRef: { name: 'vault' },
    data: [{ key: 'password', remote: { name: 'prod/warehouse', property: 'password' } }],
    target: { name: 'warehouse-new' },
    consumers: { matchLabels: { app: 'dbt' } },
  },
  status: {
    observedGeneration: 1,
    secretName: 'warehouse-old',
    consumingJobs: [
      {
        name: 'old-run',
        uid: 'uid-old-run',
        startTime: started.toISOString(),
        expiresAt: new Date(started.getTime() + 3_600_000).toISOString(),
      },
    ],
    consumingJobCount: 1,
    managedSecret: { name: 'warehouse-old', uid: 'uid-old' },
    jobStarts: [{ name: 'old-run', uid: 'uid-old-run', firstStartTime: started.toISOString() }],
  },
} as unknown as SecretReference;

/** Reconciles once; `deleted` answers the delete of the old Secret, `live` is what a read of its name finds. */
async function reconcileRenamed(options: { deleted: () => Promise<SecretWrite>; live?: V1Secret }) {
  const calls: string[] = [];
  const audit: AuditRecord[] = [];
  const statuses: ReferenceStatus[] = [];
  const view: ClusterView = {
    reference: () => renamed,
    referencesTargeting: () => [renamed],
    referencesGuarding: () => [renamed],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: () => undefined,
    managedSecretsOf: () => [],
    jobsReferencing: (_, name) => (name === 'warehouse-new' ? [jobFor('new-run', 'warehouse-new')] : []),
    podsReferencing: () => [],
  };
  const writer: ClusterWriter = {
    readSecret: async (_, name) => (name === 'warehouse-old' ? options.live : undefined),
    readJob: async () => undefined,
    createSecret: async (secret) => {
      calls.push(`create ${secret.metadata?.name}`);
      return {
        result: 'created',
        secret: { name: secret.metadata?.name ?? '', uid: 'uid-new', resourceVersion: '1' },
      };
    },
    replaceSecret: async (secret) => ({ result: 'replaced', secret: identity(secret) }),
    setSecretOwners: async (secret) => ({ result: 'updated', secret: identity(secret) }),
    deleteSecret: async (secret) => {
      calls.push(`delete ${secret.metadata?.name} if uid ${secret.metadata?.uid}`);
      return options.deleted();
    },
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async (_, status) => {
      calls.push('status');
      statuses.push(status);
      return `${11 + statuses.length}`;
    },
  };
  const reconciler = new Reconciler({
    view,
    writer,
    values: {
      ...noLeases,
      read: async () => ({
        data: { password: Buffer.from('pw') },
        remoteVersions: { 'prod/warehouse': 'v1' },
      }),
      versions: async () => ({ 'prod/warehouse': 'v1' }),
    },
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
  return { result, calls, audit, statuses };
}

const retiredOld = [{ name: 'warehouse-old', uid: 'uid-old' }];

describe('a reconcile after the target was renamed', () => {
  it('records the old Secret as retired, deletes it by uid, then writes the new one, and forgets the old once gone', async () => {
    const { result, calls, audit, statuses } = await reconcileRenamed({
      deleted: async () => ({
        result: 'deleted',
        secret: { name: 'warehouse-old', uid: 'uid-old', resourceVersion: '5' },
      }),
    });
    expect(result).toHaveProperty('value');
    expect(calls).toEqual([
      'status',
      'delete warehouse-old if uid uid-old',
      'create warehouse-new',
      'status',
    ]);
    // The claim moves to the new name in the same write that keeps the old Secret's uid.
    expect(statuses[0]).toMatchObject({
      managedSecret: { name: 'warehouse-new' },
      retiredSecrets: retiredOld,
    });
    expect(statuses[1]?.managedSecret).toEqual({ name: 'warehouse-new', uid: 'uid-new' });
    expect(statuses[1]?.retiredSecrets).toBeUndefined();
    const revoked = audit.find((record) => record.action === 'Revoked');
    expect(revoked).toMatchObject({ job: { name: 'old-run' }, targetSecret: { name: 'warehouse-old' } });
    const granted = audit.find((record) => record.action === 'Materialized');
    expect(granted).toMatchObject({ job: { name: 'new-run' }, targetSecret: { name: 'warehouse-new' } });
  });

  it('takes a Secret already gone, or a name now held by another Secret, as confirmed gone', async () => {
    const gone = await reconcileRenamed({ deleted: async () => ({ result: 'gone' }) });
    expect(gone.statuses.at(-1)?.retiredSecrets).toBeUndefined();
    const replaced = await reconcileRenamed({
      deleted: async () => {
        throw new RetryableError('delete Secret: the object changed (HTTP 409)');
      },
      live: { metadata: { name: 'warehouse-old', uid: 'uid-someone-else' } },
    });
    expect(replaced.result).toHaveProperty('value');
    expect(replaced.statuses.at(-1)?.retiredSecrets).toBeUndefined();
  });

  it('keeps tracking the old Secret, writes nothing new and records no revocation while its delete fails', async () => {
    const { result, calls, audit, statuses } = await reconcileRenamed({
      deleted: async () => {
        throw new RetryableError('delete Secret: the API server is busy (HTTP 429)');
      },
      live: { metadata: { name: 'warehouse-old', uid: 'uid-old' } },
    });
    expect((result as { error: unknown }).error).toBeInstanceOf(RetryableError);
    expect(calls).toEqual(['status', 'delete warehouse-old if uid uid-old']);
    expect(statuses.at(-1)?.retiredSecrets).toEqual(retiredOld);
    expect(audit).toEqual([]);
  });
});
