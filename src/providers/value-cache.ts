// A short-lived, in-memory cache of what the store returned, per store client (so per store), keyed by remote
// name and version. It absorbs bursts; it is not a second copy of the store, so entries live seconds.

export interface CacheEntry<V> {
  value: V;
  expiresAt: number;
}

export class ValueCache<V> {
  readonly #entries = new Map<string, CacheEntry<V>>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  get(name: string, version: string): V | undefined {
    const key = cacheKey(name, version);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(name: string, version: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#entries.set(cacheKey(name, version), { value, expiresAt: this.#now() + ttlMs });
  }

  /** Forgets every version of one remote secret, or everything. */
  clear(name?: string): void {
    if (name === undefined) {
      this.#entries.clear();
      return;
    }
    const prefix = cacheKey(name, '');
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}

// NUL cannot appear in a remote name, so one name's entries never share a prefix with another's.
function cacheKey(name: string, version: string): string {
  return `${name}\u0000${version}`;
}
