// What each provider implements underneath the shared StoreClient: raw reads of one remote secret, with no
// caching, property selection or metrics. The shared layer (resolving-client.ts) adds those the same way
// for every store.
import type { ProviderError } from './errors.ts';
import type { ProviderName } from './store-spec.ts';
import type { Existence, ListedSecret, ListQuery } from './types.ts';

/** A parsed `version` of a reference. */
export interface VersionSelector {
  /** Canonical form, used in cache keys: `AWSCURRENT` and an absent version are the same key. */
  key: string;
  /** The version a reference with no version gets (latest, AWSCURRENT); a new one appears on rotation. */
  current: boolean;
  /** Whether the selector can point at different versions over time (current, or an AWS stage label). */
  floating: boolean;
}

/** The stored bytes of one version, and the store's id for it. */
export interface SecretPayload {
  data: Buffer;
  versionId: string;
}

export interface ListPage {
  secrets: ListedSecret[];
  cursor?: string;
}

export interface StoreBackend {
  readonly provider: ProviderName;
  /** Parses a reference's version; throws InvalidReference when the store cannot have such a version. */
  version(remote: string, version: string | undefined): VersionSelector;
  fetch(name: string, version: VersionSelector, signal: AbortSignal): Promise<SecretPayload>;
  /** A read of the current versions of several secrets in one call; absent when the store has none. */
  batch?: {
    /** The most names one call accepts. */
    size: number;
    /** Keyed by the names asked for; a name that failed maps to its error. */
    fetchCurrent(
      names: readonly string[],
      signal: AbortSignal,
    ): Promise<Map<string, SecretPayload | ProviderError>>;
  };
  /**
   * One page of a listing, names and tags only. `cursor` is what the previous page returned (undefined for the
   * first); no cursor back means the last page. The query is a hint the store may apply or not.
   */
  listPage(query: ListQuery, cursor: string | undefined, signal: AbortSignal): Promise<ListPage>;
  /** Existence and version id without the value, where the store allows. */
  describe(name: string, version: VersionSelector, signal: AbortSignal): Promise<Existence>;
  /** Turns anything the SDK or transport threw into a typed error that carries no bodies. */
  mapError(error: unknown, remote?: string): ProviderError;
  close(): Promise<void>;
}
