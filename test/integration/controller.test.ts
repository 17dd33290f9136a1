// The operator's lifecycle rules, each proved on the local control plane with kwok-simulated Jobs and a real
// AWS Secrets Manager (moto): a Secret exists exactly while a consuming Job is entitled to it.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, readSecretIfPresent, statusCodeOf } from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { rotateAwsSecret, seedAwsSecret } from '../support/stores.ts';

let namespace: string;
let operator: TestOperator;
const remoteName = () => `${namespace}/warehouse`;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('controller');
  await seedAwsSecret(remoteName(), JSON.stringify({ user: 'loader', password: 'first-password' }));
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

async function createReference(name: string, spec: Record<string, unknown> = {}) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { name: 'aws' },
        data: [
          { key: 'username', remote: { name: remoteName(), property: 'user' } },
          { key: 'password', remote: { name: remoteName(), property: 'password' } },
        ],
        consumers: { matchLabels: { app: 'dbt' } },
        ...spec,
      },
    },
  });
}

function jobSpec(
  secretName: string,
  options: { labels?: Record<string, string>; runTime?: string; startDelay?: string },
) {
  return {
    backoffLimit: 0,
    template: {
      metadata: {
        labels: options.labels ?? { app: 'dbt' },
        annotations: {
          'secretlink.dev/simulated-run-time': options.runTime ?? '2s',
          ...(options.startDelay ? { 'secretlink.dev/simulated-start-delay': options.startDelay } : {}),
        },
      },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'dbt',
            image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
            envFrom: [{ secretRef: { name: secretName } }],
          },
        ],
      },
    },
  } satisfies k8s.V1JobSpec;
}

async function createJob(name: string, secretName: string, options: Parameters<typeof jobSpec>[1] = {}) {
  return api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: { metadata: { name }, spec: jobSpec(secretName, options) },
  });
}

const readSecret = (name: string) => readSecretIfPresent(namespace, name);

const secretExists = (name: string, predicate: (secret: k8s.V1Secret) => boolean = () => true) =>
  eventually(`Secret ${name} to exist`, async () => {
    const secret = await readSecret(name);
    return secret && predicate(secret) ? secret : undefined;
  });

const secretGone = (name: string, timeoutMs = 15_000) =>
  eventually(`Secret ${name} to be deleted`, async () => ((await readSecret(name)) ? undefined : true), {
    timeoutMs,
  });

const jobFinished = (name: string) =>
  eventually(`Job ${name} to complete`, async () => {
    const job = await api(k8s.BatchV1Api).readNamespacedJob({ name, namespace });
    return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')
      ? job
      : undefined;
  });

async function readReference(name: string) {
  return (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    metadata: k8s.V1ObjectMeta;
    status?: {
      conditions?: { type: string; status: string; reason: string; message: string }[];
      refusedJobs?: { name: string }[];
    };
  };
}

/** secretlink_managed_secrets as the operator reports it. */
async function managedSecretsMetric(): Promise<number> {
  return (await operator.metrics.managedSecrets.get()).values[0]?.value ?? 0;
}

/** Managed Secrets the API server lists in the namespace (the operator watches only this one). */
async function managedSecretsListed(): Promise<number> {
  const secrets = await api(k8s.CoreV1Api).listNamespacedSecret({
    namespace,
    labelSelector: 'secretlink.dev/managed-by=secretlink',
  });
  return secrets.items.length;
}

function auditFor(jobName: string, action?: AuditRecord['action']) {
  return operator.audit.filter(
    (record) => record.job?.name === jobName && (!action || record.action === action),
  );
}

/** The record follows the delete the API server confirmed, so it may land just after the Secret is gone. */
const audited = (jobName: string, action: AuditRecord['action']) =>
  eventually(`a ${action} record for Job ${jobName}`, async () =>
    auditFor(jobName, action).length > 0 ? true : undefined,
  );

const decoded = (secret: k8s.V1Secret, key: string) =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString();

