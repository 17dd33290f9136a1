// A reconciler in PerJob mode over a small in-memory cluster (the Vault store, the dbt Job and the reference
// of held-secret-cluster.ts), whose Secret cache can lag the API server: for reconciler tests of the per-Job path.
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { claimMarker } from '../../src/audit/fingerprint.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import type { ClusterView, ClusterWriter } from '../../src/controller/ports.ts';
import { Reconciler } from '../../src/controller/reconciler.ts';
import type { ReferenceStatus } from '../../src/controller/status.ts';
import { RetryableError } from '../../src/runtime/retryable-error.ts';
import { job, now, reference, store } from './held-secret-cluster.ts';
import { noLeases } from './no-leases.ts';

/** The Secret of the dbt Job in PerJob mode. */
export const jobSecret = 'warehouse-uid-dbt';

/**
 * A reconciler over an API server that holds `secrets`, and a Secret cache that shows only `cached` of them;
 * `effects` lists the live reads, store calls and writes of the last reconcile. The clock stands still unless
 * the test moves `cluster.now`.
 */
export function perJobHarness() {
  const cluster = {
    status: {} as ReferenceStatus,
    job: job(false) as V1Job,
    secrets: new Map<string, V1Secret>(),
    cached: new Set<string>(),
    now,
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
    referencesTargeting: () => [referenceNow()],
    referencesGuarding: () => [referenceNow()],
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
      versions: async () => {
        effects.push('store versions');
        return { 'prod/warehouse': 'v1' };
      },
    },
    // As the file sink does: a record is made once by id.
    audit: {
      name: 'memory',
      write: async (record) => void (records.some((r) => r.id === record.id) || records.push(record)),
    },
    claimMark: claimMarker(Buffer.alloc(32, 7)),
    fingerprint: () => 'hmac-sha256:11',
    clock: { now: () => cluster.now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  const reconcile = async () => {
    effects.length = 0;
    return reconciler.reconcile('etl/warehouse', new AbortController().signal);
  };
  return { cluster, reconcile, effects, records, statuses };
}
