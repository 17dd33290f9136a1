// The shared client logic over a store kept in a Map: what the cache, single-flight, batching, rotation
// handling and limits do for every provider. The conformance suite runs the same paths against real stores.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ListPage, SecretPayload, StoreBackend, VersionSelector } from './backend.ts';
import { AccessDenied, InvalidReference, LimitExceeded, NotFound, TooLarge, Unavailable } from './errors.ts';
import { maxListedSecrets } from './limits.ts';
import { silentLogger } from './logger.ts';
import { providerCallCount } from './metrics.ts';
import { ResolvingClient } from './resolving-client.ts';
import { type ClientTuning, defaultTuning, type ListQuery } from './types.ts';

/** Versions are numbered from 1; `previous` is a moving label like AWSPREVIOUS. */
class MapBackend implements StoreBackend {
  readonly provider = 'vault';
  readonly secrets = new Map<string, string[]>();
  fetches = 0;
  batches = 0;
  hang = false;
  batch?: StoreBackend['batch'];
  batchRefused = false;

  enableBatch() {
    this.batch = {
      size: 2,
      fetchCurrent: async (names) => {
        this.batches += 1;
        if (this.batchRefused) throw new AccessDenied('batch not allowed');
        const results = new Map<string, SecretPayload | NotFound>();
        for (const name of names) {
          const versions = this.secrets.get(name);
          results.set(name, versions ? this.#payload(versions, versions.length) : new NotFound(`no ${name}`));
        }
        return results;
      },
    };
  }

  version(remote: string, version: string | undefined): VersionSelector {
    if (version === undefined || version === 'latest')
      return { key: 'latest', current: true, floating: true };
    if (version === 'previous') return { key: 'previous', current: false, floating: true };
    if (/^\d+$/.test(version)) return { key: version, current: false, floating: false };
    throw new InvalidReference(`bad version for ${remote}`);
  }

  /** Tags per secret name, and how many names one page holds. */
  readonly tags = new Map<string, Record<string, string>>();
  pageSize = 2;
  lists = 0;

  /** Ignores the query, as the GCP emulator does: the shared layer must filter. */
  async listPage(_query: ListQuery, cursor: string | undefined): Promise<ListPage> {
    this.lists += 1;
    const names = [...this.secrets.keys()];
    const start = Number(cursor ?? 0);
    const secrets = names
      .slice(start, start + this.pageSize)
      .map((name) => ({ name, tags: this.tags.get(name) }));
    const next = start + this.pageSize;
    return { secrets, cursor: next < names.length ? String(next) : undefined };
  }

  async fetch(name: string, selector: VersionSelector, signal: AbortSignal): Promise<SecretPayload> {
    this.fetches += 1;
    if (this.hang) {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    }
    const versions = this.secrets.get(name);
    if (!versions) throw new NotFound(`no ${name}`);
    const number =
      selector.key === 'latest'
        ? versions.length
        : selector.key === 'previous'
          ? versions.length - 1
          : Number(selector.key);
    if (number < 1 || number > versions.length) throw new NotFound(`no version ${selector.key} of ${name}`);
    return this.#payload(versions, number);
  }

  async describe(name: string) {
    const versions = this.secrets.get(name);
    return versions ? { exists: true, versionId: String(versions.length) } : { exists: false };
  }

  mapError(error: unknown) {
    return error instanceof Error && 'reason' in error ? (error as NotFound) : new Unavailable('failed');
  }

  async close() {}

  /** Every answer handed to the client, kept so a test can see what became of its bytes. */
  readonly served: SecretPayload[] = [];

  #payload(versions: string[], number: number): SecretPayload {
    const payload = { data: Buffer.from(versions[number - 1]!), versionId: String(number) };
    this.served.push(payload);
    return payload;
  }
}

let now = 0;
let backend: MapBackend;
const tuning = (overrides: Partial<ClientTuning> = {}): ClientTuning => ({
  ...defaultTuning,
  cacheTtlMs: 10_000,
  floatingCacheTtlMs: 1_000,
  now: () => now,
  ...overrides,
});
const client = (overrides: Partial<ClientTuning> = {}) =>
  new ResolvingClient(backend, tuning(overrides), silentLogger);

