// Wiring: informers -> keys -> work queue -> reconcile. Every event, whatever its kind, is reduced to the keys
// (namespace/name) of the SecretReferences it may concern; the reconcile reads the rest from the caches.
import type { KubernetesObject, V1Job, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { labels } from '../api/constants.ts';
import type { AnySecretStore, ClusterSecretStore, SecretReference, SecretStore } from '../api/types.ts';
import { storeKey } from '../providers/store-spec.ts';
import { type Informer, waitForAllSynced } from '../runtime/informers.ts';
import type { WorkQueue } from '../runtime/workqueue.ts';
import { JobIndex } from './job-index.ts';
import { ObjectIndex } from './object-index.ts';
import { PodIndex, type PodSecretUse, secretNamesUsedByJobs } from './pod-index.ts';
import type { ClusterView } from './ports.ts';
import { targetNameOf } from './reference-facts.ts';
import { ReferenceIndex } from './reference-index.ts';
import { guardedNames } from './tracked-secrets.ts';
import type { ControllerInformers } from './watched-resources.ts';

export type SecretlinkInformers = ControllerInformers<SecretReference, SecretStore, ClusterSecretStore>;

export class ControllerCaches {
  readonly informers: SecretlinkInformers;
  readonly jobIndex = new JobIndex();
  readonly podIndex = new PodIndex();
  readonly referenceIndex = new ReferenceIndex();
  /** Managed Secrets by the reference their label names. */
  readonly managedSecretIndex = new ObjectIndex<KubernetesObject>((secret) => {
    const referenceName = secret.metadata?.labels?.[labels.reference];
    return referenceName === undefined ? [] : [referenceName];
  });
  private readonly jobListeners: ((namespace: string, secretNames: Set<string>) => void)[] = [];

  constructor(informers: SecretlinkInformers) {
    this.informers = informers;
    // The indexes follow their informers' events, subscribed here before any router's, so a router or a
    // reconcile always finds them in step with the cache (the informer updates both in one synchronous turn).
    follow(informers.secretReferences, this.referenceIndex);
    follow(informers.managedSecrets, this.managedSecretIndex);
    // The index reports the Secret names a Job refers to before and after the change, so a Job that stops
    // referring to a Secret still wakes that Secret's reference.
    const changed = (job: V1Job, names: Set<string>) => {
      for (const listener of this.jobListeners) listener(job.metadata?.namespace ?? '', names);
    };
    informers.jobs.on('add', (job) => changed(job, this.jobIndex.upsert(job)));
    informers.jobs.on('update', (job) => changed(job, this.jobIndex.upsert(job)));
    informers.jobs.on('delete', (job) => changed(job, this.jobIndex.remove(job)));
    // A pod that refers to a target and that no consuming Job controls holds its reference's writes back;
    // its arrival and its departure both wake that reference, through the same listeners as Jobs.
    const podChanged = (pod: PodSecretUse, names: Set<string>) => {
      if (names.size === 0) return;
      for (const listener of this.jobListeners) listener(pod.metadata.namespace ?? '', names);
    };
    informers.pods.on('add', (pod) => podChanged(pod, this.podIndex.upsert(pod)));
    informers.pods.on('update', (pod) => podChanged(pod, this.podIndex.upsert(pod)));
    informers.pods.on('delete', (pod) => podChanged(pod, this.podIndex.remove(pod)));
  }

  /**
   * Called after each Job or pod event with the Secret names in its namespace whose consumers (or waiting
   * pods) may have changed.
   */
  onJobChange(listener: (namespace: string, secretNames: Set<string>) => void): void {
    this.jobListeners.push(listener);
  }

  all(): Informer<KubernetesObject>[] {
    return Object.values(this.informers) as Informer<KubernetesObject>[];
  }

  start(): void {
    for (const informer of this.all()) informer.start();
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await waitForAllSynced(this.all(), signal);
  }

  synced(): boolean {
    return this.all().every((informer) => informer.hasSynced());
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((informer) => informer.stop()));
  }

  view(): ClusterView {
    const { informers } = this;
    return {
      reference: (namespace, name) => informers.secretReferences.get(namespace, name),
      referencesTargeting: (namespace, targetName) => this.referenceIndex.targeting(namespace, targetName),
      referencesGuarding: (namespace, secretName) => this.referenceIndex.guarding(namespace, secretName),
      store: (kind, namespace, name) =>
        (kind === 'ClusterSecretStore'
          ? informers.clusterSecretStores.get(undefined, name)
          : informers.secretStores.get(namespace, name)) as AnySecretStore | undefined,
      namespaceLabels: (namespace) =>
        informers.namespaces.get(undefined, namespace)?.metadata?.labels ?? undefined,
      managedSecret: (namespace, name) =>
        informers.managedSecrets.get(namespace, name) as V1Secret | undefined,
      managedSecretsOf: (namespace, referenceName) =>
        this.managedSecretIndex.lookup(namespace, referenceName) as V1Secret[],
      jobsReferencing: (namespace, secretName) => this.jobIndex.jobsReferencing(namespace, secretName),
      podsReferencing: (namespace, secretName) => this.podIndex.podsReferencing(namespace, secretName),
    };
  }
}

