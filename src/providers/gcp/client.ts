// Builds a GCP store's client. The only file of the provider that loads Google's client libraries (grpc,
// protobufs, auth) when imported: the provider imports it on the first GCP store's first use.
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { PassThroughClient } from 'google-auth-library';
import { grpc, loggingUtils } from 'google-gax';
import { ResolvingClient } from '../resolving-client.ts';
import type { GcpProviderSpec, StoreObject } from '../store-spec.ts';
import type { ClientContext, StoreClient } from '../types.ts';
import { storeScope } from '../validation.ts';
import { gcpAuthOptions } from './auth.ts';
import { GcpBackend } from './backend.ts';
import { parseEndpoint } from './endpoint.ts';

// The Google client libraries' debug logging (switched on by GOOGLE_SDK_NODE_LOGGING) prints whole responses,
// secret payloads included; it stays off in this process whatever the environment says.
loggingUtils.setBackend(null);

export async function createGcpClient(
  store: StoreObject,
  spec: GcpProviderSpec,
  context: ClientContext,
): Promise<StoreClient> {
  const auth = await gcpAuthOptions(spec, storeScope(store), context.credentials);
  const endpoint = spec.endpoint ? parseEndpoint(spec.endpoint) : undefined;
  const client = new SecretManagerServiceClient({
    projectId: spec.projectID,
    // grpc-js refuses a larger message from its length prefix, before buffering it (mapped in errors.ts).
    'grpc.max_receive_message_length': context.tuning.maxResponseBytes,
    ...(endpoint ? { apiEndpoint: endpoint.host, port: endpoint.port } : {}),
    // A loopback endpoint is an emulator or a local proxy: plaintext, and no Google credentials are sent to
    // it, nor looked for (application default credentials would probe the metadata server). The declared
    // credentials were still read above, so a missing one is reported the same way.
    ...(endpoint?.plaintext
      ? { sslCreds: grpc.credentials.createInsecure(), authClient: new PassThroughClient() }
      : auth),
  });
  return new ResolvingClient(new GcpBackend(client, spec.projectID), context.tuning, context.logger);
}
