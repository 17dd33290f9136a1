// GCP credentials as the store declares them: the pod's application default credentials, a service account
// key from a Secret, or workload identity federation, where a ServiceAccount token minted for the pool's
// audience is exchanged at Google's STS (and, optionally, for a service account's access token).

import { IdentityPoolClient } from 'google-auth-library';
import type { ClientOptions } from 'google-gax';
import { type CredentialSource, mintToken, readCredential } from '../credentials.ts';
import { InvalidSpec } from '../errors.ts';
import type { GcpProviderSpec, StoreScope } from '../store-spec.ts';

const authPath = 'spec.provider.gcp.auth';
const cloudPlatformScope = 'https://www.googleapis.com/auth/cloud-platform';
const stsTokenUrl = 'https://sts.googleapis.com/v1/token';
const jwtTokenType = 'urn:ietf:params:oauth:token-type:jwt';

export type GcpAuthOptions = Pick<ClientOptions, 'credentials' | 'authClient'>;

export async function gcpAuthOptions(
  spec: GcpProviderSpec,
  scope: StoreScope,
  source: CredentialSource,
): Promise<GcpAuthOptions> {
  const { secretRef, workloadIdentity } = spec.auth;
  if (secretRef) {
    const path = `${authPath}.secretRef.keyJSON`;
    return {
      credentials: parseServiceAccountKey(await readCredential(source, scope, secretRef.keyJSON, path), path),
    };
  }
  if (workloadIdentity) {
    const account = workloadIdentity.serviceAccountRef;
    const path = `${authPath}.workloadIdentity.serviceAccountRef`;
    // Required by the schema and by validation: the pool provider is the only audience STS accepts.
    const audience = account.audience ?? '';
    const email = workloadIdentity.serviceAccountEmail;
    const authClient = new IdentityPoolClient({
      // STS names the pool provider without a scheme; the token's audience may carry https: in front.
      audience: audience.replace(/^https:/, ''),
      subject_token_type: jwtTokenType,
      token_url: stsTokenUrl,
      scopes: [cloudPlatformScope],
      ...(email
        ? {
            service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${email}:generateAccessToken`,
          }
        : {}),
      subject_token_supplier: {
        getSubjectToken: () => mintToken(source, scope, account, audience, path),
      },
    });
    return { authClient };
  }
  // applicationDefault: the auth library looks in the usual places (env, metadata server).
  return {};
}

/** Only the two fields the client needs are kept; the parse error never quotes the key. */
export function parseServiceAccountKey(
  text: string,
  path: string,
): { client_email: string; private_key: string } {
  let key: { type?: unknown; client_email?: unknown; private_key?: unknown };
  try {
    key = JSON.parse(text) as typeof key;
  } catch {
    throw new InvalidSpec(`the Secret key named by ${path} does not hold JSON`);
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new InvalidSpec(
      `the Secret key named by ${path} is not a service account key (client_email, private_key)`,
    );
  }
  return { client_email: key.client_email, private_key: key.private_key };
}
