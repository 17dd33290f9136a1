// Store clients are reused, rebuilt when the store or its credentials change, and never read credentials
// from a namespace the store may not use.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCredentialSource } from '../../test/support/memory-credentials.ts';
import { CredentialNotAllowed, InvalidSpec } from './errors.ts';
import { StoreClients } from './store-clients.ts';
import type { StoreObject } from './store-spec.ts';

let now = 0;
let clients: StoreClients | undefined;
afterEach(async () => {
  await clients?.close();
  clients = undefined;
});

function setup() {
  now = 0;
  const credentials = new MemoryCredentialSource();
  credentials.put(
    'team-a',
    'aws-keys',
    { id: 'AKIDEXAMPLE', secret: 'example-secret' },
    { allowedStores: ['SecretStore/aws'] },
  );
  clients = new StoreClients({ credentials, tuning: { now: () => now }, credentialCheckIntervalMs: 5_000 });
  return { credentials, clients };
}

const awsStore = (generation = 1): StoreObject => ({
  kind: 'SecretStore',
  metadata: { name: 'aws', namespace: 'team-a', uid: 'uid-1', generation },
  spec: {
    provider: {
      aws: {
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:1',
        auth: {
          secretRef: {
            accessKeyId: { name: 'aws-keys', key: 'id' },
            secretAccessKey: { name: 'aws-keys', key: 'secret' },
          },
        },
      },
    },
  },
});

describe('StoreClients', () => {
  it('reuses one client per store and reads its credentials from the store namespace once', async () => {
    const { credentials, clients } = setup();
    const first = await clients.clientFor(awsStore());
    const second = await clients.clientFor(awsStore());
    expect(second).toBe(first);
    expect(credentials.reads).toEqual(['team-a/aws-keys#id', 'team-a/aws-keys#secret']);
  });

  it('rebuilds the client when the store spec changes (new generation)', async () => {
    const { clients } = setup();
    const first = await clients.clientFor(awsStore(1));
    expect(await clients.clientFor(awsStore(2))).not.toBe(first);
  });

  it('rebuilds the client when its credential Secret changes, checking at most once per interval', async () => {
    const { credentials, clients } = setup();
    const first = await clients.clientFor(awsStore());
    credentials.put(
      'team-a',
      'aws-keys',
      { id: 'AKIDROTATED', secret: 'rotated' },
      { version: '2', allowedStores: ['SecretStore/aws'] },
    );
    now += 4_999;
    expect(await clients.clientFor(awsStore())).toBe(first);
    expect(credentials.versionChecks).toHaveLength(2);
    now += 1;
    expect(await clients.clientFor(awsStore())).not.toBe(first);
    expect(credentials.reads.slice(-2)).toEqual(['team-a/aws-keys#id', 'team-a/aws-keys#secret']);
  });

  it('reads a ClusterSecretStore credential from the namespace its ref names', async () => {
    const { credentials, clients } = setup();
    credentials.put(
      'platform',
      'vault-token',
      { token: 'hvs.example' },
      { allowedStores: ['ClusterSecretStore/shared'] },
    );
    const store: StoreObject = {
      kind: 'ClusterSecretStore',
      metadata: { name: 'shared', uid: 'uid-2', generation: 1 },
      spec: {
        provider: {
          vault: {
            server: 'http://127.0.0.1:1',
            auth: { tokenSecretRef: { name: 'vault-token', key: 'token', namespace: 'platform' } },
          },
        },
      },
    };
    await clients.clientFor(store);
    expect(credentials.versionChecks).toEqual(['platform/vault-token']);
  });

  it('reads no key of a Secret that lists another store, and says which entry to add', async () => {
    const { credentials, clients } = setup();
    credentials.put(
      'team-a',
      'aws-keys',
      { id: 'A', secret: 'B' },
      { version: '3', allowedStores: ['SecretStore/x'] },
    );
    const error = await clients.clientFor(awsStore()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialNotAllowed);
    expect((error as Error).message).toBe(
      'Secret team-a/aws-keys does not allow SecretStore/aws: add SecretStore/aws to its annotation ' +
        'secretlink.dev/allowed-stores (comma-separated) if this store may use it',
    );
    expect(credentials.reads).toEqual([]);
  });

  it('refuses a store that fails static validation, listing every problem', async () => {
    const { clients } = setup();
    const store = awsStore();
    store.spec.provider.aws!.region = 'nowhere';
    store.spec.provider.aws!.auth.secretRef!.accessKeyId.namespace = 'team-b';
    const error = await clients.clientFor(store).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidSpec);
    expect((error as Error).message).toContain('spec.provider.aws.region');
    expect((error as Error).message).toContain('spec.provider.aws.auth.secretRef.accessKeyId.namespace');
  });
});

describe('StoreClients forget a store that is deleted or changed', () => {
  it('drops the cached values of a deleted store at once', async () => {
    const { clients } = setup();
    const client = await clients.clientFor(awsStore());
    const invalidate = vi.spyOn(client, 'invalidate');
    clients.evict(awsStore());
    await vi.waitFor(() => expect(invalidate).toHaveBeenCalledWith());
    expect(await clients.clientFor(awsStore())).not.toBe(client);
  });

  it('drops the client and values of a store whose spec changed, and keeps them when only status changed', async () => {
    const { clients } = setup();
    const client = await clients.clientFor(awsStore(1));
    const invalidate = vi.spyOn(client, 'invalidate');
    clients.forgetIfChanged(awsStore(1));
    expect(await clients.clientFor(awsStore(1))).toBe(client);
    clients.forgetIfChanged(awsStore(2));
    await vi.waitFor(() => expect(invalidate).toHaveBeenCalledWith());
    expect(await clients.clientFor(awsStore(1))).not.toBe(client);
  });
});
