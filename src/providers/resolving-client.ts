// The StoreClient every provider hands out: a store backend plus what all stores share — a deadline on each
// call, one call per remote version per burst (single-flight), a short-lived value cache that is cleared when
// a rotation is seen, property selection, the Secret size limit, and metrics.
import type { SecretPayload, StoreBackend, VersionSelector } from './backend.ts';
import { withDeadline } from './deadline.ts';
import {
  AccessDenied,
  InvalidReference,
  isProviderError,
  LimitExceeded,
  type ProviderError,
} from './errors.ts';
import { assertFitsInSecret, maxListedSecrets, totalSize } from './limits.ts';
import { distinctByName, matchesQuery } from './listing.ts';
import type { ProviderLogger } from './logger.ts';
import { countedCall, providerCacheLookups } from './metrics.ts';
import { parseJson, selectProperty, topLevelProperties } from './property.ts';
import { SingleFlight } from './single-flight.ts';
import type {
  CallOptions,
  ClientTuning,
  DynamicCredentials,
  Existence,
  ListedSecret,
  ListQuery,
  RemoteRef,
  RemoteSecretRef,
  ResolvedProperties,
  ResolvedValue,
  StoreClient,
} from './types.ts';
import { ValueCache } from './value-cache.ts';

export class ResolvingClient implements StoreClient {
  readonly #backend: StoreBackend;
  readonly #tuning: ClientTuning;
  readonly #logger: ProviderLogger;
  readonly #cache: ValueCache<SecretPayload>;
  readonly #flights = new SingleFlight<SecretPayload>();
  /** The version id last seen as current per remote name; a different one means the secret was rotated. */
  readonly #currentVersions = new Map<string, string>();
  #closed = false;

  readonly leases?: DynamicCredentials;

  constructor(
    backend: StoreBackend,
    tuning: ClientTuning,
    logger: ProviderLogger,
    leases?: DynamicCredentials,
  ) {
    this.leases = leases;
    this.#backend = backend;
    this.#tuning = tuning;
    this.#logger = logger;
    // Callers get copies (resolve and resolveAll copy out of the answer), so the cached answer is the
    // client's own and is zeroed when it leaves the cache.
    this.#cache = new ValueCache(tuning.now, (payload) => payload.data.fill(0));
  }

  async resolve(remote: RemoteRef, options: CallOptions = {}): Promise<ResolvedValue> {
    const payload = await this.#payload(remote, options.signal);
    const value =
      remote.property === undefined
        ? Buffer.from(payload.data)
        : selectProperty(parseJson(payload.data, remote.name), remote.property, remote.name);
    assertFitsInSecret(value.length, remote.name);
    return { value, versionId: payload.versionId, bytesRead: payload.data.length };
  }

  async resolveAll(remote: RemoteSecretRef, options: CallOptions = {}): Promise<ResolvedProperties> {
    const payload = await this.#payload(remote, options.signal);
    const values = topLevelProperties(parseJson(payload.data, remote.name), remote.name);
    assertFitsInSecret(totalSize(values), remote.name);
    return { values, versionId: payload.versionId, bytesRead: payload.data.length };
  }

  async resolveMany(
    remotes: readonly RemoteRef[],
    options: CallOptions = {},
  ): Promise<PromiseSettledResult<ResolvedValue>[]> {
    this.#prefetchCurrent(remotes);
    return Promise.allSettled(remotes.map((remote) => this.resolve(remote, options)));
  }

  async exists(remote: RemoteSecretRef, options: CallOptions = {}): Promise<Existence> {
    this.#assertOpen();
    const selector = this.#selector(remote);
    const backend = this.#backend;
    const existence = await countedCall(backend.provider, 'describe', () =>
      withDeadline(
        this.#tuning.timeoutMs,
        options.signal,
        `checking "${remote.name}" in ${backend.provider}`,
        (signal) => backend.describe(remote.name, selector, signal),
        (error) => backend.mapError(error, remote.name),
      ),
    );
    if (existence.exists && existence.versionId)
      this.#noteVersion(remote.name, selector, existence.versionId);
    return existence;
  }

  async list(query: ListQuery, options: CallOptions = {}): Promise<ListedSecret[]> {
    this.#assertOpen();
    const backend = this.#backend;
    const kept: ListedSecret[] = [];
    let examined = 0;
    let cursor: string | undefined;
    do {
      const after = cursor;
      const page = await countedCall(backend.provider, 'list', () =>
        withDeadline(
          this.#tuning.timeoutMs,
          options.signal,
          `listing secrets in ${backend.provider}`,
          (signal) => backend.listPage(query, after, signal),
          (error) => backend.mapError(error),
        ),
      );
      examined += page.secrets.length;
      if (examined > maxListedSecrets) {
        throw new LimitExceeded(
          `listing the store went past ${maxListedSecrets} secrets, the most one find may go through; ` +
            'narrow it with find.path or find.tags',
          { provider: backend.provider },
        );
      }
      for (const secret of page.secrets) if (matchesQuery(secret, query)) kept.push(secret);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return distinctByName(kept);
  }

  invalidate(name?: string): void {
    this.#cache.clear(name);
    if (name === undefined) this.#currentVersions.clear();
    else this.#currentVersions.delete(name);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.clear();
    await this.#backend.close();
  }

  #selector(remote: RemoteSecretRef): VersionSelector {
    if (!remote.name) throw new InvalidReference('the remote name must not be empty');
    return this.#backend.version(remote.name, remote.version);
  }

