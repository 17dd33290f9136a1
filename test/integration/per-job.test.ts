// Per-Job Secrets (spec.isolation: PerJob) on the local control plane, with the shipped admission policies and
// the per-Job component installed: the real Job controller creates the pods (kwok runs them), the mutating
// policy rewrites each to its own Job's Secret, the pod policy keeps every pod to that one Secret, and the
// operator gives each Job its own Secret and takes only that one away when the Job ends.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig } from '../env/operator-identity.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import {
  api,
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
import { seedAwsSecret } from '../support/stores.ts';

const reference = 'warehouse';

let namespace: string;
let operator: TestOperator;
let removeAdmission: (() => Promise<void>) | undefined;

beforeAll(async () => {
  await installCrds();
  // The install a user makes on Kubernetes 1.36: config/admission with the per-Job component.
  removeAdmission = await installPerJobAdmission();
  namespace = await createAwsTenant('per-job');
  await seedAwsSecret(
    `${namespace}/warehouse`,
    JSON.stringify({ user: 'loader', password: 'per-job-password' }),
  );
  // As the operator's own ServiceAccount, under its RBAC and the policies that bound it (config/admission/operator).
  await installOperatorRbac(environment());
  // No Lease left by an earlier holder on this control plane.
  await api(k8s.CoordinationV1Api)
    .deleteNamespacedLease({ namespace: operatorNamespace, name: 'secretlink-operator' })
    .catch(() => undefined);
  operator = startTestOperator({
    namespaces: [namespace],
    identity: 'per-job-operator',
    // The one Lease the operator's identity may hold (config/admission/operator/leases-events.yaml).
    leaseName: 'secretlink-operator',
    kubeConfig: await operatorKubeConfig(environment()),
  });
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: reference },
      spec: {
        storeRef: { name: 'aws' },
        data: [{ key: 'password', remote: { name: `${namespace}/warehouse`, property: 'password' } }],
        consumers: { matchLabels: { app: 'dbt' } },
        isolation: 'PerJob',
      },
    },
  });
  await awaitPodRewrite(namespace, reference, { app: 'dbt' });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  if (namespace) await deleteNamespace(namespace);
  await removeAdmission?.();
});

function jobBody(name: string, secretName: string, runTime: string): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { app: 'dbt' }, annotations: { 'secretlink.dev/simulated-run-time': runTime } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'dbt',
              image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
              envFrom: [{ secretRef: { name: secretName } }],
              env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: secretName, key: 'password' } } }],
            },
          ],
          volumes: [{ name: 'credentials', secret: { secretName } }],
        },
      },
    },
  };
}

const createJob = (name: string, secretName: string, runTime: string) =>
  api(k8s.BatchV1Api).createNamespacedJob({ namespace, body: jobBody(name, secretName, runTime) });

const podOf = (jobName: string) =>
  eventually(`a pod of Job ${jobName}`, async () => {
    const pods = await api(k8s.CoreV1Api).listNamespacedPod({
      namespace,
      labelSelector: `job-name=${jobName}`,
    });
    return pods.items[0];
  });

const secretNamesOf = (pod: k8s.V1Pod) => [
  ...(pod.spec?.volumes ?? []).flatMap((v) => (v.secret?.secretName ? [v.secret.secretName] : [])),
  ...(pod.spec?.containers ?? []).flatMap((c) => [
    ...(c.envFrom ?? []).map((f) => f.secretRef?.name),
    ...(c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name),
  ]),
];

const readSecret = (name: string) => readSecretIfPresent(namespace, name);

