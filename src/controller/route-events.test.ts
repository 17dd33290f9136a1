// Event routing over the reference index: each kind of change wakes the references it concerns, found through
// the index the caches keep, and no others. The informers are client-node's cache functions behind the
// Informer interface, so the index is fed exactly as the real ones feed it.
import type { V1Job } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { cacheInformers } from '../../test/support/cache-informer.ts';
import { labels } from '../api/constants.ts';
import type { SecretReference } from '../api/types.ts';
import type { WorkQueue } from '../runtime/workqueue.ts';
import { ControllerCaches, routeEvents } from './controller.ts';

function setUp() {
  const { informers, asControllerInformers } = cacheInformers();
  const caches = new ControllerCaches(asControllerInformers);
  const woken: string[] = [];
  routeEvents(
    caches,
    { add: (key: string) => woken.push(key) } as unknown as WorkQueue,
    pino({ level: 'silent' }),
  );
  const wokenBy = (change: () => void) => {
    woken.length = 0;
    change();
    return [...new Set(woken)].sort();
  };
  return { informers, caches, wokenBy };
}

function reference(
  namespace: string,
  name: string,
  options: { target?: string; store?: string; cluster?: boolean; claim?: string } = {},
): SecretReference {
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}` },
    spec: {
      storeRef: {
        name: options.store ?? 'vault',
        ...(options.cluster ? { kind: 'ClusterSecretStore' } : {}),
      },
      ...(options.target ? { target: { name: options.target } } : {}),
    },
    status: options.claim ? { managedSecret: { name: options.claim } } : {},
  } as unknown as SecretReference;
}

function jobMounting(namespace: string, name: string, ...secrets: string[]): V1Job {
  return {
    metadata: { namespace, name, uid: `uid-${name}` },
    spec: {
      template: {
        spec: { containers: [{ name: 'main', envFrom: secrets.map((s) => ({ secretRef: { name: s } })) }] },
      },
    },
  };
}

describe('routeEvents', () => {
  it('wakes a new reference and the others naming its target, not the rest of the namespace', () => {
    const { informers, wokenBy } = setUp();
    informers.secretReferences.put(reference('etl', 'first', { target: 'warehouse' }));
    informers.secretReferences.put(reference('etl', 'other', { target: 'crm' }));
    informers.secretReferences.put(reference('billing', 'elsewhere', { target: 'warehouse' }));
    expect(
      wokenBy(() => informers.secretReferences.put(reference('etl', 'second', { target: 'warehouse' }))),
    ).toEqual(['etl/first', 'etl/second']);
    // Its delete wakes the one left.
    expect(
      wokenBy(() => informers.secretReferences.remove(reference('etl', 'second', { target: 'warehouse' }))),
    ).toEqual(['etl/first', 'etl/second']);
  });

  it('wakes the references whose target a Job shares with a name the changed one guards', () => {
    const { informers, wokenBy } = setUp();
    informers.jobs.put(jobMounting('etl', 'mixed', 'warehouse', 'billing-old'));
    informers.secretReferences.put(reference('etl', 'warehouse'));
    informers.secretReferences.put(reference('etl', 'crm'));
    const billing = reference('etl', 'billing', { target: 'billing-new', claim: 'billing-old' });
    expect(wokenBy(() => informers.secretReferences.put(billing))).toEqual(['etl/billing', 'etl/warehouse']);
  });

  it('wakes the references reading a changed SecretStore, and only those', () => {
    const { informers, wokenBy } = setUp();
    informers.secretReferences.put(reference('etl', 'reads-vault'));
    informers.secretReferences.put(reference('etl', 'reads-aws', { store: 'aws' }));
    informers.secretReferences.put(reference('etl', 'reads-cluster-vault', { cluster: true }));
    informers.secretReferences.put(reference('billing', 'reads-vault'));
    const store = { metadata: { namespace: 'etl', name: 'vault' } };
    expect(wokenBy(() => informers.secretStores.put(store))).toEqual(['etl/reads-vault']);
  });

  it('wakes the references of every namespace reading a changed ClusterSecretStore', () => {
    const { informers, wokenBy } = setUp();
    informers.secretReferences.put(reference('etl', 'a', { cluster: true }));
    informers.secretReferences.put(reference('billing', 'b', { cluster: true }));
    informers.secretReferences.put(reference('billing', 'c', { cluster: true, store: 'aws' }));
    informers.secretReferences.put(reference('billing', 'd'));
    expect(wokenBy(() => informers.clusterSecretStores.put({ metadata: { name: 'vault' } }))).toEqual([
      'billing/b',
      'etl/a',
    ]);
  });

  it('wakes the ClusterSecretStore references of a namespace whose labels change', () => {
    const { informers, wokenBy } = setUp();
    informers.secretReferences.put(reference('etl', 'a', { cluster: true }));
    informers.secretReferences.put(reference('etl', 'b', { cluster: true, store: 'aws' }));
    informers.secretReferences.put(reference('etl', 'c'));
    informers.secretReferences.put(reference('billing', 'd', { cluster: true }));
    const namespace = { metadata: { name: 'etl', labels: { team: 'data' } } };
    expect(wokenBy(() => informers.namespaces.put(namespace))).toEqual(['etl/a', 'etl/b']);
  });

  it("wakes the references targeting a changed Job's Secrets", () => {
    const { informers, wokenBy } = setUp();
    informers.secretReferences.put(reference('etl', 'warehouse'));
    informers.secretReferences.put(reference('etl', 'reports', { target: 'crm' }));
    informers.secretReferences.put(reference('etl', 'ledger'));
    informers.secretReferences.put(reference('billing', 'warehouse'));
    expect(wokenBy(() => informers.jobs.put(jobMounting('etl', 'load', 'warehouse', 'crm')))).toEqual([
      'etl/reports',
      'etl/warehouse',
    ]);
  });
});

describe('ControllerCaches view', () => {
  it("finds a reference's managed Secrets by their label, and follows a label that changes", () => {
    const { informers, caches } = setUp();
    const secret = (name: string, referenceName: string) => ({
      metadata: { namespace: 'etl', name, labels: { [labels.reference]: referenceName } },
    });
    informers.managedSecrets.put(secret('warehouse', 'warehouse'));
    informers.managedSecrets.put(secret('warehouse-job-1', 'warehouse'));
    informers.managedSecrets.put(secret('crm', 'crm'));
    const view = caches.view();
    const names = () => view.managedSecretsOf('etl', 'warehouse').map((s) => s.metadata?.name);
    expect(names()).toEqual(['warehouse', 'warehouse-job-1']);
    informers.managedSecrets.put(secret('warehouse-job-1', 'crm'));
    expect(names()).toEqual(['warehouse']);
    expect(view.managedSecretsOf('billing', 'warehouse')).toEqual([]);
  });

  it('finds the references guarding a name through their status, as it changes', () => {
    const { informers, caches } = setUp();
    const view = caches.view();
    informers.secretReferences.put(reference('etl', 'billing', { claim: 'billing-old' }));
    expect(view.referencesGuarding('etl', 'billing-old').map((r) => r.metadata.name)).toEqual(['billing']);
    informers.secretReferences.put(reference('etl', 'billing', { claim: 'billing-new' }));
    expect(view.referencesGuarding('etl', 'billing-old')).toEqual([]);
    expect(view.referencesTargeting('etl', 'billing').map((r) => r.metadata.name)).toEqual(['billing']);
  });
});
