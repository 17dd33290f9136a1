import type { KubernetesObject, V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { SecretReference } from '../api/types.ts';
import type { InformerEvent } from '../runtime/informers.ts';
import { countManagedSecrets, referencesSharingJobs } from './controller.ts';
import { JobIndex } from './job-index.ts';
import { ReferenceIndex } from './reference-index.ts';

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
  it('counts the Secrets the cache holds from the start, and follows confirmed creates and deletes', async () => {
    const cache = fakeCache(['left-from-before']);
    const counts: number[] = [];
    countManagedSecrets(cache, (count) => counts.push(count));
    expect(counts).toEqual([1]);
    cache.confirm('warehouse-credentials');
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts).toEqual([1, 2]);
    // Changes seen in one turn of the event loop are counted once, after the last of them.
    cache.confirm('reports-credentials');
    cache.confirm('billing-credentials');
    cache.remove('left-from-before');
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts).toEqual([1, 2, 3]);
  });
});

describe('which references a change to another reference wakes', () => {
  const reference = (name: string, target: string, status = {}) =>
    ({
      metadata: { name, namespace: 'etl', uid: `uid-${name}` },
      spec: { target: { name: target }, storeRef: { name: 'vault' } },
      status,
    }) as unknown as SecretReference;
  const indexOf = (...references: SecretReference[]) => {
    const index = new ReferenceIndex();
    for (const each of references) index.upsert(each);
    return index;
  };
  const jobMounting = (...names: string[]): V1Job => ({
    metadata: { name: 'mixed', namespace: 'etl', uid: 'uid-mixed' },
    spec: {
      template: {
        spec: { containers: [{ name: 'main', envFrom: names.map((name) => ({ secretRef: { name } })) }] },
      },
    },
  });

  it('wakes the references whose targets a Job shares with a name the changed one guards, and no other', () => {
    const index = new JobIndex();
    index.upsert(jobMounting('warehouse-secret', 'billing-old'));
    const warehouse = reference('warehouse', 'warehouse-secret');
    const unrelated = reference('crm', 'crm-secret');
    // Renamed: its target is billing-new, but it still guards the retired billing-old.
    const billing = reference('billing', 'billing-new', {
      managedSecret: { name: 'billing-new' },
      retiredSecrets: [{ name: 'billing-old', uid: 'uid-old' }],
    });
    const references = indexOf(warehouse, unrelated, billing);
    expect(referencesSharingJobs(billing, references, index)).toEqual([warehouse]);
    expect(referencesSharingJobs(reference('billing', 'billing-new'), references, index)).toEqual([]);
  });
});
