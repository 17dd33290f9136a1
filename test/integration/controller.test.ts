// The operator's lifecycle rules, each proved on the local control plane with kwok-simulated Jobs and a real
// AWS Secrets Manager (moto): a Secret exists exactly while a consuming Job is entitled to it. Every rule runs
// in both isolation modes: Shared (one Secret under the target name, owned by every consuming Job) and PerJob
// (each Job its own Secret `<target>-<job uid>`, owned by that Job alone). PerJob runs as a user installs it:
// config/admission with the per-Job component (its mutating policy rewrites each Job pod to its own Secret),
// and the operator under its own ServiceAccount, whose rights and admission bounds the install ships.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig } from '../env/operator-identity.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  environment,
  eventually,
  readSecretIfPresent,
  statusCodeOf,
} from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { awaitPodRewrite, installPerJobAdmission } from '../support/per-job-admission.ts';
import { rotateAwsSecret, seedAwsSecret } from '../support/stores.ts';

/** What differs between the two isolation modes, as far as these rules can see. */
interface Mode {
  isolation: 'Shared' | 'PerJob';
  /** Sets up what the mode needs and starts the operator; returns what undoes the setup. */
  install(): Promise<() => Promise<void>>;
  /** The operator as this mode runs it, continuing `audit` (a restart). */
  start(audit?: AuditRecord[]): Promise<TestOperator>;
  /** The Secret that serves `job` for a reference whose target is `target`. */
  secretFor(target: string, job: k8s.V1Job): string;
  /** The Jobs that own the Secret serving `job` while `consuming` are the reference's consuming Jobs. */
  ownersOf(job: k8s.V1Job, consuming: k8s.V1Job[]): k8s.V1Job[];
  /** A client acting as whoever writes managed Secrets in this mode (only the operator, once config/admission is in). */
  secretWriter(): Promise<k8s.CoreV1Api>;
}

const shared: Mode = {
  isolation: 'Shared',
  install: async () => async () => {},
  start: async (audit) => startTestOperator({ namespaces: [namespace], audit }),
  secretFor: (target) => target,
  ownersOf: (_, consuming) => consuming,
  secretWriter: async () => api(k8s.CoreV1Api),
};

const perJob: Mode = {
  isolation: 'PerJob',
  install: async () => {
    // The install a user makes on Kubernetes 1.36: config/admission with the per-Job component.
    const removeAdmission = await installPerJobAdmission();
    await installOperatorRbac(environment());
    // No Lease left by an earlier holder on this control plane.
    await api(k8s.CoordinationV1Api)
      .deleteNamespacedLease({ namespace: operatorNamespace, name: 'secretlink-operator' })
      .catch(() => undefined);
    return removeAdmission;
  },
  start: async (audit) =>
    startTestOperator({
      namespaces: [namespace],
      identity: 'controller-per-job',
      // The one Lease the operator's identity may hold (config/admission/operator/leases-events.yaml).
      leaseName: 'secretlink-operator',
      kubeConfig: await operatorKubeConfig(environment()),
      audit,
    }),
  secretFor: (target, job) => `${target}-${job.metadata!.uid}`,
  ownersOf: (job) => [job],
  secretWriter: async () => (await operatorKubeConfig(environment())).makeApiClient(k8s.CoreV1Api),
};

let mode: Mode;
let namespace: string;
let operator: TestOperator;
const remoteName = () => `${namespace}/warehouse`;

/**
 * Creates a reference in the current mode. In PerJob mode pods are rewritten to their Job's own Secret only once
 * the operator claimed the target and the API server loaded the reference as a policy parameter: waited for,
 * unless the target is not expected to be claimed (`claimed: false`).
 */
async function createReference(
  name: string,
  spec: Record<string, unknown> = {},
  { claimed = true }: { claimed?: boolean } = {},
) {
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
        isolation: mode.isolation,
        ...spec,
      },
    },
  });
  if (mode.isolation === 'PerJob' && claimed) await awaitPodRewrite(namespace, name, { app: 'dbt' });
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
      managedSecret?: { name: string; uid?: string };
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