/** Keeps `index` in step with `informer`: each object added or updated is filed, each deleted forgotten. */
function follow<T extends KubernetesObject>(
  informer: Pick<Informer<T>, 'on'>,
  index: { upsert(object: T): void; remove(object: T): void },
): void {
  informer.on('add', (object) => index.upsert(object));
  informer.on('update', (object) => index.upsert(object));
  informer.on('delete', (object) => index.remove(object));
}

/** Routes every watched change to the SecretReference keys it may affect. */
export function routeEvents(caches: ControllerCaches, queue: WorkQueue, logger: Logger): void {
  const { informers, referenceIndex } = caches;
  const enqueue = (reference: SecretReference) =>
    queue.add(`${reference.metadata.namespace}/${reference.metadata.name}`);

  for (const event of ['add', 'update', 'delete'] as const) {
    informers.secretReferences.on(event, enqueue);
    // Of two references naming one target only the oldest acts; when one comes or goes, the other decides again.
    informers.secretReferences.on(event, (changed) => {
      const namespace = changed.metadata.namespace;
      if (!namespace) return;
      for (const other of referenceIndex.targeting(namespace, targetNameOf(changed))) {
        if (other.metadata.uid !== changed.metadata.uid) enqueue(other);
      }
    });
    // A Job that refers to this reference's Secrets and to another's gets the other's Secret only if its pods
    // pass this one's consumers too; when consumers or claims change, the other decides again.
    informers.secretReferences.on(event, (changed) => {
      if (!changed.metadata.namespace) return;
      for (const other of referencesSharingJobs(changed, referenceIndex, caches.jobIndex)) enqueue(other);
    });

    informers.managedSecrets.on(event, (secret) => {
      const referenceName = secret.metadata?.labels?.[labels.reference];
      if (referenceName) queue.add(`${secret.metadata?.namespace}/${referenceName}`);
    });

    informers.secretStores.on(event, (store) => {
      const namespace = store.metadata.namespace;
      if (!namespace || store.metadata.name === undefined) return;
      for (const reference of referenceIndex.usingStore(namespace, store.metadata.name)) enqueue(reference);
    });

    informers.clusterSecretStores.on(event, (store) => {
      if (store.metadata.name === undefined) return;
      for (const reference of referenceIndex.usingClusterStore(store.metadata.name)) enqueue(reference);
    });

    // Namespace labels decide ClusterSecretStore access.
    informers.namespaces.on(event, (namespace) => {
      const name = namespace.metadata?.name;
      if (!name) return;
      for (const reference of referenceIndex.usingAnyClusterStore(name)) enqueue(reference);
    });
  }
  caches.onJobChange((namespace, secretNames) => {
    if (!namespace) return;
    for (const reference of referenceIndex.targetingAny(namespace, secretNames)) enqueue(reference);
  });
  logger.debug('event routing installed');
}

/**
 * The references of `changed`'s namespace whose target a Job's pods refer to together with a name `changed`
 * targets or guards: whether that Job may have their Secret depends on `changed`'s consumers and claims.
 */
