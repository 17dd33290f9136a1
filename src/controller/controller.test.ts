import type { KubernetesObject, V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { cacheInformers } from '../../test/support/cache-informer.ts';
import { labels } from '../api/constants.ts';
import type { SecretReference } from '../api/types.ts';
import { ControllerCaches, countManagedSecrets, referencesSharingJobs } from './controller.ts';
import { JobIndex } from './job-index.ts';
import { ReferenceIndex } from './reference-index.ts';

describe('the managed Secrets metric', () => {
  it('counts the Secrets the cache holds from the start, and follows each confirmed create and delete', () => {
    const { informers, asControllerInformers } = cacheInformers();
    const caches = new ControllerCaches(asControllerInformers);
    const secret = (name: string): KubernetesObject => ({
      metadata: { name, namespace: 'etl', labels: { [labels.reference]: 'warehouse' } },
    });
    informers.managedSecrets.put(secret('left-from-before'));
    const counts: number[] = [];
    countManagedSecrets(caches, (count) => counts.push(count));
    informers.managedSecrets.put(secret('warehouse-credentials'));
    informers.managedSecrets.put(secret('reports-credentials'));
    // An update is not a new Secret.
    informers.managedSecrets.put(secret('reports-credentials'));
    informers.managedSecrets.remove(secret('left-from-before'));
    expect(counts).toEqual([1, 2, 3, 2]);
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