describe('per-Job Secrets', () => {
  let jobA: k8s.V1Job;
  let jobB: k8s.V1Job;

  it('gives each of two Jobs its own Secret and rewrites each pod to its own', async () => {
    // A ends on its own a little later; B runs on.
    jobA = await createJob('load-a', reference, '12s');
    jobB = await createJob('load-b', reference, '600s');
    const secretA = `${reference}-${jobA.metadata!.uid}`;
    const secretB = `${reference}-${jobB.metadata!.uid}`;

    const [podA, podB] = [await podOf('load-a'), await podOf('load-b')];
    expect(secretNamesOf(podA)).toEqual([secretA, secretA, secretA]);
    expect(secretNamesOf(podB)).toEqual([secretB, secretB, secretB]);

    for (const [name, job] of [
      [secretA, jobA],
      [secretB, jobB],
    ] as const) {
      const secret = await eventually(`Secret ${name}`, () => readSecret(name));
      expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe('per-job-password');
      expect(secret.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([job.metadata!.uid]);
      expect(secret.metadata?.labels?.['secretlink.dev/job-uid']).toBe(job.metadata!.uid);
    }
    // No Secret is ever written under the target name itself.
    expect(await readSecret(reference)).toBeUndefined();
  });

  it("refuses a pod of one Job that names another Job's Secret", async () => {
    const secretB = `${reference}-${jobB.metadata!.uid}`;
    await createJob('load-c', secretB, '600s');
    const messages = await eventually('the Job controller to report the refusal', async () => {
      const events = await api(k8s.CoreV1Api).listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.kind=Job,involvedObject.name=load-c',
      });
      const failed = events.items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message ?? '');
      return failed.length > 0 ? failed : undefined;
    });
    expect(messages[0]).toContain(`refers to ${secretB}, another Job's Secret`);
    const pods = await api(k8s.CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'job-name=load-c' });
    expect(pods.items).toEqual([]);
  });

  it('gives a Job that does not match consumers no Secret, and the API server refuses its pods', async () => {
    const body = jobBody('load-x', reference, '600s');
    body.spec!.template.metadata!.labels = { app: 'airbyte' };
    const refused = await api(k8s.BatchV1Api).createNamespacedJob({ namespace, body });
    await eventually('the Job to be reported refused', async () => {
      const current = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: reference,
      })) as { status?: { refusedJobs?: { name: string }[] } };
      return current.status?.refusedJobs?.some((job) => job.name === 'load-x') ? true : undefined;
    });
    expect(await readSecret(`${reference}-${refused.metadata!.uid}`)).toBeUndefined();
    const events = await eventually('the Job controller to report the refusal', async () => {
      const list = await api(k8s.CoreV1Api).listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.kind=Job,involvedObject.name=load-x',
      });
      const failed = list.items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message ?? '');
      return failed.length > 0 ? failed : undefined;
    });
    expect(events[0]).toContain("labels do not match the reference's consumers");
    await api(k8s.BatchV1Api).deleteNamespacedJob({
      namespace,
      name: 'load-x',
      propagationPolicy: 'Background',
    });
  });

  it('refuses a bare pod that names the target or a Job Secret', async () => {
    for (const secretName of [reference, `${reference}-${jobB.metadata!.uid}`]) {
      const outcome = await api(k8s.CoreV1Api)
        .createNamespacedPod({
          namespace,
          body: {
            metadata: { name: `bare-${secretName.length}`, labels: { app: 'dbt' } },
            spec: {
              containers: [
                { name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: secretName } }] },
              ],
            },
          },
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(statusCodeOf(outcome)).toBe(403);
      expect(String((outcome as k8s.ApiException<string>).body)).toContain(
        `of SecretReference ${namespace}/${reference}`,
      );
    }
  });

  it("deletes only the ending Job's Secret when it completes, and records the revocation", async () => {
    const secretA = `${reference}-${jobA.metadata!.uid}`;
    const secretB = `${reference}-${jobB.metadata!.uid}`;
    await eventually(
      `Secret ${secretA} to be deleted once Job load-a completed`,
      async () => ((await readSecret(secretA)) ? undefined : true),
      { timeoutMs: 30_000 },
    );
    expect(await readSecret(secretB)).toBeDefined();
    const revoked = await eventually('the revocation record', async () =>
      operator.audit.find((r) => r.action === 'Revoked' && r.job?.uid === jobA.metadata!.uid),
    );
    expect(revoked.targetSecret.name).toBe(secretA);
    expect(operator.audit.filter((r) => r.action === 'Revoked' && r.job?.uid === jobB.metadata!.uid)).toEqual(
      [],
    );
    const granted = operator.audit.filter((r) => r.action === 'Materialized');
    expect(granted.map((r) => [r.job?.name, r.targetSecret.name]).sort()).toEqual([
      ['load-a', secretA],
      ['load-b', secretB],
    ]);
  });

  it('keeps isolation as created', async () => {
    const outcome = await customApi()
      .patchNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: reference,
        body: [{ op: 'replace', path: '/spec/isolation', value: 'Shared' }],
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(statusCodeOf(outcome)).toBe(422);
    expect(String((outcome as k8s.ApiException<string>).body)).toContain('spec.isolation cannot be changed');
  });

  it('deletes the remaining Job Secret when the reference is deleted', async () => {
    const secretB = `${reference}-${jobB.metadata!.uid}`;
    await customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace, name: reference });
    await eventually(`Secret ${secretB} to be deleted`, async () =>
      (await readSecret(secretB)) ? undefined : true,
    );
    const revoked = await eventually('the revocation record', async () =>
      operator.audit.find((r) => r.action === 'Revoked' && r.job?.uid === jobB.metadata!.uid),
    );
    expect(revoked.reason).toBe('ReferenceDeleted');
  });
});
