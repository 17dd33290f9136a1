// The GCP Secret Manager provider. Validation and credential names need no Google library; the client is
// built by ./client.ts, loaded on first use.
import { credentialSecret } from '../credentials.ts';
import { loadClientModule } from '../load-client.ts';
import type { GcpProviderSpec } from '../store-spec.ts';
import type { Provider } from '../types.ts';
import { validateGcp } from './validate.ts';

export const gcpProvider: Provider<'gcp'> = {
  name: 'gcp',

  validate: validateGcp,

  credentialSecrets(spec: GcpProviderSpec, scope) {
    return credentialSecret(scope, spec.auth.secretRef?.keyJSON, 'spec.provider.gcp.auth.secretRef.keyJSON');
  },

  async createClient(store, spec, context) {
    const { createGcpClient } = await loadClientModule('gcp', () => import('./client.ts'));
    return createGcpClient(store, spec, context);
  },
};
