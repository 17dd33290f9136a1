// The AWS side of controller scenarios: a SecretStore spec pointing at the environment's moto server, and
// seeding and rotating remote values through the official SDK.
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { environment } from './cluster.ts';

const region = 'us-east-1';

function endpoint(): string {
  const aws = (environment() as { stores?: { aws?: { endpoint: string } } }).stores?.aws;
  const endpoint = aws?.endpoint ?? process.env.SECRETLINK_AWS_ENDPOINT;
  if (!endpoint) throw new Error('the test environment has no AWS Secrets Manager (moto) server');
  return endpoint;
}

function client() {
  return new SecretsManagerClient({
    region,
    endpoint: endpoint(),
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

/** A SecretStore spec reading static keys from the `aws-credentials` Secret of the store's namespace. */
export function awsStoreSpec() {
  return {
    provider: {
      aws: {
        region,
        endpoint: endpoint(),
        auth: {
          secretRef: {
            accessKeyId: { name: 'aws-credentials', key: 'id' },
            secretAccessKey: { name: 'aws-credentials', key: 'secret' },
          },
        },
      },
    },
  };
}

export async function seedAwsSecret(name: string, value: string): Promise<void> {
  await client().send(new CreateSecretCommand({ Name: name, SecretString: value }));
}

export async function rotateAwsSecret(name: string, value: string): Promise<void> {
  await client().send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
}
