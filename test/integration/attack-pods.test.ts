// Pods that wait for a Secret. Admission only sees new requests: a pod created before its SecretReference
// existed, that names the target Secret with `optional: true` (or names it anyway: the kubelet retries), is
// admitted and then receives whatever the operator writes under that name. The operator must refuse to write
// while such a pod exists, say so in an audit record and a condition, and write once it is gone. Proved on
// the local control plane (kwok runs the pods) with a real AWS Secrets Manager (moto).
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret } from '../support/stores.ts';

let namespace: string;
let operator: TestOperator;
const remoteName = () => `${namespace}/warehouse`;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('attack-pods');
  await seedAwsSecret(remoteName(), JSON.stringify({ password: 'waiting-pod-password' }));
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

async function createReference(name: string) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { name: 'aws' },
        data: [{ key: 'password', remote: { name: remoteName(), property: 'password' } }],
        consumers: { matchLabels: { app: 'loader' } },
      },
    },
  });
}

/** A pod nobody's Job controls, created by a namespace member before the reference existed. */
async function createBarePod(name: string, spec: Partial<k8s.V1PodSpec>) {
  await api(k8s.CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
    },
  });
  await eventually(`pod ${name} to run`, async () => {
    const pod = await api(k8s.CoreV1Api).readNamespacedPod({ name, namespace });
    return pod.status?.phase === 'Running' ? true : undefined;
  });
}

async function createConsumingJob(name: string, secretName: string) {
  return api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: {
            labels: { app: 'loader' },
            annotations: { 'secretlink.dev/simulated-run-time': '600s' },
          },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: secretName } }] }],
          },
        },
      },
    },
  });
}

async function readyCondition(name: string) {
  const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
  };
  return reference.status?.conditions?.find((c) => c.type === 'Ready');
}

function auditOf(reference: string, action?: AuditRecord['action']) {
  return operator.audit.filter(
    (r) =>
      r.reference.namespace === namespace &&
      r.reference.name === reference &&
      (!action || r.action === action),
  );
}

async function deletePod(name: string) {
  await api(k8s.CoreV1Api).deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
  await eventually(`pod ${name} to be gone`, async () => {
    const pods = await api(k8s.CoreV1Api).listNamespacedPod({
      namespace,
      fieldSelector: `metadata.name=${name}`,
    });
    return pods.items.length === 0 ? true : undefined;
  });
}

/** Refusal, no Secret, then the Secret once the waiting pod is deleted: the same for each way in. */
async function refusesWhileThePodWaits(reference: string, pod: string) {
  const job = await createConsumingJob(`${reference}-job`, reference);
  const refused = await eventually('the reference to report the waiting pod', async () => {
    const condition = await readyCondition(reference);
    return condition?.reason === 'ForeignPodUsesTarget' ? condition : undefined;
  });
  expect(refused.status).toBe('False');
  expect(refused.message).toContain(pod);
  expect(await readSecretIfPresent(namespace, reference)).toBeUndefined();
  const records = auditOf(reference, 'Refused');
  expect(records.map((r) => [r.reason, r.targetSecret.name])).toEqual([['ForeignPodUsesTarget', reference]]);
  expect(records[0]!.message).toContain(`pod ${pod}`);
  expect(auditOf(reference, 'Materialized')).toEqual([]);

  await deletePod(pod);
  await eventually(`Secret ${reference} to be written for the Job`, () =>
    readSecretIfPresent(namespace, reference),
  );
  const granted = await eventually('the grant to be audited', async () => {
    const [record] = auditOf(reference, 'Materialized');
    return record;
  });
  expect(granted.job).toMatchObject({ name: `${reference}-job`, uid: job.metadata!.uid });
  // Audit records are written before status, so the condition may still be catching up.
  await eventually('the reference to report the Secret as materialized', async () =>
    (await readyCondition(reference))?.reason === 'Materialized' ? true : undefined,
  );
  // The refusal was recorded once, not on every reconcile while the pod waited.
  expect(auditOf(reference, 'Refused')).toHaveLength(1);
}

describe('pods that wait for a Secret', () => {
  it('refuses to write the Secret while a bare pod, created before the reference, mounts it with optional: true; writes it once the pod is gone', async () => {
    await createBarePod('early-reader', {
      volumes: [{ name: 'stolen', secret: { secretName: 'warehouse', optional: true } }],
    });
    await createReference('warehouse');
    await refusesWhileThePodWaits('warehouse', 'early-reader');
  });

  it('refuses to write the Secret while a bare pod, created before the reference, names it in imagePullSecrets', async () => {
    await createBarePod('early-puller', { imagePullSecrets: [{ name: 'registry' }] });
    await createReference('registry');
    await refusesWhileThePodWaits('registry', 'early-puller');
  });

  it('refuses to write the Secret while a bare pod, created before the reference, reads it through an optional env var', async () => {
    await createBarePod('early-env', {
      containers: [
        {
          name: 'main',
          image: 'busybox',
          env: [
            {
              name: 'PASSWORD',
              valueFrom: { secretKeyRef: { name: 'analytics', key: 'password', optional: true } },
            },
          ],
        },
      ],
    });
    await createReference('analytics');
    await refusesWhileThePodWaits('analytics', 'early-env');
  });

  it('deletes a Secret it wrote when a pod that no consuming Job controls refers to it (admission bypassed), and writes it again once the pod is gone', async () => {
    // No admission policy runs in this file: the pod below stands for one admitted while it was not installed.
    await createReference('late');
    const job = await createConsumingJob('late-job', 'late');
    await eventually('Secret late to be written for the Job', () => readSecretIfPresent(namespace, 'late'));
    await createBarePod('late-reader', { volumes: [{ name: 'stolen', secret: { secretName: 'late' } }] });

    await eventually('Secret late to be deleted', async () =>
      (await readSecretIfPresent(namespace, 'late')) ? undefined : true,
    );
    const revoked = await eventually('the revocation to be audited', async () => {
      const [record] = auditOf('late', 'Revoked');
      return record;
    });
    expect(revoked).toMatchObject({ reason: 'ForeignPodUsesTarget', job: { uid: job.metadata!.uid } });
    const refused = auditOf('late', 'Refused');
    expect(refused.map((r) => r.reason)).toEqual(['ForeignPodUsesTarget']);
    expect(refused[0]!.message).toContain('pod late-reader');
    await eventually('the reference to report the pod', async () =>
      (await readyCondition('late'))?.reason === 'ForeignPodUsesTarget' ? true : undefined,
    );

    await deletePod('late-reader');
    await eventually('Secret late to be written again', () => readSecretIfPresent(namespace, 'late'));
    await eventually('the second grant to be audited', async () =>
      auditOf('late', 'Materialized').length === 2 ? true : undefined,
    );
  });
});