export function referencesSharingJobs(
  changed: SecretReference,
  references: Pick<ReferenceIndex, 'targetingAny'>,
  jobs: Pick<JobIndex, 'jobsReferencing'>,
): SecretReference[] {
  const namespace = changed.metadata.namespace ?? '';
  const guarded = [targetNameOf(changed), ...guardedNames(changed.status ?? {})];
  const names = secretNamesUsedByJobs(guarded.flatMap((name) => jobs.jobsReferencing(namespace, name)));
  return references
    .targetingAny(namespace, names)
    .filter((other) => other.metadata.uid !== changed.metadata.uid);
}

/**
 * Routes store changes to the store status queue, keyed by the store itself. Kept apart from references so a
 * store's status never waits behind (or counts against) reference reconciles.
 */
export function routeStoreEvents(caches: ControllerCaches, queue: WorkQueue): void {
  const { informers } = caches;
  // A delete needs no status; add and update cover creation, spec edits and someone else touching status.
  for (const event of ['add', 'update'] as const) {
    informers.secretStores.on(event, (store) => queue.add(storeKey(asKind('SecretStore', store))));
    informers.clusterSecretStores.on(event, (store) =>
      queue.add(storeKey(asKind('ClusterSecretStore', store))),
    );
  }
}

/** What a store change asks of the store clients: forget the values of a store deleted or changed. */
export interface StoreForgetting {
  evict(store: { kind: AnySecretStore['kind']; metadata: AnySecretStore['metadata'] }): void;
  forgetIfChanged(store: { kind: AnySecretStore['kind']; metadata: AnySecretStore['metadata'] }): void;
}

/**
 * A deleted store's client and cached values are dropped when the delete is seen, and a changed store's when
 * the change is seen, rather than kept until the next read of that store (which may never come). Installed on
 * every replica: a standby may have led and read values before.
 */
export function routeStoreForgetting(caches: ControllerCaches, clients: StoreForgetting): void {
  const { informers } = caches;
  informers.secretStores.on('delete', (store) => clients.evict(asKind('SecretStore', store)));
  informers.clusterSecretStores.on('delete', (store) => clients.evict(asKind('ClusterSecretStore', store)));
  informers.secretStores.on('update', (store) => clients.forgetIfChanged(asKind('SecretStore', store)));
  informers.clusterSecretStores.on('update', (store) =>
    clients.forgetIfChanged(asKind('ClusterSecretStore', store)),
  );
}

/** Every store once at start-up, so a store created or edited while no replica led gets its status. */
export function sweepStores(caches: ControllerCaches, queue: WorkQueue): number {
  const { secretStores, clusterSecretStores } = caches.informers;
  const keys = [
    ...secretStores.list().map((store) => storeKey(asKind('SecretStore', store))),
    ...clusterSecretStores.list().map((store) => storeKey(asKind('ClusterSecretStore', store))),
  ];
  for (const key of keys) queue.add(key);
  return keys.length;
}

// The informer says what kind an object is, whatever the object itself carries.
function asKind(kind: AnySecretStore['kind'], store: AnySecretStore) {
  return { kind, metadata: store.metadata };
}

/**
 * The start-up sweep: every reference gets a reconcile, and every managed Secret too, through the key of the
 * reference it names; a Secret whose reference is gone (an operator crash mid-delete) is removed that way.
 */
export function sweep(caches: ControllerCaches, queue: WorkQueue): number {
  const keys = new Set<string>();
  for (const reference of caches.informers.secretReferences.list()) {
    keys.add(`${reference.metadata.namespace}/${reference.metadata.name}`);
  }
  for (const secret of caches.informers.managedSecrets.list()) {
    const referenceName = secret.metadata?.labels?.[labels.reference];
    if (referenceName) keys.add(`${secret.metadata?.namespace}/${referenceName}`);
  }
  for (const key of keys) queue.add(key);
  return keys.size;
}

/**
 * Keeps `set` at the number of managed Secrets the API server confirmed exist: what the managed-Secret cache
 * (label-selected, fed by list and watch) holds, as its index counts it, after every add and delete. A write
 * the operator only attempted never counts. The index is subscribed first (ControllerCaches), so it has taken
 * the change when this runs.
 */
export function countManagedSecrets(
  caches: Pick<ControllerCaches, 'informers' | 'managedSecretIndex'>,
  set: (count: number) => void,
): void {
  const count = () => set(caches.managedSecretIndex.size);
  caches.informers.managedSecrets.on('add', count);
  caches.informers.managedSecrets.on('delete', count);
  count();
}