/**
 * The records about a Job, each once: a restarted operator emits the last grant of each Secret it finds held
 * again, under the same id (docs/design.md: count records by id).
 */
function auditFor(jobName: string, action?: AuditRecord['action']) {
  const about = operator.audit.filter(
    (record) => record.job?.name === jobName && (!action || record.action === action),
  );
  return about.filter((record, index) => about.findIndex((other) => other.id === record.id) === index);
}

/** The record follows the delete the API server confirmed, so it may land just after the Secret is gone. */
const audited = (jobName: string, action: AuditRecord['action']) =>
  eventually(`a ${action} record for Job ${jobName}`, async () =>
    auditFor(jobName, action).length > 0 ? true : undefined,
  );

const decoded = (secret: k8s.V1Secret, key: string) =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString();

const uids = (jobs: { uid?: string }[] | undefined) => (jobs ?? []).map((job) => job.uid).sort();

/** The Secret that serves `job`, once its owners are exactly those the mode expects. */
const servedBy = (target: string, job: k8s.V1Job, consuming: k8s.V1Job[]) => {
  const owners = uids(mode.ownersOf(job, consuming).map((owner) => owner.metadata!));
  return secretExists(mode.secretFor(target, job), (secret) =>
    equal(uids(secret.metadata?.ownerReferences), owners),
  );
};

const equal = (a: unknown[], b: unknown[]) => JSON.stringify(a) === JSON.stringify(b);

/** Names of the Secrets a pod refers to through env and envFrom. */
const secretNamesOf = (pod: k8s.V1Pod) =>
  (pod.spec?.containers ?? []).flatMap((c) => [
    ...(c.envFrom ?? []).flatMap((f) => (f.secretRef?.name ? [f.secretRef.name] : [])),
    ...(c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef?.name ? [e.valueFrom.secretKeyRef.name] : [])),
  ]);