describe('secretlink controller', () => {
  it('gives a CronJob-spawned Job the Secret before its pod starts, and removes it when the Job completes', async () => {
    await createReference('nightly');
    const cronJob = await api(k8s.BatchV1Api).createNamespacedCronJob({
      namespace,
      body: {
        metadata: { name: 'nightly-dbt' },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: { spec: jobSpec('nightly', { startDelay: '2s', runTime: '3s' }) },
        },
      },
    });
    // What `kubectl create job --from=cronjob/nightly-dbt` does: a Job from the template, owned by the CronJob.
    const job = await api(k8s.BatchV1Api).createNamespacedJob({
      namespace,
      body: {
        metadata: {
          name: 'nightly-dbt-manual',
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'CronJob',
              name: 'nightly-dbt',
              uid: cronJob.metadata!.uid!,
              controller: true,
            },
          ],
        },
        spec: cronJob.spec!.jobTemplate.spec!,
      },
    });

    const secret = await secretExists('nightly');
    expect(decoded(secret, 'username')).toBe('loader');
    expect(decoded(secret, 'password')).toBe('first-password');
    expect(secret.metadata?.labels).toMatchObject({
      'secretlink.dev/managed-by': 'secretlink',
      'secretlink.dev/reference': 'nightly',
    });
    expect(secret.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([job.metadata!.uid]);
    expect(JSON.stringify(secret.metadata)).not.toContain('first-password');
    // secretlink_managed_secrets counts what the API server lists as managed, this Secret included.
    await eventually('the metric to count the Secret', async () => {
      const listed = await managedSecretsListed();
      return listed >= 1 && (await managedSecretsMetric()) === listed ? true : undefined;
    });

    const pod = await eventually('the Job pod to start', async () => {
      const pods = await api(k8s.CoreV1Api).listNamespacedPod({
        namespace,
        labelSelector: 'batch.kubernetes.io/job-name=nightly-dbt-manual',
      });
      const started = pods.items.find((p) => p.status?.startTime);
      return started;
    });
    expect(new Date(secret.metadata!.creationTimestamp!).getTime()).toBeLessThanOrEqual(
      new Date(pod.status!.startTime!).getTime(),
    );

    await jobFinished('nightly-dbt-manual');
    await secretGone('nightly');
    await eventually('the metric to drop the revoked Secret', async () =>
      (await managedSecretsMetric()) === (await managedSecretsListed()) ? true : undefined,
    );
    await audited('nightly-dbt-manual', 'Revoked');
    expect(auditFor('nightly-dbt-manual').map((r) => r.action)).toEqual(['Materialized', 'Revoked']);
    const materialized = auditFor('nightly-dbt-manual', 'Materialized')[0]!;
    expect(materialized.remotes).toEqual([{ name: remoteName(), version: expect.any(String) }]);
    expect(materialized.fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    // The same two decisions as Kubernetes Events on the SecretReference, naming the Job.
    const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace });
    const aboutJob = events.items.filter(
      (event) => event.regarding?.name === 'nightly' && event.related?.name === 'nightly-dbt-manual',
    );
    expect(aboutJob.map((event) => event.reason).sort()).toEqual(['Materialized', 'Revoked']);
  });

  it('shares one Secret between two concurrent Jobs until the second one ends', async () => {
    await createReference('shared');
    const first = await createJob('shared-short', 'shared', { runTime: '3s' });
    const second = await createJob('shared-long', 'shared', { runTime: '9s' });
    await secretExists('shared', (s) => s.metadata?.ownerReferences?.length === 2);

    await jobFinished('shared-short');
    await audited('shared-short', 'Revoked');
    const remaining = await secretExists('shared', (s) => s.metadata?.ownerReferences?.length === 1);
    expect(remaining.metadata?.ownerReferences?.[0]?.uid).toBe(second.metadata!.uid);
    expect(first.metadata!.uid).not.toBe(second.metadata!.uid);

    await jobFinished('shared-long');
    await secretGone('shared');
    await audited('shared-long', 'Revoked');
    expect(
      auditFor('shared-short').map((r) => r.action),
      JSON.stringify(auditFor('shared-short'), null, 1),
    ).toEqual(['Materialized', 'Revoked']);
    expect(auditFor('shared-long').map((r) => r.action)).toEqual(['Materialized', 'Revoked']);
  });

  it('refreshes the Secret when the remote value rotates, and only then', async () => {
    await createReference('rotating', { refreshInterval: '10s' });
    await createJob('rotating-job', 'rotating', { runTime: '5m' });
    const before = await secretExists('rotating');
    await rotateAwsSecret(remoteName(), JSON.stringify({ user: 'loader', password: 'second-password' }));

    const after = await eventually(
      'the rotated value to be written',
      async () => {
        const secret = await readSecret('rotating');
        return secret && decoded(secret, 'password') === 'second-password' ? secret : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(after.metadata?.resourceVersion).not.toBe(before.metadata?.resourceVersion);
    // The record follows the confirmed write (after the signed file took it), so it can trail the Secret.
    await eventually('the refresh to be recorded', async () =>
      auditFor('rotating-job', 'Refreshed').length > 0 ? true : undefined,
    );
    expect(auditFor('rotating-job').map((r) => r.action)).toEqual(['Materialized', 'Refreshed']);
    const [granted, refreshed] = auditFor('rotating-job');
    expect(refreshed!.fingerprint).not.toBe(granted!.fingerprint);
    await api(k8s.BatchV1Api).deleteNamespacedJob({
      name: 'rotating-job',
      namespace,
      propagationPolicy: 'Background',
    });
    await secretGone('rotating');
  });

  it('gives a Job that does not match consumers nothing, and reports the refusal once', async () => {
    await createReference('guarded');
    await createJob('intruder', 'guarded', { labels: { app: 'crypto-miner' }, runTime: '5m' });
    const reference = await eventually('the refusal to be reported', async () => {
      const current = await readReference('guarded');
      return current.status?.refusedJobs?.some((j) => j.name === 'intruder') ? current : undefined;
    });
    expect(reference.status?.conditions?.[0]?.reason).toBe('NoConsumers');
    expect(await readSecret('guarded')).toBeUndefined();
    await audited('intruder', 'Refused');
    expect(auditFor('intruder').map((r) => r.action)).toEqual(['Refused']);
    expect(auditFor('intruder')[0]!.message).toContain('app is not "dbt"');
  });

  it('deletes the Secret when the SecretReference is deleted, even while its Job runs', async () => {
    await createReference('short-lived');
    await createJob('still-running', 'short-lived', { runTime: '5m' });
    await secretExists('short-lived');
    await customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace, name: 'short-lived' });
    await secretGone('short-lived');
    await eventually('the reference to be gone', async () =>
      readReference('short-lived').then(
        () => undefined,
        (error) => (statusCodeOf(error) === 404 ? true : undefined),
      ),
    );
    await audited('still-running', 'Revoked');
    expect(auditFor('still-running').map((r) => [r.action, r.reason])).toEqual([
      ['Materialized', 'SecretCreated'],
      ['Revoked', 'ReferenceDeleted'],
    ]);
  });

  it('never overwrites or deletes a Secret it does not manage, and reports the conflict', async () => {
    await api(k8s.CoreV1Api).createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'handmade' }, stringData: { password: 'set-by-hand' } },
    });
    await createReference('conflicted', { target: { name: 'handmade' } });
    await createJob('conflicted-job', 'handmade', { runTime: '3s' });
    const reference = await eventually('the conflict to be reported', async () => {
      const current = await readReference('conflicted');
      return current.status?.conditions?.[0]?.reason === 'Conflict' ? current : undefined;
    });
    expect(reference.status?.conditions?.[0]?.status).toBe('False');
    // The conflict is an Event on the reference too, not only status: `kubectl describe` shows it.
    const conflictEvent = await eventually('the conflict Event', async () => {
      const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace });
      return events.items.find(
        (event) => event.regarding?.name === 'conflicted' && event.reason === 'Refused',
      );
    });
    expect(conflictEvent.type).toBe('Warning');
    expect(conflictEvent.note).toContain('handmade');
    await jobFinished('conflicted-job');
    const untouched = await readSecret('handmade');
    expect(decoded(untouched!, 'password')).toBe('set-by-hand');
    expect(untouched!.metadata?.ownerReferences).toBeUndefined();
    expect(untouched!.metadata?.labels).toBeUndefined();
  });

  it('converges after a restart: serves Jobs that started while it was down and removes orphans', async () => {
    await createReference('resilient');
    await operator.stop();

    await createJob('while-down', 'resilient', { runTime: '5m' });
    // A managed Secret whose reference vanished while the operator was down (as after a crash mid-delete).
    await api(k8s.CoreV1Api).createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: 'orphan',
          labels: {
            'secretlink.dev/managed-by': 'secretlink',
            'secretlink.dev/reference': 'deleted-reference',
          },
        },
        stringData: { password: 'stale' },
      },
    });

    operator = startTestOperator({ namespaces: [namespace], audit: operator.audit });
    await secretExists('resilient');
    await secretGone('orphan');
    await audited('while-down', 'Materialized');
    expect(auditFor('while-down').map((r) => r.action)).toEqual(['Materialized']);
    await api(k8s.BatchV1Api).deleteNamespacedJob({
      name: 'while-down',
      namespace,
      propagationPolicy: 'Background',
    });
    await secretGone('resilient');
  });

  it('expires access once a Job is older than the ttl, while the Job still runs', async () => {
    await createReference('capped', { ttl: '1m' });
    await createJob('overrunning', 'capped', { runTime: '10m' });
    await secretExists('capped');
    await secretGone('capped', 90_000);
    await audited('overrunning', 'Expired');
    const job = await api(k8s.BatchV1Api).readNamespacedJob({ name: 'overrunning', namespace });
    expect(job.status?.active).toBe(1);
    expect(auditFor('overrunning').map((r) => [r.action, r.reason])).toEqual([
      ['Materialized', 'SecretCreated'],
      ['Expired', 'TtlPassed'],
    ]);
    const ready = await eventually('status to say the ttl passed', async () => {
      const condition = (await readReference('capped')).status?.conditions?.[0];
      return condition?.reason === 'Expired' ? condition : undefined;
    });
    expect(ready.status).toBe('True');
    expect(ready.message).toContain('overrunning');
  }, 120_000);
});

describe('leader election', () => {
  it('lets only one of two replicas act, and hands over when the leader stops', async () => {
    const lease = `election-${namespace}`;
    const replicas = [
      startTestOperator({ namespaces: [namespace], identity: 'replica-a', leaseName: lease }),
      startTestOperator({ namespaces: [namespace], identity: 'replica-b', leaseName: lease }),
    ];
    try {
      const leader = await eventually('one replica to lead', async () => replicas.find((r) => r.leading()));
      const observations: number[] = [];
      for (let sample = 0; sample < 20; sample++) {
        observations.push(replicas.filter((r) => r.leading()).length);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(Math.max(...observations)).toBe(1);

      await leader.stop();
      const successor = await eventually('the standby to take over', async () =>
        replicas.find((r) => r !== leader && r.leading()),
      );
      expect(successor.identity).not.toBe(leader.identity);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });
});
