// What the operator reports matches what the API server confirmed: a write that did not happen is not
// reported (or audited) as one, a value that cannot become a Secret key is reported by its key's name while
// the Job waits, and a remote created after its Job started is picked up within seconds. Local control plane,
// kwok-simulated Jobs, real AWS Secrets Manager (moto).
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterWriter } from '../../src/controller/cluster-writer.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { RateLimiter } from '../../src/runtime/rate-limiter.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, kubeConfig, readSecretIfPresent } from '../support/cluster.ts';
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
const canary = 'canary-value-must-never-leak-7c1f';

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('honest');
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

async function createReference(name: string, spec: Record<string, unknown>) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: { storeRef: { name: 'aws' }, consumers: { matchLabels: { app: 'etl' } }, ...spec },
    },
  });
}

async function createJob(name: string, secretName: string) {
  await api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: {
            labels: { app: 'etl' },
            annotations: { 'secretlink.dev/simulated-run-time': '5m' },
          },
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'etl', image: 'busybox:1.36', envFrom: [{ secretRef: { name: secretName } }] },
            ],
          },
        },
      },
    },
  });
}

interface ReadyCondition {
  status: string;
  reason: string;
  message: string;
}

async function readyOf(name: string): Promise<ReadyCondition | undefined> {
  const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: { conditions?: (ReadyCondition & { type: string })[] };
  };
  return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
}

const readyWith = (name: string, predicate: (ready: ReadyCondition) => boolean) =>
  eventually(`${name} to report its Ready condition`, async () => {
    const ready = await readyOf(name);
    return ready && predicate(ready) ? ready : undefined;
  });

describe('failures are reported as they are', () => {
  it('reports a replace of a Secret that vanished as not written', async () => {
    const writer = createClusterWriter(kubeConfig(), new RateLimiter(50, 100, systemClock));
    const core = api(k8s.CoreV1Api);
    const created = await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'vanishing' }, stringData: { key: 'first' } },
    });
    await core.deleteNamespacedSecret({ namespace, name: 'vanishing' });

    const replaced = await writer.replaceSecret({
      metadata: { namespace, name: 'vanishing', resourceVersion: created.metadata!.resourceVersion },
      stringData: { key: 'second' },
    });
    expect(replaced).toEqual({ result: 'gone' });
    const owners = await writer.setSecretOwners(created, { ownerReferences: [] });
    expect(owners).toEqual({ result: 'gone' });
    const deleted = await writer.deleteSecret(created);
    expect(deleted).toEqual({ result: 'gone' });
    expect(await readSecretIfPresent(namespace, 'vanishing')).toBeUndefined();
  });

  it('refuses a dataFrom key that no Secret may hold, naming the key and never the value, while the Job waits', async () => {
    await seedAwsSecret(
      `${namespace}/odd-keys`,
      JSON.stringify({ 'my key': canary, 'path/like': canary, fine: 'ok' }),
    );
    await createReference('odd-keys', { dataFrom: [{ remote: { name: `${namespace}/odd-keys` } }] });
    await createJob('odd-keys-job', 'odd-keys');

    const ready = await readyWith('odd-keys', (condition) => condition.status === 'False');
    expect(ready.reason).toBe('RemoteValueInvalid');
    expect(ready.message).toContain('"my key"');
    expect(ready.message).not.toContain(canary);
    const failed = await eventually('the failure to be audited', async () =>
      operator.audit.find(
        (record) =>
          record.reference.name === 'odd-keys' && (record.action === 'Failed' || record.action === 'Refused'),
      ),
    );
    expect(failed.message).toContain('my key');
    const event = await eventually('the failure to be an Event on the reference', async () => {
      const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace });
      return events.items.find(
        (item) => item.regarding?.name === 'odd-keys' && item.reason === failed.action,
      );
    });
    expect(event.note).toContain('my key');
    expect(event.note).not.toContain(canary);
    expect(JSON.stringify(operator.audit)).not.toContain(canary);
    expect(await readSecretIfPresent(namespace, 'odd-keys')).toBeUndefined();
    // Still not healthy a moment later, while the Job still waits.
    expect((await readyOf('odd-keys'))?.status).toBe('False');
  });

  it('writes the Secret within seconds of its remote being created after the Job started', async () => {
    const remote = `${namespace}/late`;
    await createReference('late', {
      refreshInterval: '5m',
      data: [{ key: 'token', remote: { name: remote } }],
    });
    await createJob('late-job', 'late');
    // Once its pod runs, the Job changes no more, so nothing but the operator's own retry looks again.
    await eventually('the Job pod to run', async () => {
      const pods = await api(k8s.CoreV1Api).listNamespacedPod({
        namespace,
        labelSelector: 'batch.kubernetes.io/job-name=late-job',
      });
      return pods.items.find((pod) => pod.status?.phase === 'Running');
    });
    await readyWith('late', (condition) => condition.reason === 'RemoteNotFound');

    await seedAwsSecret(remote, 'late-token');
    // Well before the 5m refreshInterval: the waiting Job makes the retry come back in seconds.
    const secret = await eventually(
      'the Secret to be written',
      () => readSecretIfPresent(namespace, 'late'),
      {
        timeoutMs: 30_000,
      },
    );
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString()).toBe('late-token');
    await readyWith('late', (condition) => condition.reason === 'Materialized');
  });
});
