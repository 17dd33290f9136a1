// The HashiCorp Vault (and OpenBao) KV provider.
import { defaults } from '../../api/constants.ts';
import { credentialSecret } from '../credentials.ts';
import { ResolvingClient } from '../resolving-client.ts';
import type { VaultProviderSpec } from '../store-spec.ts';
import type { Provider } from '../types.ts';
import { storeScope } from '../validation.ts';
import { VaultTokens, vaultLogin, vaultRenewal } from './auth.ts';
import { VaultBackend } from './backend.ts';
import { VaultTransport } from './http.ts';
import { VaultLeases } from './leases.ts';
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
    const { now, timeoutMs, maxResponseBytes } = context.tuning;
    const transport = new VaultTransport({
      server: spec.server,
      namespace: spec.namespace,
      ca: spec.caBundle ? Buffer.from(spec.caBundle, 'base64').toString('utf8') : undefined,
      maxResponseBytes,
    });
    const login = vaultLogin(spec, storeScope(store), context.credentials, transport, now);
    const renew = vaultRenewal(transport, now);
    const tokens = new VaultTokens({ login, renew, timeoutMs, now, logger: context.logger });
    const backend = new VaultBackend(
      transport,
      tokens,
      spec.kv?.mount ?? defaults.vaultKvMount,
      kvVersion(spec),
    );
    return new ResolvingClient(
      backend,
      context.tuning,
      context.logger,
      new VaultLeases(transport, tokens, now),
    );
  },
};

function kvVersion(spec: VaultProviderSpec): 1 | 2 {
  return spec.kv?.version ?? defaults.vaultKvVersion;
}
