// SecretStore specs that point the operator at the environment's store servers, one per provider. Used by
// the integration tests and by the demo.
import type { SecretStoreSpec } from '../../../src/api/types.ts';
import { allowedStoresAnnotation } from '../../../src/providers/allowed-stores.ts';
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

/**
 * A service account key from the `gcp-credentials` Secret of the store's namespace (gcpCredentials). A
 * loopback endpoint is reached in plaintext with no Google credentials, so the key is read but never sent.
 */
export function gcpStoreSpec({ endpoint, projectID }: GcpStore): SecretStoreSpec {
  return {
    provider: {
      gcp: {
        projectID,
        endpoint,
        auth: { secretRef: { keyJSON: { name: 'gcp-credentials', key: 'key.json' } } },
      },
    },
  };
}

/** What the `gcp-credentials` Secret holds: the shape of a service account key, with no real key in it. */
export const gcpCredentials = {
  'key.json': JSON.stringify({
    type: 'service_account',
    client_email: 'emulator@secretlink-test.iam.gserviceaccount.com',
    private_key: 'not a key: the emulator is sent no credentials',
  }),
};

/** The annotation that lets the named SecretStores of the same namespace use a Secret or ServiceAccount. */
export function allowedStores(...stores: string[]): Record<string, string> {
  return { [allowedStoresAnnotation]: stores.map((store) => `SecretStore/${store}`).join(',') };
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
