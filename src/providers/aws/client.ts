// Builds an AWS store's client. The only file of the provider that loads the AWS SDK when imported: the
// provider imports it on the first AWS store's first use (see ../load-client.ts).
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/nested-clients/sts';
import { ResolvingClient } from '../resolving-client.ts';
import type { AwsProviderSpec, StoreObject } from '../store-spec.ts';
import type { ClientContext, StoreClient } from '../types.ts';
import { storeScope } from '../validation.ts';
import { awsCredentials } from './auth.ts';
import { AwsBackend } from './backend.ts';
import { limitResponseSize } from './response-limit.ts';
import { AwsRoleSessions } from './role-sessions.ts';

export async function createAwsClient(
  store: StoreObject,
  spec: AwsProviderSpec,
  context: ClientContext,
): Promise<StoreClient> {
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
}

/** Shows up in CloudTrail: which store (not which secret) assumed the role. */
function sessionName(store: StoreObject): string {
  const { name = '', namespace } = store.metadata;
  const where = namespace ? `${namespace}.${name}` : name;
  return `secretlink-${where}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}
