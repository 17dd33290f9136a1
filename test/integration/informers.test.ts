// Proves the informer wrapper against the real API server: it sees every change, keeps it through watches
// that end, filters by label and namespace, holds no Secret values, and recovers from failing requests.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPodInformer,
  managedSecretSelector,
  resourceKinds,
} from '../../src/controller/watched-resources.ts';
import { createInformer, type Informer, type InformerEvent } from '../../src/runtime/informers.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  eventually,
  kubeConfig,
  kubectl,
  statusCodeOf,
} from '../support/cluster.ts';

let namespace: string;
const started: Informer<k8s.KubernetesObject>[] = [];

beforeAll(async () => {
  namespace = await createNamespace('informers');
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((informer) => informer.stop()));
});
afterAll(() => deleteNamespace(namespace));

function startInformer<T extends k8s.KubernetesObject>(informer: Informer<T>) {
  const events: Array<{ event: InformerEvent; name: string; object: T }> = [];
  for (const event of ['add', 'update', 'delete'] as const) {
    informer.on(event, (object) => events.push({ event, name: object.metadata?.name ?? '', object }));
  }
  informer.start();
  started.push(informer as unknown as Informer<k8s.KubernetesObject>);
  return events;
}

const shortBackoff = { reconnectBackoff: { baseMs: 200, maxMs: 1_000 } };

