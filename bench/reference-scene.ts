// The scene the at-rest and growth benchmarks share: a namespace with one AWS SecretStore on moto, remote
// secrets the references share, SecretReferences created many at a time, Jobs that consume them, and the
// operator's convergence read from its own metrics (a list of 10,000 references every few seconds would be
// load of the benchmark's own making).
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../src/api/constants.ts';
import type { EnvironmentInfo } from '../test/env/environment.ts';
import { motoClient } from '../test/env/stores/clients.ts';
import { createAwsStore } from './aws-store.ts';
import { metricSum } from './shipped-operator.ts';
import { sleep, waitFor } from './wait.ts';

export interface SceneClients {
  core: k8s.CoreV1Api;
  custom: k8s.CustomObjectsApi;
  batch: k8s.BatchV1Api;
}

export function sceneClients(kubeConfig: k8s.KubeConfig): SceneClients {
  return {
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    custom: kubeConfig.makeApiClient(k8s.CustomObjectsApi),
    batch: kubeConfig.makeApiClient(k8s.BatchV1Api),
  };
}

/** The remote secrets `bench/remote-<i>`, each a JSON object with a password. */
export async function createRemoteSecrets(info: EnvironmentInfo, count: number): Promise<void> {
  const sm = motoClient(info.stores.aws);
  for (let index = 0; index < count; index++)
    await sm.send(
      new CreateSecretCommand({
        Name: `bench/remote-${index}`,
        SecretString: JSON.stringify({ password: `p${index}` }),
      }),
    );
  sm.destroy();
}

/** The namespace, once its default ServiceAccount exists (Job pods need it), and its AWS SecretStore. */
export async function createSceneNamespace(
  info: EnvironmentInfo,
  clients: SceneClients,
  namespace: string,
): Promise<void> {
  await clients.core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitFor(
    `the default ServiceAccount of ${namespace}`,
    async () =>
      clients.core
        .readNamespacedServiceAccount({ namespace, name: 'default' })
        .then(() => true)
        .catch(() => false),
    120_000,
    200,
  );
  await createAwsStore(info, clients.core, clients.custom, namespace);
}

/**
 * SecretReferences `ref-<from>` .. `ref-<to - 1>`, `width` creates in flight; returns how long it took, from
 * the first create sent to the last one acknowledged. Reference i reads remote secret i mod `remotes` and is
 * consumed by Jobs labelled `reference: ref-<i>`.
 */
export async function createReferences(
  custom: k8s.CustomObjectsApi,
  namespace: string,
  range: { from: number; to: number; remotes: number; width: number },
): Promise<number> {
  const started = performance.now();
  await inParallel(range.to - range.from, range.width, async (offset) => {
    const index = range.from + offset;
    await retried(() =>
      custom
        .createNamespacedCustomObject({
          group,
          version,
          plural: plurals.secretReference,
          namespace,
          body: {
            apiVersion: `${group}/${version}`,
            kind: 'SecretReference',
            metadata: { name: `ref-${index}`, labels: { app: 'bench' } },
            spec: {
              storeRef: { name: 'aws' },
              data: [
                {
                  key: 'password',
                  remote: { name: `bench/remote-${index % range.remotes}`, property: 'password' },
                },
              ],
              consumers: { matchLabels: { reference: `ref-${index}` } },
            },
          },
        })
        .catch(alreadyThere),
    );
  });
  return performance.now() - started;
}

/** Jobs `job-<i>` for i in [0, count), Job i consuming `ref-<i>`, kept running by kwok for an hour. */
export async function createJobs(
  batch: k8s.BatchV1Api,
  namespace: string,
  count: number,
  width: number,
): Promise<number> {
  const started = performance.now();
  await inParallel(count, width, async (index) => {
    await retried(() =>
      batch
        .createNamespacedJob({ namespace, body: jobBody(`job-${index}`, `ref-${index}`) })
        .catch(alreadyThere),
    );
  });
  return performance.now() - started;
}

