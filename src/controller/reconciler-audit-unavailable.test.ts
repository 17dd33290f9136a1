// While the audit file cannot take records, no access is granted (nothing is read or written, status says
// AuditUnavailable), access is still taken away, and every record owed is made once the file takes them again.

import type { V1Job, V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  heldSecret,
  holding,
  job,
  now,
  reference,
  store,
  target,
} from '../../test/support/held-secret-cluster.ts';
import { noLeases } from '../../test/support/no-leases.ts';
import { AuditUnavailableError } from '../audit/leader-trail.ts';
import type { AuditRecord } from '../audit/types.ts';
import type { ClusterView, ClusterWriter } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import type { ReferenceStatus } from './status.ts';

/** One reconciler over a small cluster; the audit file takes records only while `auditWorks()`. */
function harness(
  cluster: { status: ReferenceStatus; secret?: V1Secret; job: V1Job },
  auditWorks: () => boolean,
  isolation: 'Shared' | 'PerJob' = 'Shared',
) {
  const referenceNow = () => {
    const current = reference(cluster.status);
    return isolation === 'PerJob' ? { ...current, spec: { ...current.spec, isolation } } : current;
  };
  const effects: string[] = [];
  const audit: AuditRecord[] = [];
  const statuses: ReferenceStatus[] = [];
  const view: ClusterView = {
    reference: referenceNow,
    referencesTargeting: () => [referenceNow()],
    referencesGuarding: () => [referenceNow()],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: () => cluster.secret,
    managedSecretsOf: () => (cluster.secret ? [cluster.secret] : []),
    jobsReferencing: () => [cluster.job],
    podsReferencing: () => [],
  };
  const writer: ClusterWriter = {
    // PerJob never writes under the target name: a live read finds it free.
    readSecret: async () => (isolation === 'PerJob' ? undefined : cluster.secret),
    readJob: async () => undefined,
    createSecret: async (secret) => {
      effects.push('create');
      cluster.secret = { ...secret, metadata: { ...secret.metadata, uid: 'uid-new', resourceVersion: '7' } };
      const name = secret.metadata?.name ?? target;
      return { result: 'created', secret: { name, uid: 'uid-new', resourceVersion: '7' } };
    },
    replaceSecret: async () => {
      throw new Error('not expected');
    },
    setSecretOwners: async () => {
      throw new Error('not expected');
    },
    deleteSecret: async (secret) => {
      effects.push('delete');
      cluster.secret = undefined;
      return { result: 'deleted', secret: { name: target, uid: secret.metadata!.uid! } };
    },
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async (_, status) => {
      statuses.push(status);
      cluster.status = status;
      return `${20 + statuses.length}`;
    },
  };
  const reconciler = new Reconciler({
    view,
    writer,
    values: {
      ...noLeases,
      read: async () => {
        effects.push('read');
        return { data: { password: Buffer.from('first') }, remoteVersions: { 'prod/warehouse': 'v1' } };
      },
      versions: async () => ({ 'prod/warehouse': 'v1' }),
    },
    audit: {
      name: 'file',
      write: async (record) => {
        if (!auditWorks()) throw new AuditUnavailableError('no space left on the audit volume');
        if (!audit.some((made) => made.id === record.id)) audit.push(record);
      },
    },
    grantsAudited: async () => auditWorks(),
    fingerprint: () => 'hmac-sha256:11',
    clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  const reconcile = () => reconciler.reconcile('etl/warehouse', new AbortController().signal);
  return { reconcile, effects, audit, statuses };
}

describe('a reconcile while the audit file cannot take records', () => {
  it('hands out nothing (no read, no Secret), says AuditUnavailable in status, and grants once it can', async () => {
    let works = false;
    const cluster = { status: {} as ReferenceStatus, job: job(false) } as {
      status: ReferenceStatus;
      secret?: V1Secret;
      job: V1Job;
    };
    const { reconcile, effects, audit, statuses } = harness(cluster, () => works);
    const result = await reconcile();
    expect(effects).toEqual([]);
    expect(audit).toEqual([]);
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'AuditUnavailable',
    });
    // Looked at again within seconds, not after a refresh interval.
    expect(result.requeueAfterMs).toBeLessThanOrEqual(30_000);

    works = true;
    await reconcile();
    expect(effects).toEqual(['read', 'create']);
    expect(audit.map((r) => [r.action, r.reason])).toEqual([['Materialized', 'SecretCreated']]);
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
  });

  it('in PerJob mode, gives no Job its own Secret and says AuditUnavailable in status, and grants once it can', async () => {
    let works = false;
    const cluster = { status: {} as ReferenceStatus, job: job(false) } as {
      status: ReferenceStatus;
      secret?: V1Secret;
      job: V1Job;
    };
    const { reconcile, effects, audit, statuses } = harness(cluster, () => works, 'PerJob');
    const result = await reconcile();
    expect(effects).toEqual([]);
    expect(audit).toEqual([]);
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'AuditUnavailable',
    });
    expect(result.requeueAfterMs).toBeLessThanOrEqual(30_000);

    works = true;
    await reconcile();
    expect(effects).toEqual(['read', 'create']);
    expect(cluster.secret?.metadata?.name).toBe('warehouse-uid-dbt');
    expect(audit.map((r) => [r.action, r.reason])).toEqual([['Materialized', 'SecretCreated']]);
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
  });

  it('still revokes a finished Job, owes its records, and makes each once when the file takes them', async () => {
    let works = false;
    const cluster = { status: holding, job: job(true), secret: heldSecret(reference(holding)) };
    const { reconcile, effects, audit, statuses } = harness(cluster, () => works);
    const result = await reconcile();
    // Access was taken away at once; its evidence waits, and status waits with it (it still names the Job).
    expect(effects).toEqual(['delete']);
    expect(cluster.secret).toBeUndefined();
    expect(audit).toEqual([]);
    expect(statuses).toEqual([]);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(30_000);
    await reconcile();
    expect(audit).toEqual([]);

    works = true;
    await reconcile();
    await reconcile();
    // The grant the deleted Secret carried (never recorded) and the end of the Job's access, once each.
    expect(audit.map((r) => [r.action, r.reason, r.targetSecret.uid])).toEqual([
      ['Materialized', 'SecretCreated', 'uid-secret'],
      ['Revoked', 'JobEnded', 'uid-secret'],
    ]);
    expect(statuses.at(-1)?.consumingJobCount ?? 0).toBe(0);
    expect(effects).toEqual(['delete']);
  });
});
