// A Secret holding a dynamic credential, revoked when its Job completes: the lease is revoked at the store
// before the Secret is deleted, and only a lease the operator's own status vouches for.
import { createHmac } from 'node:crypto';
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import { AuditUnavailableError } from '../audit/leader-trail.ts';
import type { AuditRecord } from '../audit/types.ts';
import type { LeaseHandle } from '../providers/types.ts';
import { leaseAnnotation, leaseAnnotationOf, leaseVersion } from './dynamic-lease.ts';
import { buildSecret } from './managed-secret.ts';
import { type ClusterView, type ClusterWriter, finalizer, type ValueSource } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import { referenceFacts } from './reference-facts.ts';
import type { ReferenceStatus } from './status.ts';

const now = Date.parse('2026-11-30T12:00:00Z');
const started = new Date(now - 60_000);
const target = 'warehouse';
const source = 'database/creds/elt-reader';
const handle: LeaseHandle = { leaseId: `${source}/lease-1`, tokenAccessor: 'accessor-1' };

const store = {
  kind: 'SecretStore',
  metadata: { name: 'vault', namespace: 'etl', uid: 'uid-store', generation: 1 },
  spec: {
    provider: {
      vault: { server: 'https://vault.internal:8200', auth: { tokenSecretRef: { name: 't', key: 't' } } },
    },
  },
} as unknown as AnySecretStore;

const completedJob: V1Job = {
  metadata: { name: 'load', namespace: 'etl', uid: 'uid-load', creationTimestamp: started },
  spec: {
    template: {
      metadata: { labels: { app: 'elt' } },
      spec: { containers: [{ name: 'load', envFrom: [{ secretRef: { name: target } }] }] },
    },
  },
  status: {
    startTime: started,
    succeeded: 1,
    completionTime: new Date(now - 1_000),
    conditions: [{ type: 'Complete', status: 'True' }],
  },
};

/** The test's keyed fingerprint: any HMAC the reconciler computes the same way twice. */
function fingerprint(data: Record<string, Buffer>): string {
  const mac = createHmac('sha256', 'test-key');
  for (const [key, value] of Object.entries(data).sort()) mac.update(key).update(value);
  return `hmac-sha256:${mac.digest('hex')}`;
}
const leaseFingerprint = fingerprint({
  lease: Buffer.from(handle.leaseId),
  token: Buffer.from(handle.tokenAccessor),
});

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
      dynamic: { database: { role: 'elt-reader' } },
      consumers: { matchLabels: { app: 'elt' } },
    },
    status,
  } as unknown as SecretReference;
}

/** Status after the Secret was written for the running Job, naming (or not) the lease's fingerprint. */
function holding(vouches: boolean): ReferenceStatus {
  return {
    observedGeneration: 1,
    secretName: target,
    consumingJobs: [
      {
        name: 'load',
        uid: 'uid-load',
        startTime: started.toISOString(),
        expiresAt: '2026-11-30T12:59:00.000Z',
      },
    ],
    consumingJobCount: 1,
    managedSecret: { name: target, uid: 'uid-secret' },
    jobStarts: [{ name: 'load', uid: 'uid-load', firstStartTime: started.toISOString() }],
    remoteVersions: vouches ? [{ name: source, version: leaseVersion(leaseFingerprint) }] : [],
  };
}

function heldSecret(ref: SecretReference, annotationHandle: LeaseHandle): V1Secret {
  const secret = buildSecret({
    namespace: 'etl',
    name: target,
    referenceName: 'warehouse',
    type: 'Opaque',
    labels: {},
    annotations: {},
    data: {},
    contentHash: referenceFacts(ref, store, false, ref.status ?? {}).contentHash,
    fingerprint: 'hmac-sha256:00',
    store: 'SecretStore/vault',
    remoteVersions: { [source]: leaseVersion(leaseFingerprint) },
    writtenAt: started.toISOString(),
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'load', uid: 'uid-load' }],
    ownAnnotations: leaseAnnotationOf({
      handle: annotationHandle,
      expiresAt: now + 3_000_000,
      fingerprint: leaseFingerprint,
      source,
    }),
  });
  secret.metadata!.uid = 'uid-secret';
  return secret;
}

