import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AnySecretStore, StoreStatus } from '../api/types.ts';
import { storeKey } from '../providers/store-spec.ts';
import { parseStoreKey, StoreStatusReconciler } from './store-status-reconciler.ts';

const now = Date.parse('2030-01-01T12:00:00Z');

const store: AnySecretStore = {
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretStore',
  metadata: { name: 'aws', namespace: 'etl', generation: 2 },
  spec: { provider: { aws: { region: 'eu-west-1', auth: { defaultChain: {} } } } },
};

function harness(stores: AnySecretStore[]) {
  const writes: { key: string; status: StoreStatus }[] = [];
  const reconciler = new StoreStatusReconciler({
    view: {
      store: (kind, namespace, name) =>
        stores.find(
          (s) =>
            s.kind === kind &&
            s.metadata.name === name &&
            (kind === 'ClusterSecretStore' || s.metadata.namespace === namespace),
        ),
    },
    writer: {
      writeStoreStatus: async (target, status) => {
        writes.push({ key: storeKey(target), status });
      },
    },
    clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
  });
  return { reconciler, writes };
}

describe('store status keys', () => {
  it('keep namespaced and cluster stores apart, and apart from reference keys', () => {
    expect(storeKey(store)).toBe('SecretStore/etl/aws');
    expect(parseStoreKey('SecretStore/etl/aws')).toEqual({
      kind: 'SecretStore',
      namespace: 'etl',
      name: 'aws',
    });
    expect(parseStoreKey('ClusterSecretStore/shared')).toEqual({
      kind: 'ClusterSecretStore',
      namespace: '',
      name: 'shared',
    });
    expect(parseStoreKey('etl/warehouse')).toBeUndefined();
  });
});

describe('StoreStatusReconciler', () => {
  it('writes the status of a store that has none', async () => {
    const { reconciler, writes } = harness([store]);
    expect(await reconciler.reconcile('SecretStore/etl/aws')).toBe(true);
    expect(writes).toEqual([
      {
        key: 'SecretStore/etl/aws',
        status: expect.objectContaining({ provider: 'aws', observedGeneration: 2 }),
      },
    ]);
  });

  it('writes nothing when the store already shows that status', async () => {
    const first = harness([store]);
    await first.reconciler.reconcile('SecretStore/etl/aws');
    const { reconciler, writes } = harness([{ ...store, status: first.writes[0]!.status }]);
    expect(await reconciler.reconcile('SecretStore/etl/aws')).toBe(false);
    expect(writes).toEqual([]);
  });

  it('does nothing for a store that is gone', async () => {
    const { reconciler, writes } = harness([]);
    expect(await reconciler.reconcile('SecretStore/etl/aws')).toBe(false);
    expect(writes).toEqual([]);
  });
});
