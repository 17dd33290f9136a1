// The SecretStore every benchmark namespace reads through: moto's credentials in a Secret that opts in to the
// store, and the store itself.
import type * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../src/api/constants.ts';
import type { EnvironmentInfo } from '../test/env/environment.ts';
import { allowedStores, awsStoreSpec } from '../test/env/stores/store-specs.ts';

export async function createAwsStore(
  info: EnvironmentInfo,
  core: k8s.CoreV1Api,
  custom: k8s.CustomObjectsApi,
  namespace: string,
): Promise<void> {
  const aws = info.stores.aws;
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'aws-credentials', annotations: allowedStores('aws') },
      stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey },
    },
  });
  await custom.createNamespacedCustomObject({
    group,
    version,
    plural: plurals.secretStore,
    namespace,
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'SecretStore',
      metadata: { name: 'aws' },
      spec: awsStoreSpec(aws),
    },
  });
}
