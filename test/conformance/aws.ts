// The AWS fixture: moto in server mode. moto accepts any credentials unless asked to enforce IAM (its
// /moto-api/reset-auth switch); the access-denied and leak cases switch enforcement on for their duration.
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { StoreObject } from '../../src/providers/store-spec.ts';
import type { AwsStore } from '../env/stores/coordinates.ts';
import { stores } from '../support/stores.ts';
import { ClusterCredentials } from './cluster-credentials.ts';
import type { ConformanceFixture, StoredVersion } from './fixture.ts';

/** moto's default account; its IAM answers for this account only. */
const account = '123456789012';

export async function awsFixture(): Promise<ConformanceFixture & { iam: MotoIam; coordinates: AwsStore }> {
  const coordinates = stores().aws;
  const credentials = await ClusterCredentials.create('conf-aws');
  await credentials.secret('aws-keys', { id: 'conformance', secret: 'conformance' }, ['aws-aws-keys']);
  const admin = new SecretsManagerClient({
    region: coordinates.region,
    endpoint: coordinates.endpoint,
    credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' },
  });
  const iam = new MotoIam(coordinates.endpoint);

  const storeWith = (secret: string, endpoint = coordinates.endpoint): StoreObject => ({
    kind: 'SecretStore',
    metadata: {
      name: `aws-${secret}`,
      namespace: credentials.namespace,
      uid: `uid-${secret}-${endpoint}`,
      generation: 1,
    },
    spec: {
      provider: {
        aws: {
          region: coordinates.region,
          endpoint,
          auth: {
            secretRef: {
              accessKeyId: { name: secret, key: 'id' },
              secretAccessKey: { name: secret, key: 'secret' },
            },
          },
        },
      },
    },
  });

  return {
    provider: 'aws',
    credentials: credentials.source,
    iam,
    coordinates,
    store: () => storeWith('aws-keys'),
    storeAt: (host, port) => storeWith('aws-keys', `http://${host}:${port}`),
    async deniedStore() {
      // A real IAM user with no policy: once moto enforces IAM, it may do nothing.
      const keys = await iam.userWithKeys(`conf-denied-${Date.now()}`);
      const secret = `denied-${Date.now()}`;
      await credentials.secret(secret, { id: keys.accessKeyId, secret: keys.secretAccessKey }, [
        `aws-${secret}`,
      ]);
      return storeWith(secret);
    },
    async storeWithCredential(credential) {
      const secret = `canary-${Date.now()}`;
      await credentials.secret(secret, { id: 'AKIACANARYKEY', secret: credential }, [`aws-${secret}`]);
      return storeWith(secret);
    },
    async put(name, value, options = {}): Promise<StoredVersion> {
      const content = typeof value === 'string' ? { SecretString: value } : { SecretBinary: value };
      const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      let versionId: string | undefined;
      try {
        versionId = (
          await admin.send(
            new CreateSecretCommand({ Name: name, ...content, ...(tags.length > 0 ? { Tags: tags } : {}) }),
          )
        ).VersionId;
      } catch (error) {
        if (!(error instanceof ResourceExistsException)) throw error;
        versionId = (await admin.send(new PutSecretValueCommand({ SecretId: name, ...content }))).VersionId;
      }
      return { versionId: versionId!, version: versionId! };
    },
    enforcingPermissions: (action) => iam.enforcing(action),
    async close() {
      admin.destroy();
      await credentials.close();
    },
  };
}

/** moto's IAM over its query API, and its switch for enforcing IAM on every request. */
export class MotoIam {
  readonly #endpoint: string;

  constructor(endpoint: string) {
    this.#endpoint = endpoint;
  }

  async userWithKeys(user: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    await this.#query({ Action: 'CreateUser', UserName: user });
    const answer = await this.#query({ Action: 'CreateAccessKey', UserName: user });
    return {
      accessKeyId: /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(answer)![1]!,
      secretAccessKey: /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(answer)![1]!,
    };
  }

  async allow(user: string, actions: string[], resource = '*'): Promise<void> {
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }],
    });
    await this.#query({
      Action: 'PutUserPolicy',
      UserName: user,
      PolicyName: 'conformance',
      PolicyDocument: document,
    });
  }

  async role(name: string, actions: string[]): Promise<string> {
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Federated: 'kubernetes' }, Action: 'sts:AssumeRoleWithWebIdentity' },
      ],
    });
    await this.#query({ Action: 'CreateRole', RoleName: name, AssumeRolePolicyDocument: trust });
    if (actions.length > 0) {
      const document = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
      });
      await this.#query({
        Action: 'PutRolePolicy',
        RoleName: name,
        PolicyName: 'conformance',
        PolicyDocument: document,
      });
    }
    return `arn:aws:iam::${account}:role/${name}`;
  }

  /** Runs `action` while moto checks signatures and IAM policies on every request, then switches it off again. */
  async enforcing<T>(action: () => Promise<T>): Promise<T> {
    await this.#switch('0');
    try {
      return await action();
    } finally {
      await this.#switch('inf');
    }
  }

  async #switch(count: string): Promise<void> {
    const answer = await fetch(new URL('/moto-api/reset-auth', this.#endpoint), {
      method: 'POST',
      body: count,
    });
    if (!answer.ok) throw new Error(`moto reset-auth answered ${answer.status}`);
  }

  async #query(parameters: Record<string, string>): Promise<string> {
    // moto serves IAM on the same port; it routes by the service named in the signature's credential scope.
    const body = new URLSearchParams({ ...parameters, Version: '2010-05-08' });
    const answer = await fetch(this.#endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=admin/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
      body,
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`moto IAM ${parameters.Action} answered ${answer.status}`);
    return text;
  }
}
