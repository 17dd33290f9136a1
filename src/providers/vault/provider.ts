// The HashiCorp Vault (and OpenBao) KV provider. Validation and credential names are static; the client is
// built by ./client.ts, loaded on first use.
import { credentialSecret } from '../credentials.ts';
import { loadClientModule } from '../load-client.ts';
import type { VaultProviderSpec } from '../store-spec.ts';
import type { Provider } from '../types.ts';
import { validateVault } from './validate.ts';

export const vaultProvider: Provider<'vault'> = {
  name: 'vault',

  validate: validateVault,

  credentialSecrets(spec: VaultProviderSpec, scope) {
    const { appRole, tokenSecretRef } = spec.auth;
    return [
      ...credentialSecret(scope, appRole?.secretIdRef, 'spec.provider.vault.auth.appRole.secretIdRef'),
      ...credentialSecret(scope, tokenSecretRef, 'spec.provider.vault.auth.tokenSecretRef'),
    ];
  },

  async createClient(store, spec, context) {
    const { createVaultClient } = await loadClientModule('vault', () => import('./client.ts'));
    return createVaultClient(store, spec, context);
  },
};
