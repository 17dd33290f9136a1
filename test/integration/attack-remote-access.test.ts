// A tenant namespace that a shared ClusterSecretStore admits tries to reach remote secrets outside what the
// store's remoteAccess grants it: by plain reference, and by find. It must get nothing: no Secret, a Ready
// condition that says RemoteNotAllowed, a Refused audit record, and no read of any value from the store.
// Against the local control plane and moto, with the operator in-process.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterSecretStoreSpec, SecretReference, SecretReferenceSpec } from '../../src/api/types.ts';
import { allowedStoresAnnotation } from '../../src/providers/allowed-stores.ts';
import { providerCallCount } from '../../src/providers/metrics.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  eventually,
  readSecretIfPresent,
} from '../support/cluster.ts';
import {
  clusterStoreApi,
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret, stores } from '../support/stores.ts';

let tenant: string;
let platform: string;
let operator: TestOperator;
let granted: string;
let withheld: string;
const shared = () => `${tenant}-shared`;
const legacy = () => `${tenant}-legacy`;

beforeAll(async () => {
  await installCrds();
  tenant = await createNamespace('attack-remotes');
  platform = await createNamespace('attack-remotes-platform');
  granted = `${tenant}/meltano/`;
  withheld = `${tenant}/platform/`;
  await seedAwsSecret(`${granted}password`, 'tenant-password');
  await seedAwsSecret(`${granted}host`, 'warehouse.internal');
  await seedAwsSecret(`${withheld}root-token`, 'platform-root-token');
  // The platform team's keys, opted in to both cluster stores; the tenant can neither read nor name them.
  await api(k8s.CoreV1Api).createNamespacedSecret({
    namespace: platform,
    body: {
      metadata: {
        name: 'aws-credentials',
        annotations: {
          [allowedStoresAnnotation]: `ClusterSecretStore/${shared()},ClusterSecretStore/${legacy()}`,
        },
      },
      stringData: { id: 'testing', secret: 'testing' },
    },
  });
  await createClusterStore(shared(), [{ namespaces: { names: [tenant] }, prefixes: [granted] }]);
  await createClusterStore(legacy(), undefined);
  operator = startTestOperator({ namespaces: [tenant] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  for (const name of [shared(), legacy()]) {
    await customApi()
      .deleteClusterCustomObject({ ...clusterStoreApi, name })
      .catch(() => undefined);
  }
  await deleteNamespace(tenant);
  await deleteNamespace(platform);
});

async function createClusterStore(name: string, remoteAccess: ClusterSecretStoreSpec['remoteAccess']) {
  const { endpoint, region } = stores().aws;
  const credential = (key: string) => ({ name: 'aws-credentials', key, namespace: platform });
  const spec: ClusterSecretStoreSpec = {
    allowedNamespaces: { names: [tenant] },
    ...(remoteAccess ? { remoteAccess } : {}),
    provider: {
      aws: {
        region,
        endpoint,
        auth: { secretRef: { accessKeyId: credential('id'), secretAccessKey: credential('secret') } },
      },
    },
  };
  await customApi().createClusterCustomObject({
    ...clusterStoreApi,
    body: { apiVersion: 'secretlink.dev/v1alpha1', kind: 'ClusterSecretStore', metadata: { name }, spec },
  });
}

async function createReference(name: string, store: string, content: Partial<SecretReferenceSpec>) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace: tenant,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { kind: 'ClusterSecretStore', name: store },
        ...content,
        consumers: { matchLabels: { app: 'meltano' } },
        refreshInterval: '10s',
      },
    },
  });
  // A consuming Job, so the operator would write the Secret if it were allowed to.
  await api(k8s.BatchV1Api).createNamespacedJob({
    namespace: tenant,
    body: {
      metadata: { name: `${name}-run` },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: {
            labels: { app: 'meltano' },
            annotations: { 'secretlink.dev/simulated-run-time': '10m' },
          },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'tap', image: 'meltano/meltano:v3', envFrom: [{ secretRef: { name } }] }],
          },
        },
      },
    },
  });
}

const readyOf = async (name: string) => {
  const reference = (await customApi().getNamespacedCustomObject({
    ...referenceApi,
    namespace: tenant,
    name,
  })) as SecretReference;
  return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
};

const reportsReason = (name: string, reason: string) =>
  eventually(`SecretReference ${name} to report ${reason}`, async () => {
    const ready = await readyOf(name);
    return ready?.reason === reason ? ready : undefined;
  });

const storeReads = async () =>
  (await providerCallCount('aws', 'get')) + (await providerCallCount('aws', 'batchGet'));

