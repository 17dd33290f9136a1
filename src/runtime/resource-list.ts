// What an informer needs to know about a resource, and the one list request it makes: a paginated GET of a
// collection whose objects are decoded the same way as the objects a watch delivers, then frozen.
import http from 'node:http';
import https from 'node:https';
import type {
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  V1ObjectMeta,
} from '@kubernetes/client-node';
import { decodeAsModel } from './kube-models.ts';

export interface ResourceKind {
  /** "v1" for the core group, "group/version" otherwise. */
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /**
   * client-node model name for built-in kinds ("V1Job"): cached objects then match what the typed clients
   * return (timestamps as Dates). Kinds without one (custom resources) keep spec and status as JSON and get
   * only their metadata decoded, as their V1ObjectMeta-typed interfaces expect.
   */
  model?: string;
}

/** What a metadata-only cache holds: the identity and metadata of an object, never its spec or data. */
export interface ObjectMetadataOnly {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Ask for metadata only (PartialObjectMetadata): no spec, no data. */
  metadataOnly?: boolean;
  pageSize?: number;
  /** Cuts each item down before it is decoded (InformerOptions.project). */
  project?: (raw: unknown) => unknown;
}

/** An API request the server answered with an error status; carries no response body beyond its message. */
export class KubeRequestError extends Error {
  override name = 'KubeRequestError';
  readonly statusCode: number;
  readonly reason: string | undefined;

  constructor(path: string, statusCode: number, reason: string | undefined, message: string | undefined) {
    super(`GET ${path}: ${statusCode}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`);
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

/** The URL path of a resource collection, in one namespace or across all of them. */
export function collectionPath(kind: ResourceKind, namespace?: string): string {
  const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  return kind.namespaced && namespace
    ? `${base}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}`
    : `${base}/${kind.plural}`;
}

const partialObjectMetadata = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
const partialObjectMetadataList = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** The Accept header a watch sends for `metadataOnly`. */
export function watchAcceptHeader(metadataOnly: boolean): string {
  return metadataOnly ? partialObjectMetadata : 'application/json';
}

/** Turns one object as the API server sends it into the shape the cache holds, frozen. */
export function decodeObject<T extends KubernetesObject>(
  kind: ResourceKind,
  raw: unknown,
  metadataOnly = false,
): T {
  const source = withoutManagedFields(raw as KubernetesObject & Record<string, unknown>);
  // List items come without apiVersion and kind; watch events carry them. Fill them in so both look alike.
  // Metadata-only objects say they are PartialObjectMetadata; like controller-runtime, name the resource they
  // describe instead, since that is what a consumer asks about.
  const filled = metadataOnly
    ? { ...source, apiVersion: kind.apiVersion, kind: kind.kind }
    : { apiVersion: kind.apiVersion, kind: kind.kind, ...source };
  const decoded =
    kind.model && !metadataOnly
      ? decodeAsModel(filled, kind.model)
      : { ...filled, metadata: decodeAsModel(filled.metadata, 'V1ObjectMeta') };
  return deepFreeze(decoded as T);
}

/**
 * The object without metadata.managedFields: server-side apply's bookkeeping, often the largest part of an
 * object's metadata, which no consumer of a cache reads. Dropped before decoding, so it is never held.
 */
function withoutManagedFields<T extends KubernetesObject>(source: T): T {
  if (!source.metadata?.managedFields) return source;
  const { managedFields: _, ...metadata } = source.metadata;
  return { ...source, metadata };
}

/** Lists a collection page by page; the result's resourceVersion is where a watch should start. */
export async function listResources<T extends KubernetesObject>(
  config: KubeConfig,
  kind: ResourceKind,
  options: ListOptions = {},
): Promise<KubernetesListObject<T>> {
  const path = collectionPath(kind, options.namespace);
  const items: T[] = [];
  let continueToken: string | undefined;
  let resourceVersion = '';
  do {
    const query: Record<string, string> = { limit: String(options.pageSize ?? 500) };
    if (options.labelSelector) query.labelSelector = options.labelSelector;
    if (options.fieldSelector) query.fieldSelector = options.fieldSelector;
    if (continueToken) query.continue = continueToken;
    const accept = options.metadataOnly ? partialObjectMetadataList : 'application/json';
    const page = (await getJson(config, path, query, accept)) as {
      metadata?: { resourceVersion?: string; continue?: string };
      items?: unknown[];
    };
    for (const item of page.items ?? []) {
      const kept = options.project ? options.project(item) : item;
      items.push(decodeObject<T>(kind, kept, options.metadataOnly));
    }
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
  return { metadata: { resourceVersion }, items };
}

const requestTimeoutMs = 60_000;

async function getJson(config: KubeConfig, path: string, query: Record<string, string>, accept: string) {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const options: https.RequestOptions = { method: 'GET', headers: { Accept: accept } };
  await config.applyToHTTPSOptions(options);
  const transport = url.protocol === 'http:' ? http : https;

  return new Promise<unknown>((resolve, reject) => {
    const request = transport.request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status === 200) {
          try {
            resolve(JSON.parse(body));
          } catch {
            reject(new Error(`GET ${path}: the response is not JSON`));
          }
          return;
        }
        // Only a Status object's reason and message are kept: an error body never carries object data.
        let statusBody: { reason?: string; message?: string } = {};
        try {
          statusBody = JSON.parse(body);
        } catch {}
        reject(new KubeRequestError(path, status, statusBody.reason, statusBody.message));
      });
    });
    request.setTimeout(requestTimeoutMs, () => request.destroy(new Error(`GET ${path}: timed out`)));
    request.on('error', reject);
    request.end();
  });
}

/** Freezes an object graph so a consumer that tries to change a cached object fails loudly. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