  async #payload(remote: RemoteSecretRef, signal: AbortSignal | undefined): Promise<SecretPayload> {
    this.#assertOpen();
    const selector = this.#selector(remote);
    const provider = this.#backend.provider;
    const cached = this.#cache.get(remote.name, selector.key);
    if (cached) {
      providerCacheLookups.inc({ provider, result: 'hit' });
      return cached;
    }
    const { joined, result } = this.#flights.run(flightKey(remote.name, selector), signal, (flightSignal) =>
      this.#fetch(remote.name, selector, flightSignal),
    );
    providerCacheLookups.inc({ provider, result: joined ? 'shared' : 'miss' });
    return result;
  }

  async #fetch(name: string, selector: VersionSelector, signal: AbortSignal): Promise<SecretPayload> {
    const backend = this.#backend;
    const payload = await countedCall(backend.provider, 'get', () =>
      withDeadline(
        this.#tuning.timeoutMs,
        signal,
        `reading "${name}" from ${backend.provider}`,
        (limit) => backend.fetch(name, selector, limit),
        (error) => backend.mapError(error, name),
      ),
    );
    this.#remember(name, selector, payload);
    return payload;
  }

  #remember(name: string, selector: VersionSelector, payload: SecretPayload): void {
    if (this.#closed) return;
    this.#noteVersion(name, selector, payload.versionId);
    const ttl = selector.floating ? this.#tuning.floatingCacheTtlMs : this.#tuning.cacheTtlMs;
    this.#cache.set(name, selector.key, payload, ttl);
  }

  /** A new current version means the secret was rotated: whatever was cached for it may be stale. */
  #noteVersion(name: string, selector: VersionSelector, versionId: string): void {
    if (!selector.current) return;
    const previous = this.#currentVersions.get(name);
    this.#currentVersions.set(name, versionId);
    if (previous !== undefined && previous !== versionId) {
      this.#cache.clear(name);
      this.#logger.info(
        { provider: this.#backend.provider, remote: name, previousVersion: previous, version: versionId },
        'remote secret rotated; cached versions dropped',
      );
    }
  }

  /**
   * Starts batch reads for the current versions among `remotes` that are neither cached nor in flight; the
   * single resolves that follow join these calls instead of making their own.
   */
  #prefetchCurrent(remotes: readonly RemoteRef[]): void {
    const batch = this.#backend.batch;
    if (!batch || this.#closed) return;
    const names = new Set<string>();
    for (const remote of remotes) {
      let selector: VersionSelector;
      try {
        selector = this.#selector(remote);
      } catch {
        continue; // resolve() reports the bad reference for this entry.
      }
      if (!selector.current || this.#cache.get(remote.name, selector.key)) continue;
      names.add(remote.name);
    }
    const pending = [...names];
    if (pending.length < 2) return;
    for (let start = 0; start < pending.length; start += batch.size) {
      const chunk = pending.slice(start, start + batch.size);
      const results = this.#batchCall(chunk);
      for (const name of chunk) {
        const selector = this.#backend.version(name, undefined);
        const { result } = this.#flights.run(flightKey(name, selector), undefined, async (signal) => {
          const found = await results.then(
            (answer) => answer.get(name),
            // A role may be allowed single reads but not the batch call; fall back rather than fail.
            (error: unknown) => {
              if (error instanceof AccessDenied) return undefined;
              throw error;
            },
          );
          if (!found) return this.#fetch(name, selector, signal);
          if (isProviderError(found)) throw found;
          this.#remember(name, selector, found);
          return found;
        });
        result.catch(() => {}); // Each entry's failure reaches its caller through resolve().
      }
    }
  }

  #batchCall(names: string[]): Promise<Map<string, SecretPayload | ProviderError>> {
    const backend = this.#backend;
    const batch = backend.batch!;
    const call = countedCall(backend.provider, 'batchGet', () =>
      withDeadline(
        this.#tuning.timeoutMs,
        undefined,
        `reading ${names.length} secrets from ${backend.provider}`,
        (signal) => batch.fetchCurrent(names, signal),
        (error) => backend.mapError(error),
      ),
    );
    call.catch(() => {});
    return call;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('store client is closed');
  }
}

function flightKey(name: string, selector: VersionSelector): string {
  return `${name}\u0000${selector.key}`;
}