describe.each([shared, perJob])('secretlink controller, isolation $isolation', (current) => {
  let undoInstall: (() => Promise<void>) | undefined;
  let overrunning: k8s.V1Job;

  beforeAll(async () => {
    mode = current;
    await installCrds();
    undoInstall = await mode.install();
    namespace = await createAwsTenant(mode.isolation === 'Shared' ? 'controller' : 'controller-per-job');
    await seedAwsSecret(remoteName(), JSON.stringify({ user: 'loader', password: 'first-password' }));
    operator = await mode.start();
    // The ttl case must wait out a whole ttl, at least the 1m the schema allows: its Job starts first, so that
    // minute passes while the other cases run, and its test, the last, checks what came of it. Its remote is
    // its own, which the rotation case leaves alone.
    const cappedRemote = `${namespace}/capped`;
    await seedAwsSecret(cappedRemote, JSON.stringify({ user: 'loader', password: 'capped-password' }));
    await createReference('capped', {
      ttl: '1m',
      data: [{ key: 'password', remote: { name: cappedRemote, property: 'password' } }],
    });
    overrunning = await createJob('overrunning', 'capped', { runTime: '10m' });
  });

  afterAll(async () => {
    await operator?.stop();
    expect(operator?.sinkErrors).toEqual([]);
    if (namespace) await deleteNamespace(namespace);
    await undoInstall?.();
  });

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

    const secretName = mode.secretFor('nightly', job);
    const secret = await secretExists(secretName);
    expect(decoded(secret, 'username')).toBe('loader');
    expect(decoded(secret, 'password')).toBe('first-password');
    expect(secret.metadata?.labels).toMatchObject({
      'secretlink.dev/managed-by': 'secretlink',
      'secretlink.dev/reference': 'nightly',
      ...(mode.isolation === 'PerJob' ? { 'secretlink.dev/job-uid': job.metadata!.uid } : {}),
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
    // The pod refers to the Secret that serves it: the target, or in PerJob mode its Job's own.
    expect(secretNamesOf(pod)).toEqual([secretName]);

    await jobFinished('nightly-dbt-manual');
    await secretGone(secretName);
    await eventually('the metric to drop the revoked Secret', async () =>
      (await managedSecretsMetric()) === (await managedSecretsListed()) ? true : undefined,
    );
    await audited('nightly-dbt-manual', 'Revoked');
    expect(auditFor('nightly-dbt-manual').map((r) => r.action)).toEqual(['Materialized', 'Revoked']);
    const materialized = auditFor('nightly-dbt-manual', 'Materialized')[0]!;
    expect(materialized.targetSecret.name).toBe(secretName);
    expect(materialized.remotes).toEqual([{ name: remoteName(), version: expect.any(String) }]);
    expect(materialized.fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    // The same two decisions as Kubernetes Events on the SecretReference, naming the Job. An Event is created
    // after its record is made, so the revocation's may still be on its way.
    const reasonsAboutJob = async () => {
      const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace });
      return events.items
        .filter(
          (event) => event.regarding?.name === 'nightly' && event.related?.name === 'nightly-dbt-manual',
        )
        .map((event) => event.reason)
        .sort();
    };
    await eventually('the Events of both decisions', async () =>
      (await reasonsAboutJob()).length >= 2 ? true : undefined,
    );
    expect(await reasonsAboutJob()).toEqual(['Materialized', 'Revoked']);
  });

  it('serves two concurrent Jobs until each one ends, taking access away from the first alone', async () => {
    await createReference('shared');
    const first = await createJob('shared-short', 'shared', { runTime: '3s' });
    const second = await createJob('shared-long', 'shared', { runTime: '9s' });
    expect(first.metadata!.uid).not.toBe(second.metadata!.uid);
    // Shared: one Secret owned by both Jobs. PerJob: each Job's own Secret, owned by it alone.
    await servedBy('shared', first, [first, second]);
    await servedBy('shared', second, [first, second]);

    await jobFinished('shared-short');
    await audited('shared-short', 'Revoked');
    await servedBy('shared', second, [second]);
    await eventually('the first Job to hold no Secret', async () => {
      const held = await readSecret(mode.secretFor('shared', first));
      return held?.metadata?.ownerReferences?.some((o) => o.uid === first.metadata!.uid) ? undefined : true;
    });

    await jobFinished('shared-long');
    await secretGone(mode.secretFor('shared', second));
    await audited('shared-long', 'Revoked');
    expect(
      auditFor('shared-short').map((r) => r.action),
      JSON.stringify(auditFor('shared-short'), null, 1),
    ).toEqual(['Materialized', 'Revoked']);
    expect(auditFor('shared-long').map((r) => r.action)).toEqual(['Materialized', 'Revoked']);
  });

  it('refreshes the Secret when the remote value rotates, and only then', async () => {
    await createReference('rotating', { refreshInterval: '10s' });
    const job = await createJob('rotating-job', 'rotating', { runTime: '5m' });
    const secretName = mode.secretFor('rotating', job);
    const before = await secretExists(secretName);
    await rotateAwsSecret(remoteName(), JSON.stringify({ user: 'loader', password: 'second-password' }));

    const after = await eventually(
      'the rotated value to be written',
      async () => {
        const secret = await readSecret(secretName);
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
    await secretGone(secretName);
  });

  it('gives a Job that does not match consumers nothing, and reports the refusal once', async () => {
    await createReference('guarded');
    const intruder = await createJob('intruder', 'guarded', {
      labels: { app: 'crypto-miner' },
      runTime: '5m',
    });
    const reference = await eventually('the refusal to be reported', async () => {
      const current = await readReference('guarded');
      return current.status?.refusedJobs?.some((j) => j.name === 'intruder') ? current : undefined;
    });
    expect(reference.status?.conditions?.[0]?.reason).toBe('NoConsumers');
    expect(await readSecret('guarded')).toBeUndefined();
    expect(await readSecret(mode.secretFor('guarded', intruder))).toBeUndefined();
    await audited('intruder', 'Refused');
    expect(auditFor('intruder').map((r) => r.action)).toEqual(['Refused']);
    expect(auditFor('intruder')[0]!.message).toContain('app is not "dbt"');
  });

  it('deletes the Secret when the SecretReference is deleted, even while its Job runs', async () => {
    await createReference('short-lived');
    const job = await createJob('still-running', 'short-lived', { runTime: '5m' });
    await secretExists(mode.secretFor('short-lived', job));
    await customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace, name: 'short-lived' });
    await secretGone(mode.secretFor('short-lived', job));
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
    // The Job runs before the reference exists, so the operator's first look already sees a consuming Job.
    const job = await createJob('conflicted-job', 'handmade', { runTime: '6s' });
    await eventually('the Job to start', async () => {
      const current = await api(k8s.BatchV1Api).readNamespacedJob({ name: 'conflicted-job', namespace });
      return current.status?.startTime ? current : undefined;
    });
    // A target held by someone else's Secret is never claimed, so in PerJob mode no pod is rewritten either.
    await createReference('conflicted', { target: { name: 'handmade' } }, { claimed: false });
    const reference = await eventually('the conflict to be reported', async () => {
      const current = await readReference('conflicted');
      return current.status?.conditions?.[0]?.reason === 'Conflict' ? current : undefined;
    });
    expect(reference.status?.conditions?.[0]?.status).toBe('False');
    expect(reference.status?.managedSecret).toBeUndefined();
    // The conflict is an Event on the reference too, not only status: `kubectl describe` shows it.
    const conflictEvent = await eventually('the conflict Event', async () => {
      const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace });
      return events.items.find(
        (event) => event.regarding?.name === 'conflicted' && event.reason === 'Refused',
      );
    });
    expect(conflictEvent.type).toBe('Warning');
    expect(conflictEvent.note).toContain('handmade');
    // Nothing written for the running Job under a name of its own either (PerJob), nor claimed later.
    expect(await readSecret(`handmade-${job.metadata!.uid}`)).toBeUndefined();
    await jobFinished('conflicted-job');
    const untouched = await readSecret('handmade');
    expect(decoded(untouched!, 'password')).toBe('set-by-hand');
    expect(untouched!.metadata?.ownerReferences).toBeUndefined();
    expect(untouched!.metadata?.labels).toBeUndefined();
    const after = await readReference('conflicted');
    expect(after.status?.conditions?.[0]?.reason).toBe('Conflict');
    expect(after.status?.managedSecret).toBeUndefined();
    expect(auditFor('conflicted-job', 'Materialized')).toEqual([]);
  });

  it('converges after a restart: serves Jobs that started while it was down and removes orphans', async () => {
    await createReference('resilient');
    await operator.stop();

    const job = await createJob('while-down', 'resilient', { runTime: '5m' });
    // A managed Secret whose reference vanished while the operator was down (as after a crash mid-delete),
    // written as the operator would have written it.
    await (await mode.secretWriter()).createNamespacedSecret({
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

    operator = await mode.start(operator.audit);
    await secretExists(mode.secretFor('resilient', job));
    await secretGone('orphan');
    await audited('while-down', 'Materialized');
    expect(auditFor('while-down').map((r) => r.action)).toEqual(['Materialized']);
    await api(k8s.BatchV1Api).deleteNamespacedJob({
      name: 'while-down',
      namespace,
      propagationPolicy: 'Background',
    });
    await secretGone(mode.secretFor('resilient', job));
  });

  it('expires access once a Job is older than the ttl, while the Job still runs', async () => {
    const secretName = mode.secretFor('capped', overrunning);
    // It had its Secret: the grant is recorded once the API server confirmed the write.
    const [granted] = await eventually('the grant to the overrunning Job', async () => {
      const grants = auditFor('overrunning', 'Materialized');
      return grants.length > 0 ? grants : undefined;
    });
    expect(granted!.targetSecret.name).toBe(secretName);
    await secretGone(secretName, 90_000);
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
    // Isolation plays no part here: the replicas watch a namespace of their own, with nothing in it.
    const watched = await createNamespace('election');
    const lease = `election-${watched}`;
    const replicas = [
      startTestOperator({ namespaces: [watched], identity: 'replica-a', leaseName: lease }),
      startTestOperator({ namespaces: [watched], identity: 'replica-b', leaseName: lease }),
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
      await deleteNamespace(watched);
    }
  });
});
