import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { noLeases } from '../../test/support/no-leases.ts';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import { RetryableError } from '../runtime/retryable-error.ts';
import { carryOutSteps } from './per-job-effects.ts';
import type { JobSecretStep } from './per-job-plan.ts';
import type { ClusterWriter, JobIdentity, ValueSource } from './ports.ts';

const now = Date.parse('2026-11-23T12:00:00Z');
const reference = {
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretReference',
  metadata: { name: 'warehouse', namespace: 'etl', uid: 'uid-warehouse' },
  spec: {
    storeRef: { name: 'aws' },
    data: [{ key: 'password', remote: { name: 'etl/warehouse' } }],
    consumers: { matchLabels: { app: 'dbt' } },
    isolation: 'PerJob',
  },
} as SecretReference;

function create(jobName: string): JobSecretStep {
  const job = { name: jobName, uid: `uid-${jobName}` };
  return {
    action: 'create',
    name: `warehouse-uid-${jobName}`,
    job,
    entitlement: {
      ...job,
      startTime: new Date(now).toISOString(),
      expiresAt: new Date(now + 60_000).toISOString(),
    },
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', ...job }],
  };
}

describe('carryOutSteps', () => {
  it('reads values for each Job, writes each Secret for its Job alone, and goes on past one that fails', async () => {
    const readFor: (JobIdentity | undefined)[] = [];
    const created: V1Secret[] = [];
    const values: ValueSource = {
      ...noLeases,
      read: async (_store, _reference, _scope, _signal, forJob) => {
        readFor.push(forJob);
        return { data: { password: Buffer.from('s3cret') }, remoteVersions: { 'etl/warehouse': 'v1' } };
      },
      versions: async () => ({ 'etl/warehouse': 'v1' }),
    };
    const writer = {
      createSecret: async (secret: V1Secret) => {
        if (secret.metadata?.name === 'warehouse-uid-load-a') {
          throw new RetryableError('create Secret: the object changed or the API server is busy (HTTP 409)');
        }
        created.push(secret);
        return { result: 'created', secret: { name: secret.metadata!.name!, uid: 'uid-new' } };
      },
    } as unknown as ClusterWriter;
    const { results, stepError, checks } = await carryOutSteps(
      { writer, values, fingerprint: () => 'hmac-sha256:00' },
      [create('load-a'), create('load-b')],
      {
        reference,
        namespace: 'etl',
        contentHash: 'hash-1',
        store: {} as AnySecretStore,
        scope: { kind: 'any' },
        signal: new AbortController().signal,
        now,
        ttlMs: 3_600_000,
        lastChecks: { 'uid-gone': now - 1 },
        existing: [],
      },
    );
    expect(readFor).toEqual([
      { name: 'load-a', uid: 'uid-load-a' },
      { name: 'load-b', uid: 'uid-load-b' },
    ]);
    expect(stepError).toBeInstanceOf(RetryableError);
    expect(results.map((r) => r.outcome.kind)).toEqual(['idle', 'written']);
    expect(created.map((s) => [s.metadata?.name, s.metadata?.labels?.['secretlink.dev/job-uid']])).toEqual([
      ['warehouse-uid-load-b', 'uid-load-b'],
    ]);
    expect(created[0]!.metadata?.ownerReferences?.map((o) => o.uid)).toEqual(['uid-load-b']);
    // Checks are kept only for Secrets that exist.
    expect(checks).toEqual({ 'uid-new': now });
  });
});
