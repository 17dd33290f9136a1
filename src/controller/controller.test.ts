import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { InformerEvent } from '../runtime/informers.ts';
import { countManagedSecrets } from './controller.ts';

/** A managed-Secret cache that, like client-node's, changes its contents before it calls back. */
function fakeCache(initial: string[]) {
  const names = new Set(initial);
  const callbacks: Record<InformerEvent, Array<(object: KubernetesObject) => void>> = {
    add: [],
    update: [],
    delete: [],
  };
  const object = (name: string): KubernetesObject => ({ metadata: { name, namespace: 'etl' } });
  return {
    list: () => [...names].map(object),
    on: (event: InformerEvent, callback: (object: KubernetesObject) => void) => {
      callbacks[event].push(callback);
      return () => undefined;
    },
    confirm(name: string) {
      names.add(name);
      for (const callback of callbacks.add) callback(object(name));
    },
    remove(name: string) {
      names.delete(name);
      for (const callback of callbacks.delete) callback(object(name));
    },
  };
}

describe('the managed Secrets metric', () => {
  it('counts the Secrets the cache holds from the start, and follows each confirmed create and delete', () => {
    const cache = fakeCache(['left-from-before']);
    const counts: number[] = [];
    countManagedSecrets(cache, (count) => counts.push(count));
    cache.confirm('warehouse-credentials');
    cache.confirm('reports-credentials');
    cache.remove('left-from-before');
    expect(counts).toEqual([1, 2, 3, 2]);
  });
});
