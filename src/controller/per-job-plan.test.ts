import type { V1Job, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { labels } from '../api/constants.ts';
import { buildSecret } from './managed-secret.ts';
import {
  nextJobCheckMs,
  type PerJobInput,
  perJobSecretName,
  planPerJob,
  unseenJobSecrets,
} from './per-job-plan.ts';
import { planReference, type ReferenceFacts } from './plan.ts';

const hour = 3_600_000;
const now = Date.parse('2026-11-23T12:00:00Z');
const target = 'warehouse-credentials';
const uidA = '0b5e4a52-3c1f-4c59-9d7e-2f1a6b8c9d01';
const uidB = '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

function reference(overrides: Partial<ReferenceFacts> = {}): ReferenceFacts {
  return {
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
    ...overrides,
  };
}

function job(name: string, uid: string, options: { app?: string; startedAgoMs?: number } = {}): V1Job {
  const started = new Date(now - (options.startedAgoMs ?? 60_000));
  return {
    metadata: { name, namespace: 'etl', uid, creationTimestamp: started },
    spec: {
      template: { metadata: { labels: { app: options.app ?? 'dbt' } }, spec: { containers: [] } },
    },
    status: { startTime: started, conditions: [] },
  };
}

/** The Secret the operator wrote for one Job, as the managed-Secret cache holds it. */
function jobSecret(jobName: string, jobUid: string, contentHash = 'hash-1'): V1Secret {
  const secret = buildSecret({
    namespace: 'etl',
    name: perJobSecretName(target, jobUid),
    referenceName: 'warehouse',
    type: 'Opaque',
    labels: { [labels.job]: jobUid },
    annotations: {},
    data: {},
    contentHash,
    fingerprint: 'hmac-sha256:00',
    store: 'SecretStore/vault',
    remoteVersions: { 'elt/warehouse': '1' },
    writtenAt: new Date(now - 60_000).toISOString(),
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jobUid }],
  });
  secret.metadata!.uid = `secret-of-${jobName}`;
  return secret;
}

function planFor(jobs: V1Job[], extra: Partial<PerJobInput> & { facts?: Partial<ReferenceFacts> } = {}) {
  const facts = reference(extra.facts);
  const plan = planReference({ now, reference: facts, store: { state: 'ready' }, jobs });
  return {
    plan,
    perJob: planPerJob({
      now,
      reference: facts,
      plan,
      storeReady: true,
      secrets: [],
      lastChecks: {},
      pods: {},
      ...extra,
    }),
  };
}

const actions = (perJob: ReturnType<typeof planPerJob>) =>
  perJob.steps.map((step) => [step.action, step.name, step.job.name]);

