// A namespace's minimum to use secretlink with the environment's Vault: a store (whose token Secret opts in
// to serving it), a SecretReference, and a Job that consumes it on a kwok node.
import * as k8s from '@kubernetes/client-node';
import { apiVersion, kinds } from '../../src/api/constants.ts';
import { vaultStoreSpec } from '../env/stores/store-specs.ts';
import { api } from './cluster.ts';
import { customApi, referenceApi, storeApi } from './operator.ts';
import { stores } from './stores.ts';

/** SecretStore `name` on the environment's Vault, or on `server` (a port nothing answers on, say). */
export async function createVaultStore(namespace: string, name = 'vault', server?: string): Promise<void> {
  await api(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name: `${name}-token`,
        annotations: { 'secretlink.dev/allowed-stores': `SecretStore/${name}` },
      },
      stringData: { token: stores().vault.rootToken },
    },
  });
  const spec = vaultStoreSpec({ ...stores().vault, ...(server ? { address: server } : {}) });
  spec.provider.vault!.auth = { tokenSecretRef: { name: `${name}-token`, key: 'token' } };
  await customApi().createNamespacedCustomObject({
    ...storeApi,
    namespace,
    body: { apiVersion, kind: kinds.secretStore, metadata: { name }, spec },
  });
}

/** A SecretReference on store `store` for Jobs labelled app=etl, reading `remote` (a KV v2 path). */
export async function createEtlReference(
  namespace: string,
  name: string,
  { store = 'vault', remote }: { store?: string; remote: string },
): Promise<void> {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion,
      kind: kinds.secretReference,
      metadata: { name },
      spec: {
        storeRef: { name: store },
        data: [{ key: 'password', remote: { name: remote, property: 'password' } }],
        consumers: { matchLabels: { app: 'etl' } },
      },
    },
  });
}

/** A Job labelled app=etl that refers to Secret `secretName` and runs (on kwok) for `runTime`. */
export async function createEtlJob(
  namespace: string,
  name: string,
  secretName: string,
  runTime = '600s',
): Promise<void> {
  await api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'etl' }, annotations: { 'secretlink.dev/simulated-run-time': runTime } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'etl', image: 'ghcr.io/example/etl:1', envFrom: [{ secretRef: { name: secretName } }] },
            ],
          },
        },
      },
    },
  });
}
