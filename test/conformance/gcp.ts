// The GCP fixture: the Secret Manager emulator over plaintext gRPC on loopback. The emulator has no IAM, so
// it cannot refuse a read; the stores still read a real service account key from a Secret.
import { generateKeyPairSync } from 'node:crypto';
import type { StoreObject } from '../../src/providers/store-spec.ts';
import { gcpEmulatorClient } from '../env/stores/clients.ts';
import { stores } from '../support/stores.ts';
import { ClusterCredentials } from './cluster-credentials.ts';
import type { ConformanceFixture, StoredVersion } from './fixture.ts';

const grpcAlreadyExists = 6;

export async function gcpFixture(): Promise<ConformanceFixture> {
  const coordinates = stores().gcp;
  const project = coordinates.projectID;
  const credentials = await ClusterCredentials.create('conf-gcp');
  await credentials.secret('gcp-key', { 'key.json': JSON.stringify(serviceAccountKey(project)) }, [
    'gcp-gcp-key',
  ]);
  const admin = gcpEmulatorClient(coordinates);

  const storeWith = (secret: string, endpoint = coordinates.endpoint): StoreObject => ({
    kind: 'SecretStore',
    metadata: {
      name: `gcp-${secret}`,
      namespace: credentials.namespace,
      uid: `uid-${secret}-${endpoint}`,
      generation: 1,
    },
    spec: {
      provider: {
        gcp: {
          projectID: project,
          endpoint,
          auth: { secretRef: { keyJSON: { name: secret, key: 'key.json' } } },
        },
      },
    },
  });

  return {
    provider: 'gcp',
    credentials: credentials.source,
    store: () => storeWith('gcp-key'),
    storeAt: (host, port) => storeWith('gcp-key', `${host}:${port}`),
    async storeWithCredential(credential) {
      const secret = `canary-${Date.now()}`;
      await credentials.secret(secret, { 'key.json': credential }, [`gcp-${secret}`]);
      return storeWith(secret);
    },
    async put(name, value, options = {}): Promise<StoredVersion> {
      const parent = `projects/${project}/secrets/${name}`;
      try {
        await admin.createSecret({
          parent: `projects/${project}`,
          secretId: name,
          secret: { replication: { automatic: {} }, labels: options.tags ?? {} },
        });
      } catch (error) {
        if ((error as { code?: number }).code !== grpcAlreadyExists) throw error;
      }
      const data = typeof value === 'string' ? Buffer.from(value) : value;
      const [version] = await admin.addSecretVersion({ parent, payload: { data } });
      const number = version.name!.split('/').pop()!;
      return { versionId: number, version: number };
    },
    async close() {
      await admin.close();
      await credentials.close();
    },
  };
}

/** A service account key of the real shape, with a freshly generated private key. */
function serviceAccountKey(project: string) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    type: 'service_account',
    project_id: project,
    private_key_id: 'conformance',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: `conformance@${project}.iam.gserviceaccount.com`,
    token_uri: 'https://oauth2.googleapis.com/token',
  };
}
