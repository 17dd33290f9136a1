import { describe, expect, it } from 'vitest';
import { AccessDenied } from '../errors.ts';
import { MemoryCredentialSource } from '../memory-credentials.ts';
import { awsCredentials } from './auth.ts';

describe('awsCredentials', () => {
  it('mints the web identity token for the named ServiceAccount, with the STS audience by default', async () => {
    const source = new MemoryCredentialSource();
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
      { kind: 'SecretStore', namespace: 'team-a' },
      source,
      'secretlink-test',
      1_000,
    );
    expect(typeof credentials).toBe('function');
    await expect((credentials as () => Promise<unknown>)()).rejects.toBeInstanceOf(AccessDenied);
    expect(source.mints).toEqual([{ namespace: 'team-a', name: 'reader', audience: 'sts.amazonaws.com' }]);
  });

  it('uses the default chain when the store asks for it', async () => {
    const credentials = await awsCredentials(
      { region: 'eu-west-1', auth: { defaultChain: {} } },
      { kind: 'SecretStore', namespace: 'team-a' },
      new MemoryCredentialSource(),
      'secretlink-test',
      1_000,
    );
    expect(credentials).toBeUndefined();
  });
});