async function reconcileCompletion(options: {
  vouches: boolean;
  annotation: LeaseHandle;
  /** The audit file takes records only while this answers true. */
  auditWorks?: () => boolean;
}) {
  const ref = reference(holding(options.vouches));
  let secret: V1Secret | undefined = heldSecret(ref, options.annotation);
  const steps: string[] = [];
  const audit: AuditRecord[] = [];
  const view: ClusterView = {
    reference: () => ref,
    referencesTargeting: () => [ref],
    referencesGuarding: () => [ref],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: () => secret,
    managedSecretsOf: () => [],
    jobsReferencing: () => [completedJob],
    podsReferencing: () => [],
  };
  const writer = {
    readSecret: async () => undefined,
    readJob: async () => undefined,
    deleteSecret: async () => {
      steps.push('delete Secret');
      secret = undefined;
      return { result: 'deleted', secret: { name: target, uid: 'uid-secret' } };
    },
    writeStatus: async () => '11',
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
  } as unknown as ClusterWriter;
  const values = {
    revokeLease: async (_store: AnySecretStore, revoked: LeaseHandle) => {
      steps.push(`revoke ${revoked.leaseId} ${revoked.tokenAccessor}`);
    },
  } as unknown as ValueSource;
  const reconciler = new Reconciler({
    view,
    writer,
    values,
    audit: {
      name: 'file',
      write: async (record) => {
        if (options.auditWorks && !options.auditWorks()) throw new AuditUnavailableError('volume full');
        if (!audit.some((made) => made.id === record.id)) audit.push(record);
      },
    },
    fingerprint,
    clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  const reconcile = () => reconciler.reconcile('etl/warehouse', new AbortController().signal);
  await reconcile();
  return { steps, audit, reconcile };
}

describe('revoking a dynamic credential', () => {
  it('revokes the lease at the store before deleting the Secret, and records it for the Job', async () => {
    const { steps, audit } = await reconcileCompletion({ vouches: true, annotation: handle });
    expect(steps).toEqual([`revoke ${handle.leaseId} ${handle.tokenAccessor}`, 'delete Secret']);
    const revoked = audit.filter((record) => record.action === 'LeaseRevoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ job: { name: 'load' }, lease: { fingerprint: leaseFingerprint } });
    expect(JSON.stringify(audit)).not.toContain(handle.leaseId);
    expect(JSON.stringify(audit)).not.toContain(handle.tokenAccessor);
  });

  it('owes the revocation record while the audit file is unavailable, and makes it once when it returns', async () => {
    let works = false;
    const { steps, audit, reconcile } = await reconcileCompletion({
      vouches: true,
      annotation: handle,
      auditWorks: () => works,
    });
    // The credential died at the store at once; only its record waits.
    expect(steps).toEqual([`revoke ${handle.leaseId} ${handle.tokenAccessor}`, 'delete Secret']);
    expect(audit).toEqual([]);
    works = true;
    await reconcile();
    await reconcile();
    const revoked = audit.filter((record) => record.action === 'LeaseRevoked');
    expect(revoked.map((record) => [record.reason, record.job?.name])).toEqual([['AccessEnded', 'load']]);
    expect(steps).toHaveLength(2);
  });

  it('revokes nothing an edited annotation names, and still deletes the Secret', async () => {
    const forged = { leaseId: 'database/creds/other-tenant/lease-9', tokenAccessor: handle.tokenAccessor };
    const { steps, audit } = await reconcileCompletion({ vouches: true, annotation: forged });
    expect(steps).toEqual(['delete Secret']);
    expect(audit.some((record) => record.action === 'LeaseRevoked')).toBe(false);
  });

  it('revokes nothing status does not vouch for', async () => {
    const { steps } = await reconcileCompletion({ vouches: false, annotation: handle });
    expect(steps).toEqual(['delete Secret']);
  });

  it('keeps the handle in the lease annotation only', () => {
    const secret = heldSecret(reference(holding(true)), handle);
    const annotations = Object.entries(secret.metadata?.annotations ?? {});
    const naming = annotations.filter(([, value]) => value.includes(handle.leaseId)).map(([key]) => key);
    expect(naming).toEqual([leaseAnnotation]);
  });
});
