// One StoreClient per store, reused across reconciles and rebuilt when the store or its credentials change.
// The cache key is the store's uid and generation plus the resourceVersions of the credential Secrets it
// names; credential versions are re-checked at most every few seconds, not on every read.

import type { CredentialSource } from './credentials.ts';
import { InvalidSpec } from './errors.ts';
import { type ProviderLogger, silentLogger } from './logger.ts';
import { selectProvider, validateStore } from './registry.ts';
import { type ProviderName, type StoreObject, storeKey } from './store-spec.ts';
import { type ClientTuning, defaultTuning, type Provider, type StoreClient } from './types.ts';
import { storeScope } from './validation.ts';

export interface StoreClientsOptions {
  credentials: CredentialSource;
  logger?: ProviderLogger;
  tuning?: Partial<ClientTuning>;
  /** How long a checked credential version is trusted before it is looked up again. */
  credentialCheckIntervalMs?: number;
}

interface Entry {
  identity: string;
  credentialVersions: string;
  checkedAt: number;
  client: Promise<StoreClient>;
}

export class StoreClients {
  readonly #entries = new Map<string, Entry>();
  readonly #credentials: CredentialSource;
  readonly #logger: ProviderLogger;
  readonly #tuning: ClientTuning;
  readonly #checkIntervalMs: number;

  constructor(options: StoreClientsOptions) {
    this.#credentials = options.credentials;
    this.#logger = options.logger ?? silentLogger;
    this.#tuning = { ...defaultTuning, ...options.tuning };
    this.#checkIntervalMs = options.credentialCheckIntervalMs ?? 10_000;
  }

  /** The client for `store`, built on first use and rebuilt when the store or a credential Secret changed. */
  async clientFor(store: StoreObject, signal?: AbortSignal): Promise<StoreClient> {
    const key = storeKey(store);
    const identity = identityOf(store);
    const existing = this.#entries.get(key);
    const now = this.#tuning.now();
    if (existing && existing.identity === identity && now - existing.checkedAt < this.#checkIntervalMs) {
      return existing.client;
    }
    const credentialVersions = await this.#credentialVersions(store, signal);
    if (existing && existing.identity === identity && existing.credentialVersions === credentialVersions) {
      existing.checkedAt = now;
      return existing.client;
    }
    if (existing) this.#retire(key, existing, 'store or credentials changed');
    const client = this.#build(store);
    const entry: Entry = { identity, credentialVersions, checkedAt: now, client };
    this.#entries.set(key, entry);
    // A failed build is not kept: the next call tries again.
    client.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return client;
  }

  /** Drops the client of a store (deleted, or refused its credentials); the next clientFor builds a new one. */
  evict(store: Pick<StoreObject, 'kind' | 'metadata'>): void {
    const key = storeKey(store);
    const entry = this.#entries.get(key);
    if (entry) this.#retire(key, entry, 'evicted');
  }

  /**
   * Drops the client of a store whose spec changed (new uid or generation) as soon as the change is seen, so
   * values read under the old spec leave memory now rather than at the next read; a status-only change keeps it.
   */
  forgetIfChanged(store: Pick<StoreObject, 'kind' | 'metadata'>): void {
    const key = storeKey(store);
    const entry = this.#entries.get(key);
    if (entry && entry.identity !== identityOf(store)) this.#retire(key, entry, 'store changed');
  }

  async close(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map(async (entry) => (await entry.client).close()));
  }

  async #build(store: StoreObject): Promise<StoreClient> {
    const problems = validateStore(store);
    if (problems.length > 0) {
      throw new InvalidSpec(problems.map((problem) => `${problem.path}: ${problem.message}`).join('; '));
    }
    const selected = selectProvider(store.spec)!;
    const provider = selected.provider as Provider<ProviderName>;
    const context = { credentials: this.#credentials, logger: this.#logger, tuning: this.#tuning };
    return provider.createClient(store, selected.spec as never, context);
  }

  async #credentialVersions(store: StoreObject, signal?: AbortSignal): Promise<string> {
    const selected = selectProvider(store.spec);
    if (!selected) return '';
    let secrets: { namespace: string; name: string }[];
    try {
      const provider = selected.provider as Provider<ProviderName>;
      secrets = provider.credentialSecrets(selected.spec as never, storeScope(store));
    } catch {
      return ''; // An invalid spec fails in #build with the full list of problems.
    }
    const versions = await Promise.all(
      secrets.map(async ({ namespace, name }) => {
        const version = await this.#credentials.secretResourceVersion(namespace, name, signal);
        return `${namespace}/${name}@${version ?? 'absent'}`;
      }),
    );
    return versions.join(',');
  }

  #retire(key: string, entry: Entry, why: string): void {
    this.#entries.delete(key);
    this.#logger.debug({ store: key, why }, 'closing store client');
    // Its cached values go now: calls in flight still finish, but nothing read before the change is kept.
    entry.client.then((client) => client.invalidate()).catch(() => {});
    // Calls already started on the old client get the length of one deadline to finish.
    const timer = setTimeout(() => {
      entry.client.then((client) => client.close()).catch(() => {});
    }, this.#tuning.timeoutMs);
    timer.unref();
  }
}

function identityOf(store: Pick<StoreObject, 'metadata'>): string {
  return `${store.metadata.uid ?? ''}/${store.metadata.generation ?? 0}`;
}
