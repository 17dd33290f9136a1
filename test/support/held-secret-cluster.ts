// A small cluster for reconciler tests: a Vault store, a dbt Job that consumes the reference `warehouse`, and
// the Secret that Job holds (uid-secret, written from v1, its grant carried on it as every write's is).
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { AnySecretStore, SecretReference } from '../../src/api/types.ts';
import { buildSecret } from '../../src/controller/managed-secret.ts';
import { finalizer } from '../../src/controller/ports.ts';
import { referenceFacts } from '../../src/controller/reference-facts.ts';
import type { ReferenceStatus } from '../../src/controller/status.ts';

export const now = Date.parse('2026-11-30T12:00:00Z');
export const started = new Date(now - 60_000);
export const target = 'warehouse';

export const store = {
  kind: 'SecretStore',
  metadata: { name: 'vault', namespace: 'etl', uid: 'uid-store', generation: 1 },
  spec: {
    provider: {
      vault: { server: 'https://vault.internal:8200', auth: { tokenSecretRef: { name: 't', key: 'token' } } },
    },
  },
} as unknown as AnySecretStore;

export function job(finished: boolean): V1Job {
  return {
    metadata: { name: 'dbt', namespace: 'etl', uid: 'uid-dbt', creationTimestamp: started },
    spec: {
      template: {
        metadata: { labels: { app: 'dbt' } },
        spec: { containers: [{ name: 'dbt', envFrom: [{ secretRef: { name: target } }] }] },
      },
    },
    status: finished
      ? {
          startTime: started,
          succeeded: 1,
          conditions: [{ type: 'Complete', status: 'True' }],
        }
      : { startTime: started, active: 1 },
  } as V1Job;
}

export function reference(status: ReferenceStatus): SecretReference {
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

/** The status of a reference whose Job holds its Secret (uid-secret). */
export const holding: ReferenceStatus = {
  observedGeneration: 1,
  secretName: target,
  consumingJobs: [
    { name: 'dbt', uid: 'uid-dbt', startTime: started.toISOString(), expiresAt: '2026-11-30T12:59:00.000Z' },
  ],
  consumingJobCount: 1,
  managedSecret: { name: target, uid: 'uid-secret' },
  jobStarts: [{ name: 'dbt', uid: 'uid-dbt', firstStartTime: started.toISOString() }],
  remoteVersions: [{ name: 'prod/warehouse', version: 'v1' }],
};

/** The Secret the Job holds; its write's grant is carried on it, as every write's is. */
export function heldSecret(ref: SecretReference): V1Secret {
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
    writtenAt: started.toISOString(),
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'dbt', uid: 'uid-dbt' }],
    audit: {
      time: started.toISOString(),
      grants: [{ action: 'Materialized', reason: 'SecretCreated', job: { name: 'dbt', uid: 'uid-dbt' } }],
    },
  });
  secret.metadata!.uid = 'uid-secret';
  secret.metadata!.resourceVersion = '5';
  return secret;
}
