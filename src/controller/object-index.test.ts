// The index against client-node's own cache: fed by the same callbacks the informer makes, it must answer
// what filtering the cache's list would (in the same order within a namespace) after any run of adds, updates, deletes (whose
// event may carry a later state than the cache held) and relists. The seed is fixed (override with FC_SEED).
import {
  addOrUpdateObject,
  type CacheMap,
  deleteItems,
  deleteObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ObjectIndex } from './object-index.ts';

const seed = Number(process.env.FC_SEED ?? 20261201);
const settings = { seed, numRuns: 300 };

const namespaces = ['etl', 'billing', 'crm'];
const names = ['a', 'b', 'c', 'd'];
const allKeys = ['k1', 'k2', 'k3'];

/** The keys an object is filed under are written on it, as a label holds a reference's name. */
type Keyed = KubernetesObject & { keys: string[] };
const keysOf = (object: Keyed) => object.keys;

type Step =
  | { kind: 'put' | 'delete'; namespace: string; name: string; keys: string[] }
  | { kind: 'relist'; objects: { namespace: string; name: string; keys: string[] }[] };

const objectSketch = fc.record({
  namespace: fc.constantFrom(...namespaces),
  name: fc.constantFrom(...names),
  keys: fc.subarray(allKeys),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: objectSketch.map((o) => ({ kind: 'put' as const, ...o })) },
  { weight: 3, arbitrary: objectSketch.map((o) => ({ kind: 'delete' as const, ...o })) },
  {
    weight: 1,
    arbitrary: fc
      .array(objectSketch, { maxLength: 8 })
      .map((objects) => ({ kind: 'relist' as const, objects })),
  },
);

/** Runs `steps` through a client-node cache whose callbacks feed a fresh index; returns both. */
function replay(steps: Step[]) {
  const cache: CacheMap<Keyed> = new Map();
  const index = new ObjectIndex<Keyed>(keysOf);
  const upsert = [(object: Keyed) => index.upsert(object)];
  const remove = [(object: Keyed) => index.remove(object)];
  let version = 0;
  const objectOf = (o: { namespace: string; name: string; keys: string[] }): Keyed => ({
    metadata: { namespace: o.namespace, name: o.name, resourceVersion: String(++version) },
    keys: o.keys,
  });
  for (const each of steps) {
    if (each.kind === 'relist') {
      // As ListWatch relists: objects the new list lacks are deleted, then every listed one added or updated.
      const listed = each.objects.map(objectOf);
      deleteItems(cache, listed, remove);
      for (const object of listed) addOrUpdateObject(cache, object, upsert, upsert);
    } else if (each.kind === 'put') addOrUpdateObject(cache, objectOf(each), upsert, upsert);
    else deleteObject(cache, objectOf(each), remove);
  }
  return { cache, index };
}

const listOf = (cache: CacheMap<Keyed>, namespace?: string) =>
  namespace === undefined
    ? [...cache.values()].flatMap((objects) => [...objects.values()])
    : [...(cache.get(namespace)?.values() ?? [])];

describe('ObjectIndex, fed by the informer cache callbacks', () => {
  it('answers what filtering the cache list would, in the same order within a namespace', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const { cache, index } = replay(steps);
        for (const key of allKeys) {
          for (const namespace of namespaces) {
            const expected = listOf(cache, namespace).filter((o) => o.keys.includes(key));
            expect(index.lookup(namespace, key)).toEqual(expected);
          }
          const everywhere = listOf(cache).filter((o) => o.keys.includes(key));
          expect(index.lookupEverywhere(key)).toHaveLength(everywhere.length);
          expect(new Set(index.lookupEverywhere(key))).toEqual(new Set(everywhere));
        }
        for (const namespace of namespaces) {
          for (const keys of [['k1', 'k2'], ['k2', 'k3', 'k1'], []]) {
            const expected = listOf(cache, namespace).filter((o) => o.keys.some((k) => keys.includes(k)));
            expect(index.lookupAny(namespace, keys)).toEqual(expected);
          }
        }
        expect(index.size).toBe(listOf(cache).length);
      }),
      settings,
    );
  });

  it('holds the very objects it was given, the latest of each', () => {
    const index = new ObjectIndex<Keyed>(keysOf);
    const first: Keyed = { metadata: { namespace: 'etl', name: 'a' }, keys: ['k1'] };
    const second: Keyed = { metadata: { namespace: 'etl', name: 'a' }, keys: ['k1', 'k2'] };
    index.upsert(first);
    index.upsert(second);
    expect(index.lookup('etl', 'k1')[0]).toBe(second);
    expect(index.lookup('etl', 'k2')[0]).toBe(second);
  });

  it('files a deleted object out of the keys it was recorded under, not those its delete event carries', () => {
    const index = new ObjectIndex<Keyed>(keysOf);
    index.upsert({ metadata: { namespace: 'etl', name: 'a' }, keys: ['k1'] });
    index.remove({ metadata: { namespace: 'etl', name: 'a' }, keys: ['k2'] });
    expect(index.lookup('etl', 'k1')).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('keeps namespaces apart', () => {
    const index = new ObjectIndex<Keyed>(keysOf);
    index.upsert({ metadata: { namespace: 'etl', name: 'a' }, keys: ['k1'] });
    index.upsert({ metadata: { namespace: 'crm', name: 'a' }, keys: ['k1'] });
    expect(index.lookup('etl', 'k1').map((o) => o.metadata?.namespace)).toEqual(['etl']);
    expect(index.lookupEverywhere('k1').map((o) => o.metadata?.namespace)).toEqual(['etl', 'crm']);
  });
});
