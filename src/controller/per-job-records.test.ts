import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { labels } from '../api/constants.ts';
import type { AuditContext } from './audit-records.ts';
import { buildSecret } from './managed-secret.ts';
import type { StepOutcome } from './per-job-effects.ts';
import { perJobSecretName, planPerJob } from './per-job-plan.ts';
import { perJobAuditRecords, perJobStatus } from './per-job-records.ts';
import { planReference, type ReferenceFacts } from './plan.ts';

const hour = 3_600_000;
const now = Date.parse('2026-11-23T12:00:00Z');
const target = 'warehouse-credentials';
const uidA = '0b5e4a52-3c1f-4c59-9d7e-2f1a6b8c9d01';
const uidB = '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

const facts: ReferenceFacts = {
  namespace: 'etl',
  name: 'warehouse',
  deleting: false,
  targetName: target,
  ttlMs: hour,
  refreshIntervalMs: 5 * 60_000,
  consumers: { matchLabels: { app: 'dbt' } },
  contentHash: 'hash-1',
  previouslyConsuming: [],
  uid: 'uid-warehouse',
  createdAt: '2026-11-01T00:00:00.000Z',
  managedSecret: { name: target },
  jobStarts: {},
  retiredSecrets: [],
};

function job(name: string, uid: string): V1Job {
  const started = new Date(now - 60_000);
  return {
    metadata: { name, namespace: 'etl', uid },
    spec: { template: { metadata: { labels: { app: 'dbt' } }, spec: { containers: [] } } },
    status: { startTime: started, conditions: [] },
  };
}

const context: AuditContext = {
  now,
  reference: { namespace: 'etl', name: 'warehouse', uid: 'uid-warehouse' },
  store: { kind: 'SecretStore', name: 'aws' },
  targetName: target,
  deleting: false,
  previous: {},
  basis: '41',
};

function secretOf(jobName: string, jobUid: string) {
  const secret = buildSecret({
    namespace: 'etl',
    name: perJobSecretName(target, jobUid),
    referenceName: 'warehouse',
    type: 'Opaque',
    labels: { [labels.job]: jobUid },
    annotations: {},
    data: {},
    contentHash: 'hash-1',
    fingerprint: 'hmac-sha256:aa',
    store: 'SecretStore/aws',
    remoteVersions: { 'etl/warehouse': 'v1' },
    writtenAt: new Date(now - 60_000).toISOString(),
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jobUid }],
  });
  secret.metadata!.uid = `secret-of-${jobName}`;
  return secret;
}

describe('per-Job records and status', () => {
  it('records the end of only the ended Job, naming its own Secret, under an id a retry repeats', () => {
    const plan = planReference({
      now,
      reference: facts,
      store: { state: 'ready' },
      jobs: [job('load-b', uidB)],
    });
    const secrets = [secretOf('load-a', uidA), secretOf('load-b', uidB)];
    const perJob = planPerJob({
      now,
      reference: facts,
      plan,
      storeReady: true,
      secrets,
      lastChecks: { 'secret-of-load-b': now },
      pods: {},
    });
    const results: StepOutcome[] = perJob.steps.map((step) =>
      step.action === 'delete'
        ? {
            step,
            checked: false,
            outcome: {
              kind: 'deleted',
              effect: {
                kind: 'deleted',
                secret: { name: step.name, uid: 'secret-of-load-a' },
                time: '',
                grants: [],
              },
            },
          }
        : { step, checked: false, outcome: { kind: 'idle' } },
    );
    const records = perJobAuditRecords(plan, perJob, results, context);
    expect(
      records.map((r) => [r.action, r.reason, r.job?.name, r.targetSecret.name, r.targetSecret.uid]),
    ).toEqual([['Revoked', 'JobEnded', 'load-a', perJobSecretName(target, uidA), 'secret-of-load-a']]);
    expect(records[0]!.remotes).toEqual([{ name: 'etl/warehouse', version: 'v1' }]);
    expect(records[0]!.fingerprint).toBe('hmac-sha256:aa');
    // The same end found again (the Secret already gone, a later basis) gets the same id.
    const again = perJobAuditRecords(plan, { ...perJob, ended: perJob.ended }, [], {
      ...context,
      basis: '42',
    });
    expect(again.map((r) => r.id)).toEqual(records.map((r) => r.id));

    const status = perJobStatus(plan, results, {
      now,
      generation: 1,
      targetName: target,
      store: { state: 'ready' },
      previous: {},
    });
    expect(status.consumingJobs?.map((j) => j.name)).toEqual(['load-b']);
    expect(status.secretName).toBe(target);
    expect(status.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Materialized' });
    expect(status.conditions?.[0]?.message).toContain(`${target}-<job uid>`);
  });

  it('does not count a Job as consuming while its Secret could not be created', () => {
    const plan = planReference({
      now,
      reference: facts,
      store: { state: 'ready' },
      jobs: [job('load-a', uidA)],
    });
    const perJob = planPerJob({
      now,
      reference: facts,
      plan,
      storeReady: true,
      secrets: [],
      lastChecks: {},
      pods: {},
    });
    const results: StepOutcome[] = perJob.steps.map((step) => ({
      step,
      checked: false,
      outcome: { kind: 'failed', reason: 'RemoteNotFound', message: 'no such secret', retryable: false },
    }));
    const status = perJobStatus(plan, results, {
      now,
      generation: 1,
      targetName: target,
      store: { state: 'ready' },
      previous: {},
    });
    expect(status.consumingJobs).toEqual([]);
    expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'RemoteNotFound' });
    const records = perJobAuditRecords(plan, perJob, results, context);
    expect(records.map((r) => [r.action, r.reason])).toEqual([['Failed', 'RemoteNotFound']]);
  });
});
