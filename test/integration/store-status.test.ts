// Store status as `kubectl get secretstores` shows it, on the local control plane: the operator reports each
// store's provider and whether its spec can work, catching what the CRD's CEL rules cannot, and rewrites the
// status only when it changed.
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { group, plurals, version } from '../../src/api/constants.ts';
import type { StoreProvider, StoreStatus } from '../../src/api/types.ts';
import { createNamespace, deleteNamespace, eventually, kubectl } from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';

const clusterStoreApi = { group, version, plural: plurals.clusterSecretStore };
const notPem = Buffer.from('not a certificate').toString('base64');

let namespace: string;
let operator: TestOperator;
const clusterStores: string[] = [];

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('store-status');
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  for (const name of clusterStores) {
    await customApi()
      .deleteClusterCustomObject({ ...clusterStoreApi, name })
      .catch(() => undefined);
  }
  await deleteNamespace(namespace);
});

const vaultStore = (caBundle?: string): StoreProvider => ({
  vault: {
    server: 'https://vault.example.com:8200',
    ...(caBundle === undefined ? {} : { caBundle }),
    auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } },
  },
});

async function createStore(name: string, provider: StoreProvider) {
  await customApi().createNamespacedCustomObject({
    ...storeApi,
    namespace,
    body: { apiVersion: `${group}/${version}`, kind: 'SecretStore', metadata: { name }, spec: { provider } },
  });
}

type StoreObject = { metadata: k8s.V1ObjectMeta; status?: StoreStatus };

async function readStore(name: string): Promise<StoreObject> {
  return (await customApi().getNamespacedCustomObject({ ...storeApi, namespace, name })) as StoreObject;
}

const ready = (store: StoreObject) => store.status?.conditions?.find((c) => c.type === 'Ready');

/** Waits until the store's status describes its current generation with the given Ready status. */
function storeReady(name: string, status: 'True' | 'False', read = () => readStore(name)) {
  return eventually(`store ${name} to report Ready=${status}`, async () => {
    const store = await read();
    const condition = ready(store);
    return store.status?.observedGeneration === store.metadata.generation && condition?.status === status
      ? store
      : undefined;
  });
}

/**
 * Status PATCH requests the API server has served for SecretStores, from its own metrics. The resourceVersion
 * alone cannot tell "not written" from "written unchanged": the server drops a patch that changes nothing.
 */
