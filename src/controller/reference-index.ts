// SecretReferences by what relates one to another or to a change elsewhere: the target name they write, the
// names the pod admission policy guards for them (from status), and the store they read. Reconciles and event
// routing ask for the few references related to what they look at, at a cost that does not grow with the
// number of references in the namespace.
import type { SecretReference } from '../api/types.ts';
import { ObjectIndex } from './object-index.ts';
import { targetNameOf } from './reference-facts.ts';
import { guardedNames } from './tracked-secrets.ts';

// Keys are prefixed by what they index, so a target and a store of the same name never meet.
const targetKey = (name: string) => `target:${name}`;
const guardedKey = (name: string) => `guarded:${name}`;
const storeKey = (name: string) => `store:${name}`;
const clusterStoreKey = (name: string) => `cluster-store:${name}`;
const anyClusterStoreKey = 'any-cluster-store';

/** The keys a reference is filed under, from its spec and status as the cache holds them. */
export function referenceKeys(reference: SecretReference): string[] {
  const keys = [targetKey(targetNameOf(reference))];
  for (const name of guardedNames(reference.status ?? {})) keys.push(guardedKey(name));
  // The schema requires storeRef; a reference without one is still filed by target and guarded names.
  const storeRef = reference.spec.storeRef as SecretReference['spec']['storeRef'] | undefined;
  if (storeRef?.kind === 'ClusterSecretStore') keys.push(clusterStoreKey(storeRef.name), anyClusterStoreKey);
  else if (storeRef && (storeRef.kind ?? 'SecretStore') === 'SecretStore') keys.push(storeKey(storeRef.name));
  return keys;
}

export class ReferenceIndex {
  readonly #index = new ObjectIndex<SecretReference>(referenceKeys);

  upsert(reference: SecretReference): void {
    this.#index.upsert(reference);
  }

  remove(reference: SecretReference): void {
    this.#index.remove(reference);
  }

  /** The references of `namespace` whose target Secret is named `targetName`. */
  targeting(namespace: string, targetName: string): SecretReference[] {
    return this.#index.lookup(namespace, targetKey(targetName));
  }

  /** The references of `namespace` whose target Secret has any of the names `targetNames`. */
  targetingAny(namespace: string, targetNames: Iterable<string>): SecretReference[] {
    return this.#index.lookupAny(namespace, [...targetNames].map(targetKey));
  }

  /** The references of `namespace` whose status has the pod admission policy guard the name `secretName`. */
  guarding(namespace: string, secretName: string): SecretReference[] {
    return this.#index.lookup(namespace, guardedKey(secretName));
  }

  /** The references of `namespace` that read the SecretStore `storeName` (a storeRef without kind names one). */
  usingStore(namespace: string, storeName: string): SecretReference[] {
    return this.#index.lookup(namespace, storeKey(storeName));
  }

  /** The references of every namespace that read the ClusterSecretStore `storeName`. */
  usingClusterStore(storeName: string): SecretReference[] {
    return this.#index.lookupEverywhere(clusterStoreKey(storeName));
  }

  /** The references of `namespace` that read any ClusterSecretStore. */
  usingAnyClusterStore(namespace: string): SecretReference[] {
    return this.#index.lookup(namespace, anyClusterStoreKey);
  }

  get size(): number {
    return this.#index.size;
  }
}
