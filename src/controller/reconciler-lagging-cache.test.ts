// The Secret cache can lag the operator's own writes: after an API server restart its watch resumes late, so a
// Secret created moments ago may be missing from it when its last Job ends. Status records the Secret, so the
// reconcile reads it live and revokes it: one delete, one end of access recorded, no Conflict.

import type { V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { heldSecret, holding, job, now, reference, store } from '../../test/support/held-secret-cluster.ts';
import { noLeases } from '../../test/support/no-leases.ts';
import { claimMarker } from '../audit/fingerprint.ts';
import type { AuditRecord } from '../audit/types.ts';
import type { ClusterView, ClusterWriter } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import type { ReferenceStatus } from './status.ts';

async function reconcileEndedJob(live: V1Secret | undefined) {
  const statuses: ReferenceStatus[] = [];
  const effects: string[] = [];
  const records: AuditRecord[] = [];
  const view: ClusterView = {
    reference: () => reference(holding),
    referencesTargeting: () => [reference(holding)],
    referencesGuarding: () => [reference(holding)],
    store: () => store,
    namespaceLabels: () => ({}),
    // The cache has not seen the Secret status records.
    managedSecret: () => undefined,
    managedSecretsOf: () => [],
    jobsReferencing: () => [job(true)],
    podsReferencing: () => [],
  };
  const refuse = (name: string) => async () => {
    effects.push(name);
    throw new Error(`${name} not expected`);
  };
  const writer: ClusterWriter = {
    readSecret: async () => {
      effects.push('read');
      return live;
    },
    readJob: async () => undefined,
    createSecret: refuse('create'),
    replaceSecret: refuse('replace'),
    setSecretOwners: refuse('owners'),
    deleteSecret: async (current) => {
      effects.push(`delete ${current.metadata?.name} ${current.metadata?.uid}`);
      return {
        result: 'deleted',
        secret: { name: current.metadata!.name!, uid: current.metadata!.uid!, resourceVersion: '30' },
      };
    },
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async (_, status) => {
      statuses.push(status);
      return `${20 + statuses.length}`;
    },
  };
  const reconciler = new Reconciler({
    view,
    writer,
    values: { ...noLeases, read: refuse('read') as never, versions: refuse('versions') as never },
    audit: { name: 'memory', write: async (record) => void records.push(record) },
    claimMark: claimMarker(Buffer.alloc(32, 7)),
    fingerprint: () => 'hmac-sha256:11',
    clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  await reconciler.reconcile('etl/warehouse', new AbortController().signal);
  return { statuses, effects, records };
}

describe('a Secret that status records and the cache has not seen yet', () => {
  it('is read live and revoked when its last Job ended: one delete, one end record', async () => {
    const { effects, records, statuses } = await reconcileEndedJob(heldSecret(reference(holding)));
    expect(effects).toEqual(['read', 'delete warehouse uid-secret']);
    // The held Secret's grant is derived again first (same id as when it was made); then its revocation.
    expect(records.map((record) => [record.action, record.job?.name, record.targetSecret.uid])).toEqual([
      ['Materialized', 'dbt', 'uid-secret'],
      ['Revoked', 'dbt', 'uid-secret'],
    ]);
    expect(statuses.at(-1)?.managedSecret?.uid).toBeUndefined();
  });

  it('is taken for gone, after one live read, when the API server has none either', async () => {
    const { effects, records } = await reconcileEndedJob(undefined);
    expect(effects).toEqual(['read']);
    expect(records.map((record) => [record.action, record.job?.name])).toEqual([['Revoked', 'dbt']]);
  });
});
