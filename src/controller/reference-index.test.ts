// The reference index answers what the scans it replaces answered: the references of the namespace (or of
// all) filtered by target name, guarded name, SecretStore or ClusterSecretStore, in the cache's order.
// The seed is fixed (override with FC_SEED).
import { addOrUpdateObject, type CacheMap, deleteObject } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SecretReference } from '../api/types.ts';
import { targetNameOf } from './reference-facts.ts';
import { ReferenceIndex } from './reference-index.ts';
import { guardedNames } from './tracked-secrets.ts';

const seed = Number(process.env.FC_SEED ?? 20261201);
const settings = { seed, numRuns: 300 };

const namespaces = ['etl', 'billing'];
const secretNames = ['warehouse', 'crm', 'ledger'];
const storeNames = ['vault', 'aws'];

interface Sketch {
  namespace: string;
  name: string;
  target?: string;
  store: { kind?: 'SecretStore' | 'ClusterSecretStore'; name: string };
  claim?: string;
  retired: string[];
}

const sketch: fc.Arbitrary<Sketch> = fc.record(
  {
    namespace: fc.constantFrom(...namespaces),
    // A reference without spec.target writes the Secret of its own name.
    name: fc.constantFrom(...secretNames, 'reports'),
    target: fc.constantFrom(...secretNames),
    store: fc.record(
      {
        kind: fc.constantFrom<'SecretStore' | 'ClusterSecretStore'>('SecretStore', 'ClusterSecretStore'),
        name: fc.constantFrom(...storeNames),
      },
      { requiredKeys: ['name'] },
    ),
    claim: fc.constantFrom(...secretNames),
    retired: fc.subarray(secretNames),
  },
  { requiredKeys: ['namespace', 'name', 'store', 'retired'] },
);

let version = 0;
function referenceOf(s: Sketch): SecretReference {
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: {
      namespace: s.namespace,
      name: s.name,
      uid: `uid-${s.name}`,
      resourceVersion: String(++version),
    },
    spec: { storeRef: s.store, ...(s.target ? { target: { name: s.target } } : {}) },
    status: {
      ...(s.claim ? { managedSecret: { name: s.claim } } : {}),
      retiredSecrets: s.retired.map((name) => ({ name, uid: `uid-${name}` })),
    },
  } as unknown as SecretReference;
}

const step = fc.record({ remove: fc.boolean(), reference: sketch });

/** Runs the steps through a client-node cache whose callbacks feed the index, as the informer does. */
function replay(steps: { remove: boolean; reference: Sketch }[]) {
  const cache: CacheMap<SecretReference> = new Map();
  const index = new ReferenceIndex();
  const upsert = [(r: SecretReference) => index.upsert(r)];
  const remove = [(r: SecretReference) => index.remove(r)];
  for (const { remove: removing, reference } of steps) {
    if (removing) deleteObject(cache, referenceOf(reference), remove);
    else addOrUpdateObject(cache, referenceOf(reference), upsert, upsert);
  }
  const listOf = (namespace?: string) =>
    namespace === undefined
      ? [...cache.values()].flatMap((references) => [...references.values()])
      : [...(cache.get(namespace)?.values() ?? [])];
  return { index, listOf };
}

describe('ReferenceIndex', () => {
  it('answers what filtering the references of the namespace would', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const { index, listOf } = replay(steps);
        for (const namespace of namespaces) {
          const all = listOf(namespace);
          for (const name of [...secretNames, 'reports']) {
            expect(index.targeting(namespace, name)).toEqual(all.filter((r) => targetNameOf(r) === name));
            expect(index.guarding(namespace, name)).toEqual(
              all.filter((r) => guardedNames(r.status ?? {}).includes(name)),
            );
          }
          const some = new Set(['crm', 'reports']);
          expect(index.targetingAny(namespace, some)).toEqual(all.filter((r) => some.has(targetNameOf(r))));
          for (const store of storeNames) {
            expect(index.usingStore(namespace, store)).toEqual(
              all.filter(
                (r) =>
                  (r.spec.storeRef.kind ?? 'SecretStore') === 'SecretStore' && r.spec.storeRef.name === store,
              ),
            );
          }
          expect(index.usingAnyClusterStore(namespace)).toEqual(
            all.filter((r) => r.spec.storeRef.kind === 'ClusterSecretStore'),
          );
        }
        for (const store of storeNames) {
          const expected = listOf().filter(
            (r) => r.spec.storeRef.kind === 'ClusterSecretStore' && r.spec.storeRef.name === store,
          );
          expect(new Set(index.usingClusterStore(store))).toEqual(new Set(expected));
          expect(index.usingClusterStore(store)).toHaveLength(expected.length);
        }
      }),
      settings,
    );
  });

  it('moves a reference when its target is renamed and when status claims or retires a name', () => {
    const index = new ReferenceIndex();
    const base = { namespace: 'etl', name: 'reports', store: { name: 'vault' }, retired: [] };
    index.upsert(referenceOf({ ...base, target: 'warehouse', claim: 'warehouse' }));
    expect(index.targeting('etl', 'warehouse')).toHaveLength(1);
    expect(index.guarding('etl', 'warehouse')).toHaveLength(1);

    index.upsert(referenceOf({ ...base, target: 'ledger', claim: 'ledger', retired: ['warehouse'] }));
    expect(index.targeting('etl', 'warehouse')).toEqual([]);
    expect(index.targeting('etl', 'ledger')).toHaveLength(1);
    // A retired Secret is guarded until it is confirmed gone.
    expect(index.guarding('etl', 'warehouse')).toHaveLength(1);

    index.upsert(referenceOf({ ...base, target: 'ledger', claim: 'ledger' }));
    expect(index.guarding('etl', 'warehouse')).toEqual([]);
    expect(index.guarding('etl', 'ledger')).toHaveLength(1);
  });

  it('keeps a target and a store of the same name apart, and SecretStores from ClusterSecretStores', () => {
    const index = new ReferenceIndex();
    index.upsert(referenceOf({ namespace: 'etl', name: 'vault', store: { name: 'vault' }, retired: [] }));
    index.upsert(
      referenceOf({
        namespace: 'etl',
        name: 'crm',
        store: { kind: 'ClusterSecretStore', name: 'vault' },
        retired: [],
      }),
    );
    expect(index.targeting('etl', 'vault').map((r) => r.metadata.name)).toEqual(['vault']);
    expect(index.usingStore('etl', 'vault').map((r) => r.metadata.name)).toEqual(['vault']);
    expect(index.usingClusterStore('vault').map((r) => r.metadata.name)).toEqual(['crm']);
    expect(index.usingAnyClusterStore('etl').map((r) => r.metadata.name)).toEqual(['crm']);
    expect(index.usingStore('billing', 'vault')).toEqual([]);
  });

  it('forgets a deleted reference', () => {
    const index = new ReferenceIndex();
    const reference = referenceOf({ namespace: 'etl', name: 'crm', store: { name: 'vault' }, retired: [] });
    index.upsert(reference);
    index.remove(reference);
    expect(index.targeting('etl', 'crm')).toEqual([]);
    expect(index.usingStore('etl', 'vault')).toEqual([]);
    expect(index.size).toBe(0);
  });
});
