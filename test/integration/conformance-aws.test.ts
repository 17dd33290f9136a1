// AWS Secrets Manager (moto) through the shared conformance cases, then what only AWS has: web identity.
import { describe, expect, it } from 'vitest';
import { AccessDenied, CredentialNotFound } from '../../src/providers/errors.ts';
import { StoreClients } from '../../src/providers/store-clients.ts';
import type { StoreObject } from '../../src/providers/store-spec.ts';
import { awsFixture } from '../conformance/aws.ts';
import { ClusterCredentials } from '../conformance/cluster-credentials.ts';
import { runConformance } from '../conformance/suite.ts';

runConformance({
  name: 'aws',
  supports: { binary: true, accessDenied: true, batch: true, tags: true, folders: true },
  create: awsFixture,
});

describe('aws web identity', () => {
  it('reads with a role assumed through a token minted for the ServiceAccount, as IAM allows', async () => {
    const fixture = await awsFixture();
    const credentials = await ClusterCredentials.create('conf-aws-wi');
    const clients = new StoreClients({
      credentials: credentials.source,
      tuning: { cacheTtlMs: 0, floatingCacheTtlMs: 0 },
    });
    try {
      const name = `conf-wi-${Date.now()}`;
      await fixture.put(name, 'via web identity');
      const readerRole = await fixture.iam.role(`conf-reader-${Date.now()}`, [
        'secretsmanager:GetSecretValue',
      ]);
      const nobodyRole = await fixture.iam.role(`conf-nobody-${Date.now()}`, []);
      const store = (roleArn: string, account: string): StoreObject => ({
        kind: 'SecretStore',
        metadata: {
          name: `wi-${roleArn.split('/').pop()}-${account}`,
          namespace: credentials.namespace,
          uid: `${roleArn}-${account}`,
          generation: 1,
        },
        spec: {
          provider: {
            aws: {
              region: fixture.coordinates.region,
              endpoint: fixture.coordinates.endpoint,
              auth: { webIdentity: { roleArn, serviceAccountRef: { name: account } } },
            },
          },
        },
      });
      await credentials.serviceAccount('etl-reader', [
        store(readerRole, 'etl-reader').metadata.name!,
        store(nobodyRole, 'etl-reader').metadata.name!,
      ]);
      const reader = await clients.clientFor(store(readerRole, 'etl-reader'));
      const nobody = await clients.clientFor(store(nobodyRole, 'etl-reader'));

      // moto cannot answer the (unsigned) AssumeRoleWithWebIdentity call while it enforces IAM, so each client
      // assumes its role first; the SDK keeps those credentials, and the reads below are judged by IAM.
      expect((await reader.resolve({ name })).value.toString()).toBe('via web identity');
      await nobody.resolve({ name });
      const value = await fixture.enforcingPermissions!(() => reader.resolve({ name }));
      expect(value.value.toString()).toBe('via web identity');
      await expect(fixture.enforcingPermissions!(() => nobody.resolve({ name }))).rejects.toBeInstanceOf(
        AccessDenied,
      );

      const stranger = await clients.clientFor(store(readerRole, 'no-such-account'));
      await expect(stranger.resolve({ name })).rejects.toBeInstanceOf(CredentialNotFound);
    } finally {
      await clients.close();
      await credentials.close();
      await fixture.close();
    }
  });
});

describe('aws default chain', () => {
  it("reads from a ClusterSecretStore with the operator's own credentials from the SDK chain (here, its environment)", async () => {
    const fixture = await awsFixture();
    const clients = new StoreClients({
      credentials: fixture.credentials,
      tuning: { cacheTtlMs: 0, floatingCacheTtlMs: 0 },
    });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    try {
      const name = `conf-chain-${Date.now()}`;
      await fixture.put(name, 'via the default chain');
      const user = `conf-chain-${Date.now()}`;
      const keys = await fixture.iam.userWithKeys(user);
      await fixture.iam.allow(user, ['secretsmanager:GetSecretValue']);
      // The environment comes first in the chain, so no instance metadata endpoint is ever asked.
      process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
      // Only a ClusterSecretStore, which an administrator writes, may use the operator's own identity.
      const namespaced = fixture.store();
      const store: StoreObject = {
        kind: 'ClusterSecretStore',
        metadata: { name: `chain-${Date.now()}`, uid: `uid-chain-${Date.now()}`, generation: 1 },
        spec: { provider: { aws: { ...namespaced.spec.provider.aws!, auth: { defaultChain: {} } } } },
      };
      const client = await clients.clientFor(store);
      const value = await fixture.enforcingPermissions!(() => client.resolve({ name }));
      expect(value.value.toString()).toBe('via the default chain');
    } finally {
      restore('AWS_ACCESS_KEY_ID', saved.id);
      restore('AWS_SECRET_ACCESS_KEY', saved.secret);
      await clients.close();
      await fixture.close();
    }
  });
});

function restore(variable: string, value: string | undefined) {
  if (value === undefined) delete process.env[variable];
  else process.env[variable] = value;
}
