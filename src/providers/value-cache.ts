// A short-lived, in-memory cache of what the store returned, per store client (so per store), keyed by remote
// name and version. It absorbs bursts; it is not a second copy of the store, so entries live seconds.
// Each entry is dropped by its own timer when its time to live passes, read again or not, and what it held
// is handed to `dispose` (the store clients zero the bytes), so a value is not kept in memory past its
// time to live.

export interface CacheEntry<V> {
  value: V;
  expiresAt: number;
  timer: ReturnType<typeof setTimeout>;
}

export class ValueCache<V> {
  readonly #entries = new Map<string, CacheEntry<V>>();
  readonly #now: () => number;
  readonly #dispose: (value: V) => void;

  constructor(now: () => number, dispose: (value: V) => void = () => {}) {
    this.#now = now;
    this.#dispose = dispose;
  }

  /** How many values are held now. */
  get size(): number {
    return this.#entries.size;
  }

  get(name: string, version: string): V | undefined {
    const key = cacheKey(name, version);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#drop(key, entry);
      return undefined;
    }
    return entry.value;
  }

  set(name: string, version: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) {
      // Cache off: the value is not kept, and is disposed of as soon as its callers copied it.
      this.#disposeLater(value);
      return;
    }
    const key = cacheKey(name, version);
    const previous = this.#entries.get(key);
    if (previous) this.#drop(key, previous, previous.value === value);
    const entry: CacheEntry<V> = {
      value,
      expiresAt: this.#now() + ttlMs,
      timer: setTimeout(() => this.#drop(key, entry), ttlMs),
    };
    // An expiry never keeps the process alive by itself.
    entry.timer.unref?.();
    this.#entries.set(key, entry);
  }

  /** Forgets every version of one remote secret, or everything. */
  clear(name?: string): void {
    const prefix = name === undefined ? '' : cacheKey(name, '');
    for (const [key, entry] of [...this.#entries]) if (key.startsWith(prefix)) this.#drop(key, entry);
  }

  #drop(key: string, entry: CacheEntry<V>, keepValue = false): void {
    clearTimeout(entry.timer);
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    if (!keepValue) this.#disposeLater(entry.value);
  }

  // The value may have just been handed to callers that copy it in their next promise continuation (a cache
  // hit, or a shared store call): dispose of it only once those continuations have run.
  #disposeLater(value: V): void {
    const later = setImmediate(() => this.#dispose(value));
    later.unref?.();
  }
}

// NUL cannot appear in a remote name, so one name's entries never share a prefix with another's.
function cacheKey(name: string, version: string): string {
  return `${name}\u0000${version}`;
}
