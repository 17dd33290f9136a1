// The AWS Secrets Manager provider. Validation and credential names need no SDK; the client is built by
// ./client.ts, loaded on first use.
import { credentialSecret } from '../credentials.ts';
import { loadClientModule } from '../load-client.ts';
import type { AwsProviderSpec } from '../store-spec.ts';
import type { Provider } from '../types.ts';
import { validateAws } from './validate.ts';

export const awsProvider: Provider<'aws'> = {
  name: 'aws',

  validate: validateAws,

  credentialSecrets(spec: AwsProviderSpec, scope) {
    const ref = spec.auth.secretRef;
    if (!ref) return [];
    const path = 'spec.provider.aws.auth.secretRef';
    return [
      ...credentialSecret(scope, ref.accessKeyId, `${path}.accessKeyId`),
      ...credentialSecret(scope, ref.secretAccessKey, `${path}.secretAccessKey`),
      ...credentialSecret(scope, ref.sessionToken, `${path}.sessionToken`),
    ];
  },

  async createClient(store, spec, context) {
    const { createAwsClient } = await loadClientModule('aws', () => import('./client.ts'));
    return createAwsClient(store, spec, context);
  },
};
