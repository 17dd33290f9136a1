// Cached objects looked up by keys derived from them (a target name, a store name, a label), kept current from
// informer events, so that finding the few objects related to a change never scans every object of the
// namespace. Holds the objects it was given (the informer's frozen copies) and never modifies them.
//
// Within one namespace, answers come in the order the informer's own list gives them: the order objects were
// added, an update keeping an object's place. A caller that used to filter the namespace's list sees the same
// objects in the same order. Across namespaces they come in the order they were added, whichever namespace.
import type { KubernetesObject } from '@kubernetes/client-node';

interface Entry<T> {
  object: T;
  namespace: string;
  /** Place among the objects added so far; kept across updates, as the informer keeps an object's place. */
  sequence: number;
  keys: Set<string>;
}

export class ObjectIndex<T extends KubernetesObject> {
  readonly #keysOf: (object: T) => Iterable<string>;
  /** "namespace/name" -> entry */
  readonly #entries = new Map<string, Entry<T>>();
  /** "namespace/key" -> "namespace/name" -> entry */
  readonly #inNamespace = new Map<string, Map<string, Entry<T>>>();
  /** key -> "namespace/name" -> entry, across namespaces */
  readonly #anywhere = new Map<string, Map<string, Entry<T>>>();
  #nextSequence = 0;

  constructor(keysOf: (object: T) => Iterable<string>) {
    this.#keysOf = keysOf;
  }

  /** Records `object` as added or updated. */
  upsert(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const objectKey = `${namespace}/${object.metadata?.name ?? ''}`;
    const keys = new Set(this.#keysOf(object));
    const entry = this.#entries.get(objectKey);
    if (!entry) {
      const added = { object, namespace, sequence: this.#nextSequence++, keys };
      this.#entries.set(objectKey, added);
      for (const key of keys) this.#link(objectKey, added, key);
      return;
    }
    entry.object = object;
    for (const key of entry.keys) if (!keys.has(key)) this.#unlink(objectKey, namespace, key);
    for (const key of keys) if (!entry.keys.has(key)) this.#link(objectKey, entry, key);
    entry.keys = keys;
  }

  /**
   * Forgets the object of `object`'s namespace and name. The keys it was filed under are those of the object
   * last recorded, not of the one given: a delete event may carry a later state than the cache held.
   */
  remove(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const objectKey = `${namespace}/${object.metadata?.name ?? ''}`;
    const entry = this.#entries.get(objectKey);
    if (!entry) return;
    this.#entries.delete(objectKey);
    for (const key of entry.keys) this.#unlink(objectKey, namespace, key);
  }

  /** The objects of `namespace` filed under `key`. */
  lookup(namespace: string, key: string): T[] {
    return this.#ordered(this.#inNamespace.get(`${namespace}/${key}`)?.values());
  }

  /** The objects of `namespace` filed under any of `keys`, each once. */
  lookupAny(namespace: string, keys: Iterable<string>): T[] {
    const found = new Set<Entry<T>>();
    for (const key of keys) {
      for (const entry of this.#inNamespace.get(`${namespace}/${key}`)?.values() ?? []) found.add(entry);
    }
    return this.#ordered(found);
  }

  /** The objects of every namespace filed under `key`. */
  lookupEverywhere(key: string): T[] {
    return this.#ordered(this.#anywhere.get(key)?.values());
  }

  /** How many objects the index holds. */
  get size(): number {
    return this.#entries.size;
  }

  #ordered(entries: Iterable<Entry<T>> | undefined): T[] {
    if (!entries) return [];
    return [...entries].sort((a, b) => a.sequence - b.sequence).map((entry) => entry.object);
  }

  #link(objectKey: string, entry: Entry<T>, key: string): void {
    addTo(this.#inNamespace, `${entry.namespace}/${key}`, objectKey, entry);
    addTo(this.#anywhere, key, objectKey, entry);
  }

  #unlink(objectKey: string, namespace: string, key: string): void {
    removeFrom(this.#inNamespace, `${namespace}/${key}`, objectKey);
    removeFrom(this.#anywhere, key, objectKey);
  }
}

function addTo<T>(postings: Map<string, Map<string, T>>, key: string, objectKey: string, value: T): void {
  let objects = postings.get(key);
  if (!objects) {
    objects = new Map();
    postings.set(key, objects);
  }
  objects.set(objectKey, value);
}

function removeFrom<T>(postings: Map<string, Map<string, T>>, key: string, objectKey: string): void {
  const objects = postings.get(key);
  if (!objects) return;
  objects.delete(objectKey);
  if (objects.size === 0) postings.delete(key);
}