describe('planPerJob', () => {
  it('names each Job its own Secret, the target followed by the Job uid, within a Secret name', () => {
    expect(perJobSecretName(target, uidA)).toBe(`${target}-${uidA}`);
    expect(perJobSecretName('w'.repeat(216), uidA)).toHaveLength(253);
  });

  it('creates one Secret for each of two consuming Jobs, each owned by its Job alone', () => {
    const { perJob } = planFor([job('load-a', uidA), job('load-b', uidB)]);
    expect(actions(perJob)).toEqual([
      ['create', `${target}-${uidA}`, 'load-a'],
      ['create', `${target}-${uidB}`, 'load-b'],
    ]);
    for (const step of perJob.steps) {
      expect(step.ownerReferences).toEqual([
        { apiVersion: 'batch/v1', kind: 'Job', name: step.job.name, uid: step.job.uid },
      ]);
      expect(step.entitlement?.expiresAt).toBeDefined();
    }
  });

  it('ends each Secret with its own Job ttl, not the last consuming Job', () => {
    const { perJob } = planFor([
      job('load-a', uidA, { startedAgoMs: 50 * 60_000 }),
      job('load-b', uidB, { startedAgoMs: 5 * 60_000 }),
    ]);
    expect(perJob.steps.map((step) => step.entitlement?.expiresAt)).toEqual([
      new Date(now + 10 * 60_000).toISOString(),
      new Date(now + 55 * 60_000).toISOString(),
    ]);
  });

  it('revokes only the Secret of the Job that passed its ttl; the other Job keeps its own', () => {
    const a = job('load-a', uidA, { startedAgoMs: 2 * hour });
    const b = job('load-b', uidB, { startedAgoMs: 10 * 60_000 });
    const previouslyConsuming = [a, b].map((j) => ({
      name: j.metadata!.name!,
      uid: j.metadata!.uid!,
      startTime: new Date(j.status!.startTime!).toISOString(),
      expiresAt: new Date(new Date(j.status!.startTime!).getTime() + hour).toISOString(),
    }));
    const secrets = [jobSecret('load-a', uidA), jobSecret('load-b', uidB)];
    const { plan, perJob } = planFor([a, b], {
      secrets,
      lastChecks: { 'secret-of-load-b': now - 60_000 },
      facts: { previouslyConsuming },
    });
    expect(plan.expired.map((j) => j.name)).toEqual(['load-a']);
    expect(actions(perJob)).toEqual([
      ['delete', `${target}-${uidA}`, 'load-a'],
      ['keep', `${target}-${uidB}`, 'load-b'],
    ]);
    expect(perJob.steps[0]!.secret).toBe(secrets[0]);
    expect(perJob.ended).toEqual([{ job: { name: 'load-a', uid: uidA }, cause: 'Expired' }]);
  });

  it('gives a refused Job no Secret, and takes away one it held', () => {
    const refused = job('load-a', uidA, { app: 'airbyte' });
    const fresh = planFor([refused]);
    expect(fresh.plan.refused.map((j) => j.name)).toEqual(['load-a']);
    expect(fresh.perJob.steps).toEqual([]);

    const held = planFor([refused], { secrets: [jobSecret('load-a', uidA)] });
    expect(actions(held.perJob)).toEqual([['delete', `${target}-${uidA}`, 'load-a']]);
    expect(held.perJob.ended).toEqual([{ job: { name: 'load-a', uid: uidA }, cause: 'Revoked' }]);
  });

  it('deletes the Secret of a Job that ended, and only that one', () => {
    const b = job('load-b', uidB);
    const { perJob } = planFor([b], {
      secrets: [jobSecret('load-a', uidA), jobSecret('load-b', uidB)],
      lastChecks: { 'secret-of-load-b': now },
    });
    expect(actions(perJob)).toEqual([
      ['delete', `${target}-${uidA}`, 'load-a'],
      ['keep', `${target}-${uidB}`, 'load-b'],
    ]);
  });

  it('deletes every per-Job Secret when the reference is being deleted', () => {
    const { perJob } = planFor([job('load-a', uidA), job('load-b', uidB)], {
      secrets: [jobSecret('load-a', uidA), jobSecret('load-b', uidB)],
      facts: { deleting: true },
    });
    expect(perJob.steps.map((s) => s.action)).toEqual(['delete', 'delete']);
  });

  it('rewrites a Job Secret whose content definition changed, and refreshes one that is due', () => {
    const { perJob } = planFor([job('load-a', uidA), job('load-b', uidB)], {
      secrets: [jobSecret('load-a', uidA, 'hash-0'), jobSecret('load-b', uidB)],
      lastChecks: { 'secret-of-load-b': now - 6 * 60_000 },
    });
    expect(perJob.steps.map((s) => s.action)).toEqual(['rewrite', 'refresh']);
  });

  it('withholds a Job Secret while a pod the Job does not control refers to it', () => {
    const name = perJobSecretName(target, uidA);
    const pods = {
      [name]: [
        { name: 'load-a-x', uid: 'pod-1', controllerJobUid: uidA, secretNames: [name] },
        { name: 'intruder', uid: 'pod-2', controllerJobUid: uidB, secretNames: [name] },
      ],
    } as unknown as PerJobInput['pods'];
    const { perJob } = planFor([job('load-a', uidA)], { secrets: [jobSecret('load-a', uidA)], pods });
    expect(actions(perJob)).toEqual([
      ['delete', name, 'load-a'],
      ['withhold', name, 'load-a'],
    ]);
    expect(perJob.steps[1]!.foreignPods).toEqual([{ name: 'intruder', uid: 'pod-2' }]);
    expect(perJob.ended[0]).toMatchObject({ cause: 'Revoked', reason: 'ForeignPodUsesTarget' });
  });

  it('trusts only Secrets marked with their Job: a Secret of the right name without the mark is not touched', () => {
    const unmarked = jobSecret('load-a', uidA);
    delete unmarked.metadata!.labels![labels.job];
    const { perJob } = planFor([], { secrets: [unmarked] });
    expect(perJob.steps).toEqual([]);
  });

  it('moves a Job Secret to the new target name without ending the Job access', () => {
    const { perJob } = planFor([job('load-a', uidA)], {
      secrets: [jobSecret('load-a', uidA)],
      facts: { targetName: 'renamed', managedSecret: { name: 'renamed' } },
    });
    expect(actions(perJob)).toEqual([
      ['delete', `${target}-${uidA}`, 'load-a'],
      ['create', `renamed-${uidA}`, 'load-a'],
    ]);
    expect(perJob.ended).toEqual([]);
  });
});

describe('unseenJobSecrets', () => {
  it('names the Secret of each Job status lists as consuming that the cache lacks, under the recorded target', () => {
    const status = {
      secretName: 'earlier-target',
      consumingJobs: [{ uid: uidA }, { uid: uidB }],
    };
    const cached = [{ metadata: { name: perJobSecretName('earlier-target', uidA) } }];
    expect(unseenJobSecrets(status, cached, target)).toEqual([
      { name: `earlier-target-${uidB}`, jobUid: uidB },
    ]);
    expect(unseenJobSecrets({ consumingJobs: [{ uid: uidA }] }, [], target)).toEqual([
      { name: `${target}-${uidA}`, jobUid: uidA },
    ]);
    expect(unseenJobSecrets({}, [], target)).toEqual([]);
  });
});

describe('nextJobCheckMs', () => {
  const interval = 5 * 60_000;
  it('is the time until the earliest per-Job Secret falls due, leaving those already due to other visits', () => {
    expect(nextJobCheckMs({ a: now - interval + 1_000, b: now - 60_000 }, interval, now)).toBe(1_000);
    expect(nextJobCheckMs({ a: now }, interval, now)).toBe(interval);
    expect(nextJobCheckMs({ a: now - interval, b: now - interval - 1 }, interval, now)).toBeUndefined();
    expect(nextJobCheckMs({}, interval, now)).toBeUndefined();
  });
});
