// An informer without a server: client-node's own cache functions behind the Informer interface, so whatever
// subscribes to it (the controller's indexes, its event routing) is fed exactly as by a real informer, with the
// cache changed before the callbacks run. `put` stands for an add or an update, `remove` for a delete.

import type { V1Job } from '@kubernetes/client-node';
import {
  addOrUpdateObject,
  type CacheMap,
  deleteObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { SecretReference } from '../../src/api/types.ts';
import type { SecretlinkInformers } from '../../src/controller/controller.ts';
import type { Informer, InformerEvent } from '../../src/runtime/informers.ts';

export class CacheInformer<T extends KubernetesObject> implements Informer<T> {
  readonly kind = { apiVersion: 'v1', kind: 'Fake', plural: 'fakes', namespaced: true };
  readonly #cache: CacheMap<T> = new Map();
  readonly #callbacks: Record<InformerEvent, ((object: T) => void)[]> = { add: [], update: [], delete: [] };
  #version = 0;

  put(object: T): void {
    const versioned = {
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(++this.#version) },
    };
    addOrUpdateObject(this.#cache, versioned, this.#callbacks.add, this.#callbacks.update);
  }
  remove(object: T): void {
    deleteObject(this.#cache, object, this.#callbacks.delete);
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.get(namespace ?? '')?.get(name);
  }
  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#cache.get(namespace)?.values() ?? [])];
    return [...this.#cache.values()].flatMap((objects) => [...objects.values()]);
  }
  on(event: InformerEvent, callback: (object: T) => void): () => void {
    this.#callbacks[event].push(callback);
    return () => undefined;
  }
  start(): void {}
  hasSynced(): boolean {
    return true;
  }
  async waitForSync(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** One CacheInformer for each kind the controller watches, as ControllerCaches takes them. */
export function cacheInformers() {
  const informers = {
    secretReferences: new CacheInformer<SecretReference>(),
    secretStores: new CacheInformer(),
    clusterSecretStores: new CacheInformer(),
    jobs: new CacheInformer<V1Job>(),
    managedSecrets: new CacheInformer(),
    namespaces: new CacheInformer(),
    pods: new CacheInformer(),
  };
  return { informers, asControllerInformers: informers as unknown as SecretlinkInformers };
}
