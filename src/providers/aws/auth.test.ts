import { describe, expect, it } from 'vitest';
import { MemoryCredentialSource } from '../../../test/support/memory-credentials.ts';
import { AccessDenied, CredentialNotAllowed } from '../errors.ts';
import { awsCredentials } from './auth.ts';

describe('awsCredentials', () => {
  it('mints a 600-second web identity token for the named ServiceAccount, with the STS audience by default', async () => {
    const source = new MemoryCredentialSource();
    source.serviceAccount('team-a', 'reader', ['SecretStore/aws']);
    source.mintError = new AccessDenied('no token for you');
    const credentials = await awsCredentials(
      {
        region: 'eu-west-1',
        auth: {
          webIdentity: {
            roleArn: 'arn:aws:iam::123456789012:role/reader',
            serviceAccountRef: { name: 'reader' },
          },
        },
      },
      { kind: 'SecretStore', namespace: 'team-a', name: 'aws' },
      source,
      'secretlink-test',
      1_000,
    );
    expect(typeof credentials).toBe('function');
    await expect((credentials as () => Promise<unknown>)()).rejects.toBeInstanceOf(AccessDenied);
    expect(source.mints).toEqual([
      { namespace: 'team-a', name: 'reader', audience: 'sts.amazonaws.com', expirationSeconds: 600 },
    ]);
  });

  it('mints no token for a ServiceAccount that does not list the store', async () => {
    const source = new MemoryCredentialSource();
    source.serviceAccount('team-a', 'reader', ['SecretStore/other']);
    const credentials = await awsCredentials(
      {
        region: 'eu-west-1',
        auth: {
          webIdentity: {
            roleArn: 'arn:aws:iam::123456789012:role/reader',
            serviceAccountRef: { name: 'reader' },
          },
        },
      },
      { kind: 'SecretStore', namespace: 'team-a', name: 'aws' },
      source,
      'secretlink-test',
      1_000,
    );
    await expect((credentials as () => Promise<unknown>)()).rejects.toBeInstanceOf(CredentialNotAllowed);
    expect(source.mints).toEqual([]);
  });

  it('uses the default chain when a ClusterSecretStore asks for it', async () => {
    const credentials = await awsCredentials(
      { region: 'eu-west-1', auth: { defaultChain: {} } },
      { kind: 'ClusterSecretStore', name: 'platform' },
      new MemoryCredentialSource(),
      'secretlink-test',
      1_000,
    );
    expect(credentials).toBeUndefined();
  });
});