/** Jobs listed as owners of a managed Secret in the namespace. */
export async function ownedJobs(core: k8s.CoreV1Api, namespace: string): Promise<number> {
  const secrets = await core.listNamespacedSecret({
    namespace,
    labelSelector: 'secretlink.dev/managed-by=secretlink',
  });
  return secrets.items.reduce(
    (sum, secret) =>
      sum + (secret.metadata?.ownerReferences ?? []).filter((owner) => owner.kind === 'Job').length,
    0,
  );
}

/**
 * Jobs whose start and running pod the Job controller has recorded (`status.startTime`, `status.active`).
 * Under a burst it records these a minute or more after the creates, paced by its own client, and each
 * update wakes the reference that Job consumes. (kwok's pods here run without turning Ready, so `ready` is
 * no signal.)
 */
export async function settledJobs(batch: k8s.BatchV1Api, namespace: string): Promise<number> {
  const jobs = await batch.listNamespacedJob({ namespace });
  return jobs.items.filter((job) => job.status?.startTime && (job.status.active ?? 0) >= 1).length;
}

/**
 * Converged: every reference reconciled successfully at least once by this process (it has listed every cache
 * and checked each reference against its store and its Jobs), and then no reconcile for 3 s. Returns when the
 * count was reached and when the last reconcile was seen (Date.now(), to within the polling): on a fresh start
 * the first successful reconcile of a reference only adds its finalizer, and its status is written by the next
 * one, so the count alone would stop the clock half-way. (The work queue's depth is no signal either: it also
 * counts keys waiting for a later visit, such as a refresh, so it is not 0 once Jobs are active.)
 */
export async function waitForConvergence(
  metrics: () => Promise<string>,
  references: number,
  timeoutMs: number,
): Promise<{ reconciledAt: number; quietAt: number }> {
  await waitFor(
    `${references} successful reconciles`,
    async () => metricSum(await metrics(), 'secretlink_reconciles_total', 'result="success"') >= references,
    timeoutMs,
    200,
  );
  const reconciledAt = Date.now();
  let lastChange = Date.now();
  let last = -1;
  await waitFor(
    'reconciles to stop for 3 s',
    async () => {
      const total = metricSum(await metrics(), 'secretlink_reconciles_total');
      if (total !== last) lastChange = Date.now();
      last = total;
      return Date.now() - lastChange >= 3000;
    },
    timeoutMs,
    1000,
  );
  return { reconciledAt, quietAt: lastChange };
}

/** References whose status has a Ready condition, in one paged list. */
export async function referencesWithCondition(
  custom: k8s.CustomObjectsApi,
  namespace: string,
): Promise<number> {
  let count = 0;
  let next: string | undefined;
  do {
    const page = (await custom.listNamespacedCustomObject({
      group,
      version,
      plural: plurals.secretReference,
      namespace,
      limit: 500,
      ...(next ? { _continue: next } : {}),
    })) as {
      items: { status?: { conditions?: { type: string }[] } }[];
      metadata?: { continue?: string };
    };
    count += page.items.filter((item) => item.status?.conditions?.some((c) => c.type === 'Ready')).length;
    next = page.metadata?.continue || undefined;
  } while (next);
  return count;
}

function jobBody(name: string, reference: string): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {
          labels: { reference },
          // kwok keeps the pod running this long: every Job stays active for the whole measurement.
          annotations: { 'secretlink.dev/simulated-run-time': '60m' },
        },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: reference } }] }],
        },
      },
    },
  };
}

/** A create whose answer was lost and that is sent again finds its object there. */
function alreadyThere(error: unknown): undefined {
  if (error instanceof k8s.ApiException && error.code === 409) return undefined;
  throw error;
}

/** The API server on a loaded machine answers 429 or drops a connection now and then: try again, a few times. */
async function retried<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const status = error instanceof k8s.ApiException ? error.code : 0;
      const transient = status === 429 || status >= 500 || !(error instanceof k8s.ApiException);
      if (!transient || attempt >= 4) throw error;
      await sleep(500 * 2 ** attempt);
    }
  }
}

export async function inParallel(
  count: number,
  width: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}
