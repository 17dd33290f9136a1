// The official clients, pointed at the environment's store servers: how tests, the demo and the benchmarks
// seed and rotate values.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { PassThroughClient } from 'google-auth-library';
import { grpc } from 'google-gax';
import type { AwsStore, GcpStore } from './coordinates.ts';

export function motoClient(aws: Pick<AwsStore, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey'>) {
  const { endpoint, region, accessKeyId, secretAccessKey } = aws;
  return new SecretsManagerClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey } });
}

/** Plaintext gRPC to the emulator, with no Google credentials at all. */
export function gcpEmulatorClient({ endpoint, projectID }: GcpStore): SecretManagerServiceClient {
  const separator = endpoint.lastIndexOf(':');
  return new SecretManagerServiceClient({
    apiEndpoint: endpoint.slice(0, separator).replace(/^\[|\]$/g, ''),
    port: Number(endpoint.slice(separator + 1)),
    projectId: projectID,
    sslCreds: grpc.credentials.createInsecure(),
    // Without this the auth library would look for credentials, down to a cloud metadata server.
    authClient: new PassThroughClient(),
  });
}
