// The GCP Secret Manager provider.
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { PassThroughClient } from 'google-auth-library';
import { grpc, loggingUtils } from 'google-gax';
import { credentialSecret } from '../credentials.ts';
import { ResolvingClient } from '../resolving-client.ts';
import type { GcpProviderSpec } from '../store-spec.ts';
import type { Provider } from '../types.ts';
import { storeScope } from '../validation.ts';
import { gcpAuthOptions } from './auth.ts';
import { GcpBackend } from './backend.ts';
import { parseEndpoint } from './endpoint.ts';
import { validateGcp } from './validate.ts';

// The Google client libraries' debug logging (switched on by GOOGLE_SDK_NODE_LOGGING) prints whole responses,
// secret payloads included; it stays off in this process whatever the environment says.
loggingUtils.setBackend(null);

export const gcpProvider: Provider<'gcp'> = {
  name: 'gcp',

  validate: validateGcp,

  credentialSecrets(spec: GcpProviderSpec, scope) {
    return credentialSecret(scope, spec.auth.secretRef?.keyJSON, 'spec.provider.gcp.auth.secretRef.keyJSON');
  },

  async createClient(store, spec, context) {
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
  },
};