describe('informers', () => {
  it('sees a Job added, updated and deleted, and serves it frozen from its cache', async () => {
    const jobs = createInformer<k8s.V1Job>(kubeConfig(), resourceKinds.job, { namespaces: [namespace] });
    const events = startInformer(jobs);
    await jobs.waitForSync(AbortSignal.timeout(30_000));
    expect(jobs.hasSynced()).toBe(true);

    await api(k8s.BatchV1Api).createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'extract' },
        spec: {
          suspend: true,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
        },
      },
    });
    const cached = await eventually('the Job in the cache', async () => jobs.get(namespace, 'extract'));
    expect(events.filter((e) => e.name === 'extract').map((e) => e.event)).toContain('add');
    // The same shape the typed clients return, and no way to change it behind the cache's back.
    expect(cached.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Object.isFrozen(cached.spec)).toBe(true);
    expect(() => {
      (cached.spec as { suspend?: boolean }).suspend = false;
    }).toThrow(TypeError);

    await kubectl('label', 'job', 'extract', '-n', namespace, 'stage=loaded');
    await eventually('the label change', async () =>
      events.find((e) => e.event === 'update' && e.object.metadata?.labels?.stage === 'loaded'),
    );
    expect(jobs.get(namespace, 'extract')?.metadata?.labels?.stage).toBe('loaded');
    expect(jobs.list(namespace).map((job) => job.metadata?.name)).toEqual(['extract']);

    await api(k8s.BatchV1Api).deleteNamespacedJob({
      name: 'extract',
      namespace,
      propagationPolicy: 'Background',
    });
    await eventually('the delete event', async () =>
      events.find((e) => e.event === 'delete' && e.name === 'extract'),
    );
    expect(jobs.get(namespace, 'extract')).toBeUndefined();
  });

  it('misses no change while its watches keep ending, and resumes them without relisting', async () => {
    let lists = 0;
    let watches = 0;
    const configMaps = createInformer<k8s.V1ConfigMap>(kubeConfig(), resourceKinds.configMap, {
      namespaces: [namespace],
      labelSelector: 'test=churn',
      watchTimeoutSeconds: 1,
      observer: {
        listed: () => lists++,
        watchStarted: () => watches++,
      },
    });
    const events = startInformer(configMaps);
    await configMaps.waitForSync(AbortSignal.timeout(30_000));

    const core = api(k8s.CoreV1Api);
    const names = Array.from({ length: 24 }, (_, index) => `churn-${index}`);
    for (const [index, name] of names.entries()) {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, labels: { test: 'churn' } }, data: { round: '1' } },
      });
      // Spread the changes over several watch lifetimes.
      if (index % 6 === 5) await new Promise((resolve) => setTimeout(resolve, 1_500));
    }
    for (const name of names) {
      await core.replaceNamespacedConfigMap({
        name,
        namespace,
        body: { metadata: { name, labels: { test: 'churn' } }, data: { round: '2' } },
      });
    }
    await core.deleteNamespacedConfigMap({ name: 'churn-0', namespace });

    await eventually('every change to reach the cache', async () => {
      const cached = configMaps.list(namespace);
      return cached.length === names.length - 1 && cached.every((c) => c.data?.round === '2')
        ? true
        : undefined;
    });
    const added = new Set(events.filter((e) => e.event === 'add').map((e) => e.name));
    const updatedToRound2 = new Set(
      events.filter((e) => e.event === 'update' && e.object.data?.round === '2').map((e) => e.name),
    );
    expect([...added].sort()).toEqual([...names].sort());
    expect([...updatedToRound2].sort()).toEqual([...names].sort());
    expect(events.filter((e) => e.event === 'delete').map((e) => e.name)).toEqual(['churn-0']);
    expect(watches).toBeGreaterThanOrEqual(3);
    expect(lists).toBe(1);
  });

  it('caches only Secrets that carry the managed-by label, and never their values', async () => {
    const secrets = createInformer(kubeConfig(), resourceKinds.secret, {
      namespaces: [namespace],
      labelSelector: managedSecretSelector,
      metadataOnly: true,
    });
    const events = startInformer(secrets);
    await secrets.waitForSync(AbortSignal.timeout(30_000));

    const core = api(k8s.CoreV1Api);
    const managed = { 'secretlink.dev/managed-by': 'secretlink' };
    const value = Buffer.from('not-for-the-cache').toString('base64');
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'foreign' }, data: { v: value } },
    });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'managed', labels: managed }, data: { v: value } },
    });
    // Events of one watch arrive in order: once "managed" is here, "foreign" would have been too.
    const cached = await eventually('the managed Secret in the cache', async () =>
      secrets.get(namespace, 'managed'),
    );
    expect(secrets.get(namespace, 'foreign')).toBeUndefined();
    expect(events.map((e) => e.name)).not.toContain('foreign');
    expect(cached.kind).toBe('Secret');
    expect(cached.metadata?.labels).toEqual(managed);
    expect(cached).not.toHaveProperty('data');
    expect(JSON.stringify(secrets.list())).not.toContain(value);

    // A Secret that loses the label leaves the selection: for the informer it is deleted.
    await kubectl('label', 'secret', 'managed', '-n', namespace, 'secretlink.dev/managed-by-');
    await eventually('the unlabelled Secret to leave the cache', async () =>
      events.find((e) => e.event === 'delete' && e.name === 'managed'),
    );
    expect(secrets.list(namespace)).toEqual([]);
  });

  it('keeps of each unfinished pod only its identity, controller and Secret names, listed or watched', async () => {
    const core = api(k8s.CoreV1Api);
    const bulky = { annotations: { note: 'x'.repeat(2_000) }, labels: { app: 'reader' } };
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'listed', ...bulky },
        spec: {
          containers: [{ name: 'main', image: 'busybox' }],
          volumes: [{ name: 'v', secret: { secretName: 'warehouse', optional: true } }],
        },
      },
    });
    const pods = createPodInformer(kubeConfig(), { namespaces: [namespace] });
    const events = startInformer(pods);
    await pods.waitForSync(AbortSignal.timeout(30_000));
    const listed = pods.get(namespace, 'listed')!;
    expect(listed).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'listed',
        namespace,
        uid: expect.any(String),
        resourceVersion: expect.any(String),
      },
      secretNames: ['warehouse'],
    });

    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'watched', ...bulky },
        spec: { containers: [{ name: 'main', image: 'busybox' }], imagePullSecrets: [{ name: 'registry' }] },
      },
    });
    const watched = await eventually('the watched pod in the cache', async () =>
      pods.get(namespace, 'watched'),
    );
    expect(Object.keys(watched).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'secretNames']);
    expect(Object.keys(watched.metadata).sort()).toEqual(['name', 'namespace', 'resourceVersion', 'uid']);
    expect(watched.secretNames).toEqual(['registry']);

    // A Job's pod keeps its controller, and leaves the cache when it finishes (kwok succeeds it after 1s).
    const job = await api(k8s.BatchV1Api).createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'short' },
        spec: {
          template: {
            metadata: { annotations: { 'secretlink.dev/simulated-run-time': '1s' } },
            spec: {
              restartPolicy: 'Never',
              containers: [
                { name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: 'warehouse' } }] },
              ],
            },
          },
        },
      },
    });
    const jobPod = await eventually('the Job pod in the cache', async () =>
      pods.list(namespace).find((pod) => pod.metadata.name?.startsWith('short-')),
    );
    expect(jobPod.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'short', uid: job.metadata!.uid, controller: true },
    ]);
    await eventually('the finished Job pod to leave the cache', async () =>
      events.find((e) => e.event === 'delete' && e.name === jobPod.metadata.name),
    );
    expect(
      pods
        .list(namespace)
        .map((pod) => pod.metadata.name)
        .sort(),
    ).toEqual(['listed', 'watched']);
    expect(JSON.stringify(pods.list())).not.toContain('xxxxxxxx');
  });

  it('watches only the namespaces it is given', async () => {
    const [second, outside] = await Promise.all([
      createNamespace('informers-b'),
      createNamespace('informers-c'),
    ]);
    try {
      const configMaps = createInformer<k8s.V1ConfigMap>(kubeConfig(), resourceKinds.configMap, {
        namespaces: [namespace, second],
        labelSelector: 'test=scoped',
      });
      startInformer(configMaps);
      await configMaps.waitForSync(AbortSignal.timeout(30_000));

      const core = api(k8s.CoreV1Api);
      for (const ns of [outside, namespace, second]) {
        await core.createNamespacedConfigMap({
          namespace: ns,
          body: { metadata: { name: 'scoped', labels: { test: 'scoped' } } },
        });
      }
      await eventually('both watched namespaces to be cached', async () =>
        configMaps.list().length === 2 ? true : undefined,
      );
      expect(
        configMaps
          .list()
          .map((c) => c.metadata?.namespace)
          .sort(),
      ).toEqual([namespace, second].sort());
      expect(configMaps.get(outside, 'scoped')).toBeUndefined();
      expect(configMaps.list(second).map((c) => c.metadata?.namespace)).toEqual([second]);
    } finally {
      await Promise.all([deleteNamespace(second), deleteNamespace(outside)]);
    }
  });

  it('keeps retrying, with growing delays, while the server does not serve a resource, and resyncs once it does', async () => {
    const group = `informers-${randomBytes(3).toString('hex')}.example.secretlink.dev`;
    const kind = { apiVersion: `${group}/v1`, kind: 'Gadget', plural: 'gadgets', namespaced: true };
    const failures: Array<{ error: unknown; retryInMs: number }> = [];
    const gadgets = createInformer(kubeConfig(), kind, {
      namespaces: [namespace],
      ...shortBackoff,
      observer: { failed: (_kind, _namespace, error, retryInMs) => failures.push({ error, retryInMs }) },
    });
    const events = startInformer(gadgets);
    await eventually('a few failed attempts', async () => (failures.length >= 4 ? true : undefined));
    expect(gadgets.hasSynced()).toBe(false);
    expect((failures[0]!.error as { statusCode?: number }).statusCode).toBe(404);
    const delays = failures.map((failure) => failure.retryInMs);
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[0]).toBeLessThanOrEqual(200);
    expect(Math.max(...delays)).toBeGreaterThan(200);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1_000);

    const custom = api(k8s.CustomObjectsApi);
    const createGadget = (name: string) =>
      eventually(`the Gadget ${name} to be created`, async () =>
        custom
          .createNamespacedCustomObject({
            group,
            version: 'v1',
            namespace,
            plural: 'gadgets',
            body: { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name }, spec: { size: 3 } },
          })
          .catch(() => undefined),
      );

    await installGadgetDefinition(group);
    try {
      await gadgets.waitForSync(AbortSignal.timeout(30_000));
      await createGadget('g');
      const cached = await eventually('the Gadget in the cache', async () => gadgets.get(namespace, 'g'));
      expect(events.map((e) => `${e.event}:${e.name}`)).toEqual(['add:g']);
      expect((cached as { spec?: unknown }).spec).toEqual({ size: 3 });
      expect(cached.metadata?.creationTimestamp).toBeInstanceOf(Date);

      // Removing the definition ends the watch and makes every request fail; bringing it back must be
      // noticed without a restart of the informer.
      const failuresBefore = failures.length;
      await removeGadgetDefinition(group);
      await eventually('the watch to fail', async () =>
        failures.length > failuresBefore ? true : undefined,
      );
      await installGadgetDefinition(group);
      await createGadget('h');
      await eventually('the new Gadget in the cache', async () => gadgets.get(namespace, 'h'));
      expect(gadgets.get(namespace, 'g')).toBeUndefined();
      expect(events.map((e) => `${e.event}:${e.name}`)).toEqual(['add:g', 'delete:g', 'add:h']);
    } finally {
      await removeGadgetDefinition(group);
    }
  });

  it('rejects a wait for sync when its signal aborts first', async () => {
    const kind = {
      apiVersion: 'never.example.secretlink.dev/v1',
      kind: 'Never',
      plural: 'nevers',
      namespaced: true,
    };
    const never = createInformer(kubeConfig(), kind, shortBackoff);
    startInformer(never);
    await expect(never.waitForSync(AbortSignal.timeout(500))).rejects.toThrow();
  });
});

async function installGadgetDefinition(group: string): Promise<void> {
  await api(k8s.ApiextensionsV1Api).createCustomResourceDefinition({
    body: {
      metadata: { name: `gadgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
              },
            },
          },
        ],
      },
    },
  });
}

/** Deletes the definition (and with it every Gadget) and waits until it is gone. */
async function removeGadgetDefinition(group: string): Promise<void> {
  const extensions = api(k8s.ApiextensionsV1Api);
  const name = `gadgets.${group}`;
  await extensions.deleteCustomResourceDefinition({ name }).catch(() => undefined);
  await eventually('the definition to be gone', async () =>
    extensions.readCustomResourceDefinition({ name }).then(
      () => undefined,
      (error) => (statusCodeOf(error) === 404 ? true : undefined),
    ),
  );
}
