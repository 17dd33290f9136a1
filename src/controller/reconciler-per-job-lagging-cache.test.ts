// The Secret cache can lag the operator's own writes (after an API server restart its watch resumes late), in
// PerJob mode as in Shared mode: a Job's own Secret created moments ago may be missing from it at the next
// reconcile. Status lists the Job as consuming only while its own Secret exists, so a consuming Job whose Secret
// the cache lacks has it read live: no second create (nor store read), no status that drops the Job, and once
// the Job ends one delete of that very Secret and one end of access recorded, with its uid.

import type { V1Job, V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { job, now, reference, store } from '../../test/support/held-secret-cluster.ts';
import { noLeases } from '../../test/support/no-leases.ts';
import { claimMarker } from '../audit/fingerprint.ts';
import type { AuditRecord } from '../audit/types.ts';
import { RetryableError } from '../runtime/retryable-error.ts';
import type { ClusterView, ClusterWriter } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import type { ReferenceStatus } from './status.ts';

const jobSecret = 'warehouse-uid-dbt';

/** A reconciler over an API server that holds `secrets`, and a Secret cache that shows only `cached` of them. */
function harness() {
  const cluster = {
    status: {} as ReferenceStatus,
    job: job(false) as V1Job,
    secrets: new Map<string, V1Secret>(),
    cached: new Set<string>(),
  };
  const effects: string[] = [];
  const records: AuditRecord[] = [];
  const statuses: ReferenceStatus[] = [];
  const referenceNow = () => {
    const current = reference(cluster.status);
    return { ...current, spec: { ...current.spec, isolation: 'PerJob' as const } };
  };
  const cachedSecrets = () =>
    [...cluster.secrets.values()].filter((s) => cluster.cached.has(s.metadata!.name!));
  const view: ClusterView = {
    reference: referenceNow,
    referencesIn: () => [referenceNow()],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: (_, name) => cachedSecrets().find((s) => s.metadata?.name === name),
    managedSecretsOf: () => cachedSecrets(),
    jobsReferencing: () => [cluster.job],
    podsReferencing: () => [],
  };
  const refuse = (name: string) => async () => {
    effects.push(name);
    throw new Error(`${name} not expected`);
  };
  const writer: ClusterWriter = {
    readSecret: async (_, name) => {
      effects.push(`live read ${name}`);
      return cluster.secrets.get(name);
    },
    readJob: async () => undefined,
    createSecret: async (secret) => {
      const name = secret.metadata!.name!;
      effects.push(`create ${name}`);
      // As the cluster writer answers a 409: try again later.
      if (cluster.secrets.has(name)) throw new RetryableError('create Secret: the object changed (HTTP 409)');
      const uid = `uid-secret-${cluster.secrets.size + 1}`;
      cluster.secrets.set(name, { ...secret, metadata: { ...secret.metadata, uid, resourceVersion: '7' } });
      return { result: 'created', secret: { name, uid, resourceVersion: '7' } };
    },
    replaceSecret: refuse('replace'),
    setSecretOwners: refuse('owners'),
    deleteSecret: async (current) => {
      const name = current.metadata!.name!;
      effects.push(`delete ${name} ${current.metadata?.uid}`);
      if (cluster.secrets.get(name)?.metadata?.uid !== current.metadata?.uid) return { result: 'gone' };
      cluster.secrets.delete(name);
      return { result: 'deleted', secret: { name, uid: current.metadata!.uid!, resourceVersion: '8' } };
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
        effects.push('store read');
        return { data: { password: Buffer.from('first') }, remoteVersions: { 'prod/warehouse': 'v1' } };
      },
      versions: async () => ({ 'prod/warehouse': 'v1' }),
    },
    // As the file sink does: a record is made once by id.
    audit: {
      name: 'memory',
      write: async (record) => void (records.some((r) => r.id === record.id) || records.push(record)),
    },
    claimMark: claimMarker(Buffer.alloc(32, 7)),
    fingerprint: () => 'hmac-sha256:11',
    clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  const reconcile = async () => {
    effects.length = 0;
    return reconciler.reconcile('etl/warehouse', new AbortController().signal);
  };
  return { cluster, reconcile, effects, records, statuses };
}

const ready = (status: ReferenceStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready');

describe("in PerJob mode, a Job's own Secret that status records and the cache has not seen yet", () => {
  it('is read live, not created again, and the Job stays consuming in status', async () => {
    const { cluster, reconcile, effects, records, statuses } = harness();
    await reconcile();
    expect(effects).toEqual(['store read', `create ${jobSecret}`]);
    expect(statuses.at(-1)?.consumingJobs?.map((j) => j.name)).toEqual(['dbt']);
    const written = statuses.length;

    // The cache has not seen the create; the next reconcile (the status write wakes it) must not redo it.
    await reconcile();
    expect(effects).toEqual([`live read ${jobSecret}`]);
    expect(statuses.length).toBe(written);
    expect(cluster.status.consumingJobs?.map((j) => j.name)).toEqual(['dbt']);
    expect(ready(cluster.status)).toMatchObject({ status: 'True', reason: 'Materialized' });
    expect(records.map((r) => [r.action, r.job?.name])).toEqual([['Materialized', 'dbt']]);

    // Once the cache holds it, nothing is read live any more.
    cluster.cached.add(jobSecret);
    await reconcile();
    expect(effects).toEqual([]);
  });

  it('is read live and revoked when its Job ended: one delete of that Secret, one end record, no Conflict', async () => {
    const { cluster, reconcile, effects, records, statuses } = harness();
    await reconcile();
    const uid = cluster.secrets.get(jobSecret)?.metadata?.uid;
    cluster.job = job(true);

    await reconcile();
    expect(effects).toEqual([`live read ${jobSecret}`, `delete ${jobSecret} ${uid}`]);
    expect(cluster.secrets.size).toBe(0);
    expect(records.map((r) => [r.action, r.job?.name, r.targetSecret.uid])).toEqual([
      ['Materialized', 'dbt', uid],
      ['Revoked', 'dbt', uid],
    ]);
    expect(cluster.status.consumingJobs ?? []).toEqual([]);

    // The cache catches up (the Secret is gone from it too): nothing more to do, nothing more to say.
    await reconcile();
    expect(effects).toEqual([]);
    expect(records).toHaveLength(2);
    expect(statuses.map((s) => ready(s)?.reason)).not.toContain('Conflict');
  });

  it('is taken for gone, after one live read, when the API server has none either', async () => {
    const { cluster, reconcile, effects, records } = harness();
    await reconcile();
    // Garbage collection, say, removed it before the cache saw it; the Job ended meanwhile.
    cluster.secrets.clear();
    cluster.job = job(true);
    await reconcile();
    expect(effects).toEqual([`live read ${jobSecret}`]);
    expect(records.map((r) => [r.action, r.job?.name])).toEqual([
      ['Materialized', 'dbt'],
      ['Revoked', 'dbt'],
    ]);
    expect(cluster.status.consumingJobs ?? []).toEqual([]);
  });
});
