// AWS credentials as the store declares them. Static keys are read once per client (the client is rebuilt
// when their Secret changes); web identity mints a ServiceAccount token each time the SDK needs fresh
// credentials, and the SDK keeps those until shortly before they expire.

import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { fromWebToken } from '@aws-sdk/credential-provider-web-identity';
import { type CredentialSource, mintToken, readCredential } from '../credentials.ts';
import type { AwsProviderSpec } from '../store-spec.ts';
import type { StoreScope } from '../types.ts';

const authPath = 'spec.provider.aws.auth';
/** The audience AWS STS expects in a web identity token unless the role's trust policy says otherwise. */
export const defaultWebIdentityAudience = 'sts.amazonaws.com';
/** How long the role session lasts; the ServiceAccount token exchanged for it lives 600 s only. */
const sessionSeconds = 3600;

export type AwsCredentials = SecretsManagerClientConfig['credentials'];

export async function awsCredentials(
  spec: AwsProviderSpec,
  scope: StoreScope,
  source: CredentialSource,
  sessionName: string,
  requestTimeoutMs: number,
): Promise<AwsCredentials> {
  const { secretRef, webIdentity } = spec.auth;
  if (secretRef) {
    const path = `${authPath}.secretRef`;
    return {
      accessKeyId: await readCredential(source, scope, secretRef.accessKeyId, `${path}.accessKeyId`),
      secretAccessKey: await readCredential(
        source,
        scope,
        secretRef.secretAccessKey,
        `${path}.secretAccessKey`,
      ),
      sessionToken: secretRef.sessionToken
        ? await readCredential(source, scope, secretRef.sessionToken, `${path}.sessionToken`)
        : undefined,
    };
  }
  if (webIdentity) {
    const account = webIdentity.serviceAccountRef;
    return async () => {
      const token = await mintToken(
        source,
        scope,
        account,
        account.audience ?? defaultWebIdentityAudience,
        `${authPath}.webIdentity.serviceAccountRef`,
      );
      return fromWebToken({
        roleArn: webIdentity.roleArn,
        webIdentityToken: token,
        roleSessionName: sessionName,
        durationSeconds: sessionSeconds,
        clientConfig: {
          region: spec.region,
          ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
          maxAttempts: 1,
          requestHandler: { connectionTimeout: requestTimeoutMs, requestTimeout: requestTimeoutMs },
        },
      })();
    };
  }
  // defaultChain: the SDK's own chain (environment, IRSA token file, instance or container metadata).
  return undefined;
}
