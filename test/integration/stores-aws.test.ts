// The environment's AWS Secrets Manager is a real moto server: what the SDK writes, versions and reads back
// behaves as the AWS provider will see it.
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  awsClient,
  resetAwsStore,
  rotateAwsSecret,
  seedAwsSecret,
  stores,
  uniqueSecretName,
} from '../support/stores.ts';

function read(name: string, selector: { VersionId?: string; VersionStage?: string } = {}) {
  return awsClient().send(new GetSecretValueCommand({ SecretId: name, ...selector }));
}

describe('AWS Secrets Manager (moto)', () => {
  it('listens on loopback', () => {
    expect(new URL(stores().aws.endpoint).hostname).toBe('127.0.0.1');
  });

  it('serves the current string value, and the previous one by stage and by version id after a rotation', async () => {
    const name = uniqueSecretName('aws-string');
    const first = await seedAwsSecret(name, 'hunter2');
    const second = await rotateAwsSecret(name, 'correct horse battery staple');
    expect(second).not.toBe(first.versionId);

    const current = await read(name);
    expect(current.SecretString).toBe('correct horse battery staple');
    expect(current.VersionId).toBe(second);
    expect(current.VersionStages).toContain('AWSCURRENT');

    const previous = await read(name, { VersionStage: 'AWSPREVIOUS' });
    expect(previous.SecretString).toBe('hunter2');
    expect(previous.VersionId).toBe(first.versionId);
    expect((await read(name, { VersionId: first.versionId })).SecretString).toBe('hunter2');
  });

  it('returns a JSON value as the text it was given', async () => {
    const name = uniqueSecretName('aws-json');
    const value = { username: 'loader', password: 'p@ss', port: 5432, options: { ssl: true } };
    await seedAwsSecret(name, value);
    expect(JSON.parse((await read(name)).SecretString!)).toEqual(value);
  });

  it('returns a binary value byte for byte', async () => {
    const name = uniqueSecretName('aws-binary');
    const bytes = new Uint8Array([0, 1, 2, 254, 255, 0x80, 0x0a]);
    await seedAwsSecret(name, bytes);
    const value = await read(name);
    expect(value.SecretString).toBeUndefined();
    expect([...value.SecretBinary!]).toEqual([...bytes]);
  });

  it('answers ResourceNotFoundException for a name it does not hold', async () => {
    await expect(read(uniqueSecretName('aws-missing'))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('forgets every secret when reset, as each test file starts', async () => {
    const name = uniqueSecretName('aws-reset');
    await seedAwsSecret(name, 'temporary');
    await resetAwsStore();
    await expect(read(name)).rejects.toBeInstanceOf(ResourceNotFoundException);
    const listed = await awsClient().send(new ListSecretsCommand({}));
    expect(listed.SecretList ?? []).toEqual([]);
  });
});
