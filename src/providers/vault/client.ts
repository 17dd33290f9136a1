// Builds a Vault store's client (transport, token login and renewal, KV backend, leases), loaded on the first
// Vault store's first use like the other providers' clients.
import { defaults } from '../../api/constants.ts';
import { ResolvingClient } from '../resolving-client.ts';
import type { StoreObject, VaultProviderSpec } from '../store-spec.ts';
import type { ClientContext, StoreClient } from '../types.ts';
import { storeScope } from '../validation.ts';
import { VaultTokens, vaultLogin, vaultRenewal } from './auth.ts';
import { VaultBackend } from './backend.ts';
import { VaultTransport } from './http.ts';
import { VaultLeases } from './leases.ts';

export async function createVaultClient(
  store: StoreObject,
  spec: VaultProviderSpec,
  context: ClientContext,
): Promise<StoreClient> {
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
}

function kvVersion(spec: VaultProviderSpec): 1 | 2 {
  return spec.kv?.version ?? defaults.vaultKvVersion;
}