const refusals = (name: string) =>
  operator.audit.filter(
    (record) =>
      record.reference.name === name && record.action === 'Refused' && record.reason === 'RemoteNotAllowed',
  );

describe('a tenant reaching past a ClusterSecretStore’s remoteAccess', () => {
  it('gets nothing for a plain reference to a withheld remote, and the store is never read', async () => {
    const before = await storeReads();
    await createReference('plain-withheld', shared(), {
      data: [
        { key: 'password', remote: { name: `${granted}password` } },
        { key: 'token', remote: { name: `${withheld}root-token` } },
      ],
    });
    const ready = await reportsReason('plain-withheld', 'RemoteNotAllowed');
    expect(ready.status).toBe('False');
    expect(ready.message).toContain(
      `does not let namespace ${tenant} reach remote secret(s) "${withheld}root-token"`,
    );
    await eventually('the refusal to be audited', async () =>
      refusals('plain-withheld').length > 0 ? true : undefined,
    );
    expect(refusals('plain-withheld')).toHaveLength(1);
    expect(await readSecretIfPresent(tenant, 'plain-withheld')).toBeUndefined();
    // Not even the granted remote of the same reference was read: all or nothing, decided before any call.
    expect(await storeReads()).toBe(before);
  });

  it('gets nothing from find through a ClusterSecretStore without remoteAccess, which is never listed or read', async () => {
    const before = {
      reads: await storeReads(),
      lists: await providerCallCount('aws', 'list'),
    };
    await createReference('find-legacy', legacy(), { dataFrom: [{ find: { path: `${tenant}/` } }] });
    const ready = await reportsReason('find-legacy', 'RemoteNotAllowed');
    expect(ready.message).toContain('has no spec.remoteAccess, so dataFrom find is refused');
    await eventually('the refusal to be audited', async () =>
      refusals('find-legacy').length > 0 ? true : undefined,
    );
    expect(await readSecretIfPresent(tenant, 'find-legacy')).toBeUndefined();
    expect(await storeReads()).toBe(before.reads);
    expect(await providerCallCount('aws', 'list')).toBe(before.lists);
  });

  it('still reads a plain reference through a store without remoteAccess, as before the field existed', async () => {
    await createReference('plain-legacy', legacy(), {
      data: [{ key: 'token', remote: { name: `${withheld}root-token` } }],
    });
    const secret = await eventually('the Secret to be written', () =>
      readSecretIfPresent(tenant, 'plain-legacy'),
    );
    expect(Buffer.from(secret.data!.token!, 'base64').toString()).toBe('platform-root-token');
  });

  it('reads through find only what remoteAccess grants, and a granted secret that appears later at the next refresh', async () => {
    await createReference('find-granted', shared(), {
      dataFrom: [
        {
          find: { path: `${tenant}/` },
          rewrite: [
            { regexp: { source: '^.*/', target: '' } },
            { case: 'upper' },
            { prefix: 'TAP_POSTGRES_' },
          ],
        },
      ],
    });
    const secret = await eventually('the found secrets to be written', () =>
      readSecretIfPresent(tenant, 'find-granted'),
    );
    const keys = (s: k8s.V1Secret | undefined) => Object.keys(s?.data ?? {}).sort();
    // The withheld secret was listed (it is under the path) but never read: it is not in the Secret.
    expect(keys(secret)).toEqual(['TAP_POSTGRES_HOST', 'TAP_POSTGRES_PASSWORD']);
    expect(Buffer.from(secret.data!.TAP_POSTGRES_PASSWORD!, 'base64').toString()).toBe('tenant-password');
    // The record follows the confirmed write, so it may land just after the Secret is seen.
    const written = await eventually('the write to be recorded', async () =>
      operator.audit.find(
        (record) => record.reference.name === 'find-granted' && record.action === 'Materialized',
      ),
    );
    expect(written.remotes.map((remote) => remote.name).sort()).toEqual([
      `${granted}host`,
      `${granted}password`,
    ]);

    await seedAwsSecret(`${granted}port`, '5432');
    const refreshed = await eventually(
      'the new secret to be found at the next refresh',
      async () => {
        const current = await readSecretIfPresent(tenant, 'find-granted');
        return keys(current).includes('TAP_POSTGRES_PORT') ? current : undefined;
      },
      { timeoutMs: 40_000 },
    );
    expect(keys(refreshed)).toEqual(['TAP_POSTGRES_HOST', 'TAP_POSTGRES_PASSWORD', 'TAP_POSTGRES_PORT']);
  });
});
