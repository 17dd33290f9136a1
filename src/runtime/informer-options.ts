// What an informer is asked to watch and whom it tells: apart from informers.ts so that the shard, which
// informers.ts builds on, can take them without importing its own user.
import type { BackoffOptions } from './backoff.ts';
import type { Clock } from './clock.ts';

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
