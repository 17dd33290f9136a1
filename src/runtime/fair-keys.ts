// The keys ready for a worker, handed out in turns between partitions (namespaces): each partition with a
// ready key gets one key per round, oldest first within it. So a namespace that queues 1,000 keys delays
// another namespace's single key by at most one key per other namespace, not by 1,000 reconciles.

/** The namespace of a `namespace/name` key; a key without a slash (a cluster-scoped object) is its own. */
export function namespaceOf(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? '' : key.slice(0, slash);
}

/** The namespace of a store key (`SecretStore/<namespace>/<name>`); cluster-scoped stores share one turn. */
export function storeNamespaceOf(key: string): string {
  return key.startsWith('SecretStore/') ? namespaceOf(key.slice('SecretStore/'.length)) : '';
}

export class FairKeys {
  readonly #partitionOf: (key: string) => string;
  /** Partition -> its ready keys in arrival order, with the time each arrived. Map order is the turn order. */
  readonly #partitions = new Map<string, Map<string, number>>();
  #size = 0;

  constructor(partitionOf: (key: string) => string = namespaceOf) {
    this.#partitionOf = partitionOf;
  }

  get size(): number {
    return this.#size;
  }

  has(key: string): boolean {
    return this.#partitions.get(this.#partitionOf(key))?.has(key) ?? false;
  }

  /** Adds `key` unless it is already ready; a partition that had nothing ready joins at the end of the round. */
  add(key: string, addedAt: number): void {
    const partition = this.#partitionOf(key);
    let keys = this.#partitions.get(partition);
    if (!keys) {
      keys = new Map();
      this.#partitions.set(partition, keys);
    }
    if (keys.has(key)) return;
    keys.set(key, addedAt);
    this.#size++;
  }

  /** The oldest key of the partition whose turn it is; that partition then goes to the back of the round. */
  take(): { key: string; addedAt: number } | undefined {
    const turn = this.#partitions.entries().next();
    if (turn.done) return undefined;
    const [partition, keys] = turn.value;
    const [key, addedAt] = keys.entries().next().value!;
    keys.delete(key);
    this.#size--;
    this.#partitions.delete(partition);
    if (keys.size > 0) this.#partitions.set(partition, keys);
    return { key, addedAt };
  }

  clear(): void {
    this.#partitions.clear();
    this.#size = 0;
  }
}
