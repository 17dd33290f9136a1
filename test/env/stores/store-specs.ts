// SecretStore specs that point the operator at the environment's store servers, one per provider. Used by
// the integration tests and by the demo.
import type { SecretStoreSpec } from '../../../src/api/types.ts';
import type { AwsStore, GcpStore, VaultStore } from './coordinates.ts';

/** Static keys from the `aws-credentials` Secret of the store's namespace (moto accepts any). */
export function awsStoreSpec({ endpoint, region }: Pick<AwsStore, 'endpoint' | 'region'>): SecretStoreSpec {
  return {
    provider: {
      aws: {
        region,
        endpoint,
        auth: {
          secretRef: {
            accessKeyId: { name: 'aws-credentials', key: 'id' },
            secretAccessKey: { name: 'aws-credentials', key: 'secret' },
          },
        },
      },
    },
  };
}

/** A loopback endpoint is reached in plaintext with no Google credentials, whatever auth says. */
export function gcpStoreSpec({ endpoint, projectID }: GcpStore): SecretStoreSpec {
  return { provider: { gcp: { projectID, endpoint, auth: { applicationDefault: {} } } } };
}

/** KV v2, with a token from the `vault-token` Secret of the store's namespace. */
export function vaultStoreSpec({
  address,
  kvV2Mount,
}: Pick<VaultStore, 'address' | 'kvV2Mount'>): SecretStoreSpec {
  return {
    provider: {
      vault: {
        server: address,
        kv: { mount: kvV2Mount, version: 2 },
        auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } },
      },
    },
  };
}
