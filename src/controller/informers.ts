// Read-only caches of the resources the controller watches, kept current by list-then-watch (see
// informer-shard.ts for what is added to client-node's ListWatch), with sync tracking, one cache over several
// namespaces, metadata-only caches, and event callbacks that cannot break the watch by throwing.
// Cached objects are deep-frozen rather than copied on read: reads stay free however often a reconcile lists
// Jobs, and a consumer that tries to modify one throws at once instead of corrupting the cache unnoticed.
import type { KubeConfig, KubernetesObject, V1Job } from '@kubernetes/client-node';
import { apiVersion, kinds, labels, managedBy, plurals } from '../api/constants.ts';
import type { ClusterSecretStore, SecretReference, SecretStore } from '../api/types.ts';
import type { BackoffOptions } from './backoff.ts';
import type { Clock } from './clock.ts';
import { Shard } from './informer-shard.ts';
import { type PodSecretUse, slimPod } from './pod-index.ts';
import type { ObjectMetadataOnly, ResourceKind } from './resource-list.ts';

export type { ObjectMetadataOnly, ResourceKind } from './resource-list.ts';

export const resourceKinds = {
  secretReference: {
    apiVersion,
    kind: kinds.secretReference,
    plural: plurals.secretReference,
    namespaced: true,
  },
  secretStore: { apiVersion, kind: kinds.secretStore, plural: plurals.secretStore, namespaced: true },
  clusterSecretStore: {
    apiVersion,
    kind: kinds.clusterSecretStore,
    plural: plurals.clusterSecretStore,
    namespaced: false,
  },
  job: { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true, model: 'V1Job' },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, model: 'V1Secret' },
  configMap: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    model: 'V1ConfigMap',
  },
  namespace: {
    apiVersion: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    model: 'V1Namespace',
  },
  // No model: the cache holds pods cut down by slimPod (pod-index.ts), not V1Pods.
  pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
} as const satisfies Record<string, ResourceKind>;

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerObserver {
  /** A list finished (the first one, or a relist after 410 Gone or a restart). */
  listed?(kind: string, namespace: string | undefined, count: number): void;
  /** A watch request was sent. */
  watchStarted?(kind: string, namespace: string | undefined): void;
  /** A list or watch failed; it is retried after `retryInMs`. */
  failed?(kind: string, namespace: string | undefined, error: unknown, retryInMs: number): void;
  /** An event callback threw; the informer carries on. */
  callbackFailed?(kind: string, error: unknown): void;
}

export interface InformerOptions {
  /** Watch only these namespaces (one watch each); all namespaces when absent. Ignored for cluster-scoped kinds. */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** Cache metadata only (labels, annotations, owners): no spec, and for Secrets no values in memory. */
  metadataOnly?: boolean;
  /**
   * Cuts each object, as the API server sends it, down to what the cache should hold, before it is decoded
   * and cached: for kinds whose spec is needed only in part (pods). The result must keep
   * metadata.name, namespace and resourceVersion.
   */
  project?: (raw: unknown) => unknown;
  /** Restart delays after errors; defaults to 1s doubling up to 30s, half of each delay jittered. */
  reconnectBackoff?: Partial<BackoffOptions>;
  /** Server-side watch timeout; defaults to 20-28s, under client-node's 30s idle timeout. */
  watchTimeoutSeconds?: number;
  /** Items per list page. */
  pageSize?: number;
  observer?: InformerObserver;
  clock?: Clock;
  random?: () => number;
}

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

/** The resources the controller watches. */
export interface ControllerInformers<
  Reference extends KubernetesObject = SecretReference,
  Store extends KubernetesObject = SecretStore,
  ClusterStore extends KubernetesObject = ClusterSecretStore,
> {
  secretReferences: Informer<Reference>;
  secretStores: Informer<Store>;
  clusterSecretStores: Informer<ClusterStore>;
  jobs: Informer<V1Job>;
  /** Secrets written by secretlink, metadata only: the operator never keeps values in a cache. */
  managedSecrets: Informer<ObjectMetadataOnly>;
  /** Namespaces, metadata only (their labels), for ClusterSecretStore namespace selectors. */
  namespaces: Informer<ObjectMetadataOnly>;
  /** Pods that have not finished, each cut down to its identity, controller and the Secrets it refers to. */
  pods: Informer<PodSecretUse>;
}

export const managedSecretSelector = `${labels.managedBy}=${managedBy}`;
export const unfinishedPodSelector = 'status.phase!=Succeeded,status.phase!=Failed';

export function createControllerInformers(
  config: KubeConfig,
  options: Pick<InformerOptions, 'namespaces' | 'observer' | 'clock'> = {},
): ControllerInformers {
  return {
    secretReferences: createInformer<SecretReference>(config, resourceKinds.secretReference, options),
    secretStores: createInformer<SecretStore>(config, resourceKinds.secretStore, options),
    clusterSecretStores: createInformer<ClusterSecretStore>(
      config,
      resourceKinds.clusterSecretStore,
      options,
    ),
    jobs: createInformer<V1Job>(config, resourceKinds.job, options),
    managedSecrets: createInformer<ObjectMetadataOnly>(config, resourceKinds.secret, {
      ...options,
      labelSelector: managedSecretSelector,
      metadataOnly: true,
    }),
    namespaces: createInformer<ObjectMetadataOnly>(config, resourceKinds.namespace, {
      ...options,
      metadataOnly: true,
    }),
    pods: createPodInformer(config, options),
  };
}

/** Unfinished pods, each cut down by slimPod as it arrives: the operator never holds a pod's spec. */
export function createPodInformer(
  config: KubeConfig,
  options: Omit<InformerOptions, 'fieldSelector' | 'project' | 'metadataOnly'> = {},
): Informer<PodSecretUse> {
  return createInformer<PodSecretUse>(config, resourceKinds.pod, {
    ...options,
    // A finished pod runs nothing again and gets no Secret; leaving the selector removes it from the cache.
    fieldSelector: unfinishedPodSelector,
    project: slimPod,
  });
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
