// The namespace most integration tests start from: moto's static keys in the Secret `aws-credentials`,
// opted in to the listed SecretStores, and the SecretStore `aws` on the environment's moto.
import * as k8s from '@kubernetes/client-node';
import { allowedStores, awsStoreSpec } from '../env/stores/store-specs.ts';
import { api, createNamespace } from './cluster.ts';
import { customApi, storeApi } from './operator.ts';
import { stores } from './stores.ts';

/** Creates the namespace (named after `prefix`), its credentials and the `aws` store; returns its name. */
export async function createAwsTenant(prefix: string, alsoAllowedStores: string[] = []): Promise<string> {
  const namespace = await createNamespace(prefix);
  await api(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'aws-credentials', annotations: allowedStores('aws', ...alsoAllowedStores) },
      stringData: { id: 'testing', secret: 'testing' },
    },
  });
  await createAwsStore(namespace, 'aws');
  return namespace;
}

/** A SecretStore on moto that reads the namespace's `aws-credentials`. */
export async function createAwsStore(namespace: string, name: string): Promise<void> {
  await customApi().createNamespacedCustomObject({
    ...storeApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name },
      spec: awsStoreSpec(stores().aws),
    },
  });
}
