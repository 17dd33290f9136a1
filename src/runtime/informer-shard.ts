// One list-then-watch of one resource (across all namespaces, or in one namespace) on client-node's
// ListWatch, which already relists on 410 Gone, resumes a watch that closes normally from the last
// resourceVersion, and backs off while watches keep closing without events. What it lacks is added here:
//  - it gives up after any other error (a failed list, a refused or broken watch): it is restarted with
//    exponential backoff and jitter, resuming from the last resourceVersion when it still has one;
//  - watch events arrive as plain JSON while lists are decoded: every object is decoded the same way, frozen;
//  - it watches with bookmarks and a server-side timeout under client-node's 30s idle timeout, so quiet
//    resources keep a fresh resourceVersion and do not relist after a reconnect;
//  - a stop during a list, a request that cannot be built, or an event that cannot be handled would leave
//    it watching or leave a rejection unhandled; each now ends in one reported error and one restart.
import {
  type KubeConfig,
  type KubernetesObject,
  ListWatch,
  type RequestContext,
  Watch,
} from '@kubernetes/client-node';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { type Clock, sleep, systemClock } from './clock.ts';
import type { InformerEvent, InformerObserver, InformerOptions } from './informer-options.ts';
import {
  collectionPath,
  decodeObject,
  listResources,
  type ResourceKind,
  watchAcceptHeader,
} from './resource-list.ts';

const defaultReconnectBackoff: BackoffOptions = { baseMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.5 };
/** ListWatch waits up to 30s after a watch that closed without events; that leaves changes unseen too long. */
const quietReconnectCapMs = 5_000;

export interface ShardOwner<T> {
  emit(event: InformerEvent, object: T): void;
  synced(): void;
}

/** One ListWatch (all namespaces, or one of them) and the restarts it needs. */
export class Shard<T extends KubernetesObject> {
  readonly listWatch: ListWatch<T>;
  synced = false;
  readonly #kind: ResourceKind;
  readonly #namespace: string | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  readonly #observer: InformerObserver;
  readonly #owner: ShardOwner<T>;
  readonly #stop = new AbortController();
  #failures = 0;
  #restart: { cancel(): void } | undefined;

  constructor(
    config: KubeConfig,
    kind: ResourceKind,
    namespace: string | undefined,
    options: InformerOptions,
    owner: ShardOwner<T>,
  ) {
    this.#kind = kind;
    this.#namespace = namespace;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = { ...defaultReconnectBackoff, ...options.reconnectBackoff };
    this.#observer = options.observer ?? {};
    this.#owner = owner;
    const metadataOnly = options.metadataOnly ?? false;

    const list = async () => {
      if (this.stopped) throw new Error('informer stopped');
      const result = await listResources<T>(config, kind, {
        namespace,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        metadataOnly,
        pageSize: options.pageSize,
        project: options.project,
      });
      this.#failures = 0;
      this.#observer.listed?.(kind.kind, namespace, result.items.length);
      // ListWatch fills its cache and calls back right after this promise resolves, all before the next
      // macrotask: only then is the cache synced.
      setImmediate(() => this.#markSynced());
      return result;
    };
    const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 20 + Math.floor(this.#random() * 9);
    const watch = new ResumingWatch(withAcceptHeader(config, watchAcceptHeader(metadataOnly)), {
      extraParams: { allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds },
      stopped: () => this.stopped,
      decode: (raw) => decodeObject<T>(kind, options.project ? options.project(raw) : raw, metadataOnly),
      onWatchStarted: () => this.#observer.watchStarted?.(kind.kind, namespace),
      onEvent: () => {
        this.#failures = 0;
      },
    });
    const delayFn = (ms: number) => {
      const capped = Math.min(ms, quietReconnectCapMs);
      return sleep(this.#clock, capped * (1 - 0.5 * this.#random()), this.#stop.signal);
    };
    this.listWatch = new ListWatch<T>(
      collectionPath(kind, namespace),
      watch,
      list,
      false,
      options.labelSelector,
      options.fieldSelector,
      { delayFn },
    );
    this.listWatch.on('add', (object) => owner.emit('add', object));
    this.listWatch.on('update', (object) => owner.emit('update', object));
    this.listWatch.on('delete', (object) => owner.emit('delete', object));
    this.listWatch.on('error', (error) => this.#onError(error));
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  start(): void {
    void this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#restart?.cancel();
    await this.listWatch.stop();
  }

  async #run(): Promise<void> {
    this.#restart = undefined;
    if (this.stopped) return;
    try {
      await this.listWatch.start();
    } catch (error) {
      this.#onError(error);
    }
  }

  // ListWatch reports an error and then stays idle, so each error schedules exactly one restart. Restarting
  // keeps its resourceVersion, so the watch resumes where it was unless the server answers 410 Gone.
  #onError(error: unknown): void {
    if (this.stopped || this.#restart) return;
    this.#failures++;
    const delayMs = backoffDelay(this.#failures, this.#backoff, this.#random);
    this.#observer.failed?.(this.#kind.kind, this.#namespace, error, delayMs);
    this.#restart = this.#clock.setTimer(() => void this.#run(), delayMs);
  }

  #markSynced(): void {
    if (this.synced || this.stopped) return;
    this.synced = true;
    this.#owner.synced();
  }
}

interface ResumingWatchHooks {
  extraParams: Record<string, string | number | boolean>;
  stopped(): boolean;
  decode(raw: unknown): KubernetesObject;
  onWatchStarted(): void;
  onEvent(): void;
}

const objectEvents = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/** The Watch ListWatch drives, with the additions described at the top of this file. */
class ResumingWatch extends Watch {
  readonly #hooks: ResumingWatchHooks;

  constructor(config: KubeConfig, hooks: ResumingWatchHooks) {
    super(config);
    this.#hooks = hooks;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // A stop can land while ListWatch is between its list and its watch; it would watch anyway.
    if (this.#hooks.stopped()) return abortedController();
    let request: AbortController | undefined;
    let failure: unknown;
    // Anything that goes wrong with one event ends this watch: ListWatch then reports the error and goes idle,
    // and the restart resumes from the last resourceVersion it recorded, so the event is delivered again.
    const fail = (error: unknown) => {
      failure ??= error;
      request?.abort(error);
    };
    const onLine = (phase: string, object: unknown, event: unknown) => {
      this.#hooks.onEvent();
      let delivered = object;
      if (objectEvents.has(phase)) {
        try {
          delivered = this.#hooks.decode(object);
        } catch (error) {
          fail(error);
          return;
        }
      }
      // ListWatch's handler is async; a rejection there would otherwise go unhandled.
      const handled = callback(phase, delivered, event) as unknown;
      if (handled instanceof Promise) handled.catch(fail);
    };
    this.#hooks.onWatchStarted();
    try {
      request = await super.watch(path, { ...queryParams, ...this.#hooks.extraParams }, onLine, done);
      if (failure !== undefined) request.abort(failure);
      return request;
    } catch (error) {
      // Watch throws (instead of calling done) when it cannot even build the request, e.g. credentials that
      // fail to load; ListWatch would leave that rejection unhandled. Report it through done like the rest.
      queueMicrotask(() => done(error));
      return abortedController();
    }
  }
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort();
  return controller;
}

/** A view of `config` whose requests also carry `accept` (Watch builds its request from the config alone). */
function withAcceptHeader(config: KubeConfig, accept: string): KubeConfig {
  if (accept === 'application/json') return config;
  const view = Object.create(config) as KubeConfig;
  view.applySecurityAuthentication = async (context: RequestContext) => {
    await config.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', accept);
  };
  return view;
}