beforeEach(() => {
  now = 1_000_000;
  backend = new MapBackend();
  backend.secrets.set('db', ['{"user":"app","password":"one"}', '{"user":"app","password":"two"}']);
  backend.secrets.set('plain', ['text-value']);
});

describe('ResolvingClient', () => {
  it('resolves a whole value, a property and all properties with the version read', async () => {
    const store = client();
    const whole = await store.resolve({ name: 'plain' });
    expect([whole.value.toString(), whole.versionId]).toEqual(['text-value', '1']);
    const property = await store.resolve({ name: 'db', property: 'password', version: '1' });
    expect([property.value.toString(), property.versionId]).toEqual(['one', '1']);
    const all = await store.resolveAll({ name: 'db' });
    expect(all.versionId).toBe('2');
    expect(all.values.password?.toString()).toBe('two');
  });

  it('makes one store call for 100 concurrent reads of the same version', async () => {
    const store = client({ cacheTtlMs: 0, floatingCacheTtlMs: 0 });
    const before = await providerCallCount('vault', 'get');
    const results = await Promise.all(
      Array.from({ length: 100 }, () => store.resolve({ name: 'db', property: 'password' })),
    );
    expect(new Set(results.map((result) => result.value.toString()))).toEqual(new Set(['two']));
    expect(backend.fetches).toBe(1);
    expect((await providerCallCount('vault', 'get')) - before).toBe(1);
  });

  it('answers repeated reads from the cache until the entry expires', async () => {
    const store = client();
    await store.resolve({ name: 'db', version: '1' });
    await store.resolve({ name: 'db', version: '1', property: 'user' });
    expect(backend.fetches).toBe(1);
    now += 10_000;
    await store.resolve({ name: 'db', version: '1' });
    expect(backend.fetches).toBe(2);
  });

  it('expires moving versions sooner than fixed ones', async () => {
    const store = client();
    await store.resolve({ name: 'db', version: '1' });
    await store.resolve({ name: 'db' });
    now += 1_000;
    await store.resolve({ name: 'db', version: '1' });
    await store.resolve({ name: 'db' });
    expect(backend.fetches).toBe(3);
  });

  it('goes to the store every time when the cache is off', async () => {
    const store = client({ cacheTtlMs: 0, floatingCacheTtlMs: 0 });
    await store.resolve({ name: 'db', version: '1' });
    await store.resolve({ name: 'db', version: '1' });
    expect(backend.fetches).toBe(2);
  });

  it('drops cached versions of a secret when a check sees that it was rotated', async () => {
    const store = client({ floatingCacheTtlMs: 60_000 });
    expect(
      (await store.resolve({ name: 'db', version: 'previous', property: 'password' })).value.toString(),
    ).toBe('one');
    await store.exists({ name: 'db' });
    backend.secrets.get('db')!.push('{"user":"app","password":"three"}');
    expect((await store.exists({ name: 'db' })).versionId).toBe('3');
    const previous = await store.resolve({ name: 'db', version: 'previous', property: 'password' });
    expect(previous.value.toString()).toBe('two');
  });

  it('hands out copies, so a caller wiping its buffer does not wipe the cache', async () => {
    const store = client();
    const first = await store.resolve({ name: 'plain' });
    first.value.fill(0);
    expect((await store.resolve({ name: 'plain' })).value.toString()).toBe('text-value');
  });

  it('reads current versions of several secrets in batches and serves the single reads from them', async () => {
    backend.enableBatch();
    for (const name of ['a', 'b', 'c']) backend.secrets.set(name, [`value-${name}`]);
    const store = client();
    const results = await store.resolveMany([
      { name: 'a' },
      { name: 'b' },
      { name: 'c' },
      { name: 'missing' },
    ]);
    expect(
      results.map((result) => (result.status === 'fulfilled' ? result.value.value.toString() : 'error')),
    ).toEqual(['value-a', 'value-b', 'value-c', 'error']);
    expect(results[3]).toMatchObject({ status: 'rejected', reason: expect.any(NotFound) });
    expect(backend.batches).toBe(2);
    expect(backend.fetches).toBe(0);
  });

  it('falls back to single reads when the batch call is refused', async () => {
    backend.enableBatch();
    backend.batchRefused = true;
    const store = client();
    const results = await store.resolveMany([{ name: 'db', property: 'user' }, { name: 'plain' }]);
    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    expect(backend.fetches).toBe(2);
  });

  it('refuses a value that would not fit in a Secret', async () => {
    backend.secrets.set('huge', ['x'.repeat(1024 * 1024 + 1)]);
    await expect(client().resolve({ name: 'huge' })).rejects.toBeInstanceOf(TooLarge);
  });

  it('turns a store that does not answer in time into Unavailable', async () => {
    backend.hang = true;
    const store = client({ timeoutMs: 50 });
    const error = await store.resolve({ name: 'db' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).retryable).toBe(true);
  });

  it('stops waiting as soon as the caller aborts', async () => {
    backend.hang = true;
    const controller = new AbortController();
    const pending = client({ timeoutMs: 60_000 }).resolve({ name: 'db' }, { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });

  it('rejects an empty name and a version the store cannot have', async () => {
    await expect(client().resolve({ name: '' })).rejects.toBeInstanceOf(InvalidReference);
    await expect(client().resolve({ name: 'db', version: 'v-one' })).rejects.toBeInstanceOf(InvalidReference);
  });
});

describe('ResolvingClient keeps no value past its cache lifetime', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('zeroes the store answer it cached once the lifetime passes, while the value it handed out stays whole', async () => {
    vi.useFakeTimers();
    const store = new ResolvingClient(
      backend,
      tuning({ cacheTtlMs: 1_000, now: () => Date.now() }),
      silentLogger,
    );
    const resolved = await store.resolve({ name: 'plain', version: '1' });
    const [answer] = backend.served;
    expect(answer?.data.toString()).toBe('text-value');
    vi.advanceTimersByTime(1_000);
    vi.runOnlyPendingTimers();
    expect(answer?.data.every((byte) => byte === 0)).toBe(true);
    expect(resolved.value.toString()).toBe('text-value');
    await store.resolve({ name: 'plain', version: '1' });
    expect(backend.fetches).toBe(2);
  });

  it('zeroes every cached answer at once when the client is invalidated (its store was deleted or changed)', async () => {
    vi.useFakeTimers();
    const store = new ResolvingClient(backend, tuning({ now: () => Date.now() }), silentLogger);
    await store.resolve({ name: 'db', version: '1' });
    await store.resolve({ name: 'plain', version: '1' });
    store.invalidate();
    vi.runOnlyPendingTimers();
    expect(backend.served.map((payload) => payload.data.every((byte) => byte === 0))).toEqual([true, true]);
  });
});

describe('listing', () => {
  it('goes through every page and keeps the names with the prefix and every tag, exactly, without reading a value', async () => {
    const backend = new MapBackend();
    for (const name of ['meltano/a', 'meltano/b', 'meltanox/c', 'other/d', 'meltano/e'])
      backend.secrets.set(name, ['v']);
    backend.tags.set('meltano/a', { team: 'data' });
    backend.tags.set('meltano/b', { team: 'data-platform' });
    backend.tags.set('meltano/e', { team: 'data', tier: 'gold' });
    const client = new ResolvingClient(backend, defaultTuning, silentLogger);
    const byPrefix = await client.list({ prefix: 'meltano/' });
    expect(byPrefix.map((secret) => secret.name)).toEqual(['meltano/a', 'meltano/b', 'meltano/e']);
    const byTag = await client.list({ prefix: 'meltano/', tags: { team: 'data' } });
    expect(byTag.map((secret) => secret.name)).toEqual(['meltano/a', 'meltano/e']);
    expect(backend.lists).toBe(6);
    expect(backend.fetches).toBe(0);
  });

  it('stops with LimitExceeded once a listing goes past the most names one find may go through', async () => {
    const backend = new MapBackend();
    backend.pageSize = 1000;
    for (let index = 0; index <= maxListedSecrets; index++) backend.secrets.set(`s${index}`, ['v']);
    const client = new ResolvingClient(backend, defaultTuning, silentLogger);
    await expect(client.list({ prefix: 's1' })).rejects.toBeInstanceOf(LimitExceeded);
    await expect(client.list({ prefix: 's1' })).rejects.toThrow(`past ${maxListedSecrets} secrets`);
  });
});