async function storeStatusPatches(): Promise<number> {
  const { stdout } = await kubectl('get', '--raw', '/metrics');
  return stdout
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('apiserver_request_total{') &&
        line.includes('resource="secretstores"') &&
        line.includes('subresource="status"') &&
        line.includes('verb="PATCH"'),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** The first row of `kubectl get`, split into columns. */
async function getRow(...args: string[]): Promise<{ header: string[]; row: string[] }> {
  const { stdout } = await kubectl('get', ...args);
  const [header, row] = stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
  return { header: header!, row: row! };
}

describe('SecretStore status', () => {
  it('reports a valid store Ready with its provider', async () => {
    await createStore('vault', vaultStore());
    const store = await storeReady('vault', 'True');
    expect(store.status?.provider).toBe('vault');
    expect(ready(store)).toMatchObject({ reason: 'Valid', observedGeneration: 1 });

    const { header, row } = await getRow('secretstores', 'vault', '-n', namespace);
    expect(header).toEqual(['NAME', 'PROVIDER', 'READY', 'REASON', 'AGE']);
    expect(row.slice(0, 4)).toEqual(['vault', 'vault', 'True', 'Valid']);
  });

  it('reports a spec the API server accepts but that cannot work as InvalidSpec, naming the field', async () => {
    // caBundle is valid base64, so the schema takes it; only the operator sees it is no PEM certificate.
    await createStore('vault-bad-ca', vaultStore(notPem));
    const store = await storeReady('vault-bad-ca', 'False');
    expect(store.status?.provider).toBe('vault');
    expect(ready(store)?.reason).toBe('InvalidSpec');
    expect(ready(store)?.message).toContain(
      'spec.provider.vault.caBundle: must be a base64-encoded PEM certificate bundle',
    );

    const { header, row } = await getRow('sstore', 'vault-bad-ca', '-n', namespace, '-o', 'wide');
    expect(header).toEqual(['NAME', 'PROVIDER', 'READY', 'REASON', 'AGE', 'MESSAGE']);
    expect(row.slice(0, 4)).toEqual(['vault-bad-ca', 'vault', 'False', 'InvalidSpec']);
    expect(row[5]).toMatch(/^The store spec cannot work: spec\.provider\.vault\.caBundle/);

    // A SecretReference naming the store says so too, rather than failing later at the store.
    await customApi().createNamespacedCustomObject({
      ...referenceApi,
      namespace,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'SecretReference',
        metadata: { name: 'uses-bad-store' },
        spec: {
          storeRef: { name: 'vault-bad-ca' },
          data: [{ key: 'token', remote: { name: 'etl/api', property: 'token' } }],
          consumers: { matchLabels: { app: 'dbt' } },
        },
      },
    });
    const referenceReady = await eventually('the SecretReference to report the invalid store', async () => {
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'uses-bad-store',
      })) as StoreObject;
      return ready(reference)?.reason === 'StoreInvalid' ? ready(reference) : undefined;
    });
    expect(referenceReady.message).toMatch(
      /^SecretStore "vault-bad-ca" cannot be used: spec\.provider\.vault\.caBundle: /,
    );
  });

  it('turns Ready when the spec is fixed', async () => {
    const before = await storeReady('vault-bad-ca', 'False');
    await kubectl(
      'patch',
      'sstore',
      'vault-bad-ca',
      '-n',
      namespace,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { provider: { vault: { caBundle: null } } } }),
    );
    const after = await storeReady('vault-bad-ca', 'True');
    expect(after.metadata.generation).toBe(2);
    expect(ready(after)).toMatchObject({ reason: 'Valid', observedGeneration: 2 });
    expect(Date.parse(ready(after)!.lastTransitionTime)).toBeGreaterThanOrEqual(
      Date.parse(ready(before)!.lastTransitionTime),
    );
  });

  it('does not rewrite the status when nothing it reports changed', async () => {
    await storeReady('vault', 'True');
    await storeReady('vault-bad-ca', 'True');
    const patchesBefore = await storeStatusPatches();
    // A label edit wakes the store's reconcile without changing anything the status reports.
    await kubectl('label', 'sstore', 'vault', '-n', namespace, 'team=data');
    const labelled = await eventually('the label to show', async () => {
      const store = await readStore('vault');
      return store.metadata.labels?.team === 'data' ? store : undefined;
    });
    // A restarted operator sweeps every store once more.
    await operator.stop();
    operator = startTestOperator({ namespaces: [namespace] });
    await eventually('the restarted operator to lead', async () => (operator.leading() ? true : undefined));
    // The sweep is queued as leadership begins, and store keys are handled one at a time in arrival order:
    // once a store created after that has its status, the sweep's keys have all been handled.
    await createStore('after-restart', vaultStore());
    await storeReady('after-restart', 'True');

    const store = await readStore('vault');
    expect(store.metadata.resourceVersion).toBe(labelled.metadata.resourceVersion);
    expect(store.status).toEqual(labelled.status);
    // The one status write in all this was for the new store.
    expect((await storeStatusPatches()) - patchesBefore).toBe(1);
  });
});

describe('ClusterSecretStore status', () => {
  const readClusterStore = (name: string) =>
    customApi().getClusterCustomObject({ ...clusterStoreApi, name }) as Promise<StoreObject>;

  async function createClusterStore(name: string, provider: StoreProvider) {
    clusterStores.push(name);
    await customApi().createClusterCustomObject({
      ...clusterStoreApi,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'ClusterSecretStore',
        metadata: { name },
        spec: { provider, allowedNamespaces: { names: [namespace] } },
      },
    });
  }

  const workloadIdentity = (audience: string): StoreProvider => ({
    gcp: {
      projectID: 'acme-analytics',
      auth: {
        workloadIdentity: {
          serviceAccountRef: { name: 'elt-reader', namespace: 'secretlink-system', audience },
        },
      },
    },
  });

  it('reports a valid cluster store Ready, and one with a malformed audience InvalidSpec', async () => {
    const valid = `${namespace}-gcp`;
    const invalid = `${namespace}-gcp-bad-audience`;
    await createClusterStore(
      valid,
      workloadIdentity(
        '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/elt/providers/k8s',
      ),
    );
    // The schema only asks for an audience; what a workload identity pool provider looks like, it cannot say.
    await createClusterStore(invalid, workloadIdentity('sts.amazonaws.com'));

    await storeReady(valid, 'True', () => readClusterStore(valid));
    const bad = await storeReady(invalid, 'False', () => readClusterStore(invalid));
    expect(ready(bad)?.reason).toBe('InvalidSpec');
    expect(ready(bad)?.message).toContain(
      'spec.provider.gcp.auth.workloadIdentity.serviceAccountRef.audience',
    );

    const { header, row } = await getRow('clustersecretstores', valid);
    expect(header).toEqual(['NAME', 'PROVIDER', 'READY', 'REASON', 'AGE']);
    expect(row.slice(0, 4)).toEqual([valid, 'gcp', 'True', 'Valid']);
    expect((await getRow('cstore', invalid)).row.slice(0, 4)).toEqual([
      invalid,
      'gcp',
      'False',
      'InvalidSpec',
    ]);
  });
});
