import type { IdentityPoolClient } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { MemoryCredentialSource } from '../../../test/support/memory-credentials.ts';
import { InvalidSpec } from '../errors.ts';
import { gcpAuthOptions, parseServiceAccountKey } from './auth.ts';

const audience =
  '//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/pool/providers/kube';

describe('gcpAuthOptions', () => {
  it('federates a token minted for the ServiceAccount named in a ClusterSecretStore', async () => {
    const source = new MemoryCredentialSource();
    source.serviceAccount('platform', 'reader', ['ClusterSecretStore/shared']);
    const options = await gcpAuthOptions(
      {
        projectID: 'my-project',
        auth: {
          workloadIdentity: { serviceAccountRef: { name: 'reader', namespace: 'platform', audience } },
        },
      },
      { kind: 'ClusterSecretStore', name: 'shared' },
      source,
    );
    const client = options.authClient as IdentityPoolClient;
    expect(await client.retrieveSubjectToken()).toBe('token-for-platform-reader');
    expect(source.mints).toEqual([
      { namespace: 'platform', name: 'reader', audience, expirationSeconds: 600 },
    ]);
  });

  it('reads a service account key from the store namespace', async () => {
    const source = new MemoryCredentialSource();
    const key = { type: 'service_account', client_email: 'r@p.iam.gserviceaccount.com', private_key: 'PEM' };
    source.put(
      'team-a',
      'gcp-key',
      { 'key.json': JSON.stringify(key) },
      { allowedStores: ['SecretStore/gcp'] },
    );
    const options = await gcpAuthOptions(
      { projectID: 'my-project', auth: { secretRef: { keyJSON: { name: 'gcp-key', key: 'key.json' } } } },
      { kind: 'SecretStore', namespace: 'team-a', name: 'gcp' },
      source,
    );
    expect(options.credentials).toEqual({ client_email: key.client_email, private_key: 'PEM' });
  });
});

describe('parseServiceAccountKey', () => {
  it('refuses text that is not a key without quoting it', () => {
    for (const text of ['CANARY-not-json', '{"private_key":"CANARY"}']) {
      let caught: unknown;
      try {
        parseServiceAccountKey(text, 'spec.provider.gcp.auth.secretRef.keyJSON');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidSpec);
      expect((caught as Error).message).not.toContain('CANARY');
    }
  });
});
