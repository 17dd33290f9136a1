// Read-only caches of Kubernetes resources, kept current by list-then-watch (see
// informer-shard.ts for what is added to client-node's ListWatch), with sync tracking, one cache over several
// namespaces, metadata-only caches, and event callbacks that cannot break the watch by throwing.
// Cached objects are deep-frozen rather than copied on read: reads stay free however often a reconcile lists
// Jobs, and a consumer that tries to modify one throws at once instead of corrupting the cache unnoticed.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { InformerEvent, InformerObserver, InformerOptions } from './informer-options.ts';
import { Shard } from './informer-shard.ts';
import type { ResourceKind } from './resource-list.ts';

export type { InformerEvent, InformerObserver, InformerOptions } from './informer-options.ts';
export type { ObjectMetadataOnly, ResourceKind } from './resource-list.ts';

export interface Informer<T extends KubernetesObject> {
  readonly kind: ResourceKind;
  /** The cached object, frozen; `namespace` is ignored for cluster-scoped kinds. */
  get(namespace: string | undefined, name: string): T | undefined;
  /** Cached objects, frozen, in one namespace or all watched ones. */
  list(namespace?: string): T[];
  /** Calls `callback` for each event from now on; returns a function that unsubscribes it. */
  on(event: InformerEvent, callback: (object: T) => void): () => void;
  /** Starts listing and watching; idempotent. */
  start(): void;
  /** True once every watched namespace has been listed and its objects delivered to callbacks. */
  hasSynced(): boolean;
  /** Resolves once synced; rejects if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** Stops watching; the cache keeps its last contents. */
  stop(): Promise<void>;
}

/** Waits until every informer has synced. */
export async function waitForAllSynced(
  informers: Iterable<Informer<KubernetesObject>>,
  signal?: AbortSignal,
): Promise<void> {
  await Promise.all([...informers].map((informer) => informer.waitForSync(signal)));
}

export function createInformer<T extends KubernetesObject>(
  config: KubeConfig,
  kind: ResourceKind,
  options: InformerOptions = {},
): Informer<T> {
  return new ResourceInformer<T>(config, kind, options);
}

class ResourceInformer<T extends KubernetesObject> implements Informer<T> {
  readonly kind: ResourceKind;
  readonly #shards: Map<string, Shard<T>>;
  readonly #callbacks: Record<InformerEvent, Set<(object: T) => void>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
  };
  readonly #syncWaiters = new Set<{ resolve(): void; reject(error: unknown): void }>();
  readonly #observer: InformerObserver;
  #started = false;
  #stopped = false;

  constructor(config: KubeConfig, kind: ResourceKind, options: InformerOptions) {
    this.kind = kind;
    this.#observer = options.observer ?? {};
    const namespaces = kind.namespaced && options.namespaces ? [...new Set(options.namespaces)] : [undefined];
    this.#shards = new Map(
      namespaces.map((namespace) => [
        namespace ?? '',
        new Shard<T>(config, kind, namespace, options, {
          emit: (event, object) => this.#emit(event, object),
          synced: () => this.#checkSynced(),
        }),
      ]),
    );
  }

  get(namespace: string | undefined, name: string): T | undefined {
    const scope = this.kind.namespaced ? (namespace ?? '') : '';
    const shard = this.#shards.get(scope) ?? this.#shards.get('');
    return shard?.listWatch.get(name, this.kind.namespaced ? scope : undefined);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined && this.kind.namespaced) {
      const shard = this.#shards.get(namespace) ?? this.#shards.get('');
      return [...(shard?.listWatch.list(namespace) ?? [])];
    }
    return [...this.#shards.values()].flatMap((shard) => [...shard.listWatch.list()]);
  }

  on(event: InformerEvent, callback: (object: T) => void): () => void {
    this.#callbacks[event].add(callback);
    return () => this.#callbacks[event].delete(callback);
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const shard of this.#shards.values()) shard.start();
  }

  hasSynced(): boolean {
    return [...this.#shards.values()].every((shard) => shard.synced);
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    if (this.#stopped) return Promise.reject(new Error(`the ${this.kind.kind} informer was stopped`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#syncWaiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.#syncWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all([...this.#shards.values()].map((shard) => shard.stop()));
    for (const waiter of this.#syncWaiters)
      waiter.reject(new Error(`the ${this.kind.kind} informer was stopped`));
    this.#syncWaiters.clear();
  }

  #checkSynced(): void {
    if (!this.hasSynced()) return;
    for (const waiter of this.#syncWaiters) waiter.resolve();
    this.#syncWaiters.clear();
  }

  #emit(event: InformerEvent, object: T): void {
    for (const callback of this.#callbacks[event]) {
      try {
        callback(object);
      } catch (error) {
        this.#observer.callbackFailed?.(this.kind.kind, error);
      }
    }
  }
}
