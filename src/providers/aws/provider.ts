// The AWS Secrets Manager provider.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/nested-clients/sts';
import { credentialSecret } from '../credentials.ts';
import { ResolvingClient } from '../resolving-client.ts';
import type { AwsProviderSpec, StoreObject } from '../store-spec.ts';
import type { Provider } from '../types.ts';
import { storeScope } from '../validation.ts';
import { awsCredentials } from './auth.ts';
import { AwsBackend } from './backend.ts';
import { limitResponseSize } from './response-limit.ts';
import { AwsRoleSessions } from './role-sessions.ts';
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
    const scope = storeScope(store);
    const timeoutMs = context.tuning.timeoutMs;
    const credentials = await awsCredentials(spec, scope, context.credentials, sessionName(store), timeoutMs);
    const client = new SecretsManagerClient({
      region: spec.region,
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      // Retries belong to the reconcile's backoff; SDK retries would hide throttling and multiply calls.
      maxAttempts: 1,
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
    });
    limitResponseSize(client, context.tuning.maxResponseBytes);
    // Only a store that lists roles gets an STS client: the others cannot issue role sessions at all.
    const sessions = spec.assumableRoles?.length
      ? new AwsRoleSessions(
          new STSClient({
            region: spec.region,
            ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
            ...(credentials ? { credentials } : {}),
            maxAttempts: 1,
            requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
          }),
          spec.assumableRoles,
          context.tuning.now,
        )
      : undefined;
    return new ResolvingClient(new AwsBackend(client), context.tuning, context.logger, sessions);
  },
};

/** Shows up in CloudTrail: which store (not which secret) assumed the role. */
function sessionName(store: StoreObject): string {
  const { name = '', namespace } = store.metadata;
  const where = namespace ? `${namespace}.${name}` : name;
  return `secretlink-${where}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}
