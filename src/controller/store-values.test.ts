// The bounds on one reconcile's store reads, against a fake store client: how many reads run at once, the
// byte budget that stops the reads early, and the deadline. No value appears in any error.
import { describe, expect, it } from 'vitest';
import type { AnySecretStore, KeyRewrite, SecretReference } from '../api/types.ts';
import {
  InvalidReference,
  LimitExceeded,
  RemoteNotAllowed,
  TooLarge,
  Unavailable,
} from '../providers/errors.ts';
import type { StoreClients } from '../providers/store-clients.ts';
import type { ListQuery, RemoteRef, ResolvedValue, StoreClient } from '../providers/types.ts';
import { TemplateError } from './secret-template.ts';
import { createStoreValues, type ReadLimits } from './store-values.ts';

/** A store whose every secret is `size` bytes, of which each entry takes a short property. */
function fakeStore(size: number, delay: (name: string) => Promise<void> = async () => {}) {
  let inFlight = 0;
  const stats = { reads: 0, maxInFlight: 0 };
  const resolve = async (remote: RemoteRef): Promise<ResolvedValue> => {
    stats.reads++;
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    try {
      await delay(remote.name);
      return { value: Buffer.from(`value of ${remote.name}`), versionId: '1', bytesRead: size };
    } finally {
      inFlight--;
    }
  };
  const client = {
    resolve,
    resolveMany: (remotes: readonly RemoteRef[]) =>
      Promise.allSettled(remotes.map((remote) => resolve(remote))),
    exists: async (remote: RemoteRef) => {
      const { versionId } = await resolve(remote);
      return { exists: true, versionId };
    },
  } as unknown as StoreClient;
  const clients = { clientFor: async () => client } as unknown as StoreClients;
  return { clients, stats };
}

function referenceWith(names: string[]): SecretReference {
  return {
    metadata: { name: 'many', namespace: 'tenant' },
    spec: {
      storeRef: { name: 'vault' },
      data: names.map((name, index) => ({ key: `key-${index}`, remote: { name, property: 'user' } })),
      consumers: { matchLabels: { app: 'etl' } },
    },
  } as unknown as SecretReference;
}

const store = {} as AnySecretStore;
const names = (count: number) => Array.from({ length: count }, (_, index) => `large-${index}`);
const limits: ReadLimits = {
  maxReferenceBytes: 4 * 1024 * 1024,
  concurrency: 4,
  timeoutMs: 30_000,
  maxFindSecrets: 100,
};
const signal = () => new AbortController().signal;

describe('store values of one reconcile', () => {
  it('reads every entry, never more than the concurrency at once', async () => {
    const { clients, stats } = fakeStore(1024, () => new Promise((resolve) => setTimeout(resolve, 1)));
    const read = await createStoreValues(clients, limits).read(
      store,
      referenceWith(names(64)),
      { kind: 'any' },
      signal(),
    );
    expect(Object.keys(read.data)).toHaveLength(64);
    expect(stats.maxInFlight).toBe(4);
  });

  it('reads the stores of at most readingReferences references at once, however many reconciles ask', async () => {
    const { clients, stats } = fakeStore(1024, () => new Promise((resolve) => setTimeout(resolve, 2)));
    const values = createStoreValues(clients, { ...limits, readingReferences: 2 });
    // 16 reconciles at once, each reading 8 entries (4 at a time): 2 references × 4 answers, never more.
    const reads = await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        index % 2 === 0
          ? values.read(store, referenceWith(names(8)), { kind: 'any' }, signal())
          : values.versions(store, referenceWith(names(8)), { kind: 'any' }, signal()),
      ),
    );
    expect(reads).toHaveLength(16);
    expect(stats.reads).toBe(16 * 8);
    expect(stats.maxInFlight).toBe(8);
  });

  it('gives up a read still waiting for its turn when its reconcile is cut short, reading nothing', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { clients, stats } = fakeStore(1024, () => held);
    const values = createStoreValues(clients, { ...limits, readingReferences: 1 });
    const first = values.read(store, referenceWith(names(1)), { kind: 'any' }, signal());
    const cut = new AbortController();
    const waiting = values.read(store, referenceWith(names(1)), { kind: 'any' }, cut.signal);
    cut.abort(new Error('a Job lost its access while the store was read'));
    await expect(waiting).rejects.toThrow('a Job lost its access');
    release();
    await first;
    expect(stats.reads).toBe(1);
  });

  it('stops reading once the answers pass the reference budget, and names the flag', async () => {
    const { clients, stats } = fakeStore(256 * 1024);
    const reading = createStoreValues(clients, limits).read(
      store,
      referenceWith(names(64)),
      { kind: 'any' },
      signal(),
    );
    await expect(reading).rejects.toThrow(LimitExceeded);
    await expect(reading).rejects.toThrow(
      'this reference reads more than 4194304 bytes from its store (--max-reference-bytes); ' +
        'name fewer or smaller remote secrets, or split it into several references',
    );
    // 17 answers of 256 KiB pass 4 MiB; the reads stop within the chunk that passed it.
    expect(stats.reads).toBe(20);
  });

  it('counts an answer once however many entries take a property of it', async () => {
    const { clients } = fakeStore(3 * 1024 * 1024);
    const read = await createStoreValues(clients, limits).read(
      store,
      referenceWith(Array.from({ length: 10 }, () => 'one-large-secret')),
      { kind: 'any' },
      signal(),
    );
    expect(Object.keys(read.data)).toHaveLength(10);
  });

  it('refuses values that add up to more than a Secret holds as soon as they do', async () => {
    const { clients, stats } = fakeStore(10);
    const big = { ...limits, maxReferenceBytes: 64 * 1024 * 1024 };
    const client = (await clients.clientFor({} as never)) as unknown as { resolveMany: unknown };
    client.resolveMany = async (remotes: readonly RemoteRef[]) => {
      stats.reads += remotes.length;
      return remotes.map(() => ({
        status: 'fulfilled',
        value: { value: Buffer.alloc(300 * 1024), versionId: '1', bytesRead: 300 * 1024 },
      }));
    };
    const reading = createStoreValues(clients, big).read(
      store,
      referenceWith(names(64)),
      { kind: 'any' },
      signal(),
    );
    await expect(reading).rejects.toThrow(TooLarge);
    expect(stats.reads).toBe(4);
  });

  it('gives up when the reconcile deadline passes, as a retryable unavailability naming the flag', async () => {
    const { clients } = fakeStore(10, () => new Promise(() => {}));
    const reading = createStoreValues(clients, { ...limits, timeoutMs: 20 }).read(
      store,
      referenceWith(names(2)),
      { kind: 'any' },
      signal(),
    );
    await expect(reading).rejects.toThrow(Unavailable);
    await expect(reading).rejects.toThrow(
      "reading this reference's values took longer than 20 ms (--reconcile-timeout-ms)",
    );
  });

  it.each(['my key', 'path/like'])(
    'refuses a dataFrom key %j that no Secret may hold, naming the key and not the value',
    async (badKey) => {
      const { clients } = fakeStore(10);
      const client = (await clients.clientFor({} as never)) as unknown as { resolveAll: unknown };
      client.resolveAll = async () => ({
        values: { fine: Buffer.from('ok'), [badKey]: Buffer.from('value-of-the-bad-key') },
        versionId: '1',
        bytesRead: 10,
      });
      const reference = {
        metadata: { name: 'bulk', namespace: 'tenant' },
        spec: { storeRef: { name: 'aws' }, dataFrom: [{ remote: { name: 'bulk' } }] },
      } as unknown as SecretReference;
      const reading = createStoreValues(clients, limits).read(store, reference, { kind: 'any' }, signal());
      await expect(reading).rejects.toThrow(InvalidReference);
      const error = (await reading.catch((caught: Error) => caught)) as Error;
      expect(error.message).toContain(JSON.stringify(badKey));
      expect(error.message).not.toContain('value-of-the-bad-key');
    },
  );

  /** A reference with one dataFrom entry whose remote secret holds `values`, read through `rewrite`. */
  async function readRewritten(values: Record<string, string>, rewrite: KeyRewrite[]) {
    const { clients } = fakeStore(10);
    const client = (await clients.clientFor({} as never)) as unknown as { resolveAll: unknown };
    client.resolveAll = async () => ({
      values: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Buffer.from(value)])),
      versionId: '1',
      bytesRead: 10,
    });
    const reference = {
      metadata: { name: 'bulk', namespace: 'tenant' },
      spec: { storeRef: { name: 'aws' }, dataFrom: [{ remote: { name: 'bulk' }, rewrite }] },
    } as unknown as SecretReference;
    return createStoreValues(clients, limits).read(store, reference, { kind: 'any' }, signal());
  }

  it('writes rewritten dataFrom keys, so invalid store keys become env var names', async () => {
    const read = await readRewritten({ 'my key': 'one', 'path/like': 'two' }, [
      { regexp: { source: '[^A-Za-z0-9]+', target: '_' } },
      { case: 'upper' },
      { prefix: 'TAP_POSTGRES_' },
    ]);
    expect(Object.keys(read.data).sort()).toEqual(['TAP_POSTGRES_MY_KEY', 'TAP_POSTGRES_PATH_LIKE']);
    expect(read.data.TAP_POSTGRES_MY_KEY!.toString()).toBe('one');
  });

  it('refuses a rewrite that still yields an invalid key, naming the key and the store key, not the value', async () => {
    const reading = readRewritten({ 'my key': 'value-of-the-bad-key' }, [{ prefix: 'X_' }]);
    await expect(reading).rejects.toThrow(InvalidReference);
    await expect(reading).rejects.toThrow('has the key "X_my key" (rewritten from "my key")');
    const error = (await reading.catch((caught: Error) => caught)) as Error;
    expect(error.message).not.toContain('value-of-the-bad-key');
  });

  it('refuses a rewrite that turns two keys into one, naming both, instead of dropping a value', async () => {
    const reading = readRewritten({ 'db-user': 'value-one', db_user: 'value-two' }, [
      { regexp: { source: '-', target: '_' } },
    ]);
    await expect(reading).rejects.toThrow('turns both "db-user" and "db_user" into the key "db_user"');
    const error = (await reading.catch((caught: Error) => caught)) as Error;
    expect(error.message).not.toMatch(/value-one|value-two/);
  });

  it('checks versions a few remotes at a time too', async () => {
    const { clients, stats } = fakeStore(10, () => new Promise((resolve) => setTimeout(resolve, 1)));
    const versions = await createStoreValues(clients, limits).versions(
      store,
      referenceWith(names(9)),
      { kind: 'any' },
      signal(),
    );
    expect(Object.keys(versions)).toHaveLength(9);
    expect(stats.maxInFlight).toBe(4);
  });
});

describe('remote versions of one reconcile', () => {
  it('fails retryably, naming the remote, when the store says a secret exists but not which version', async () => {
    const client = { exists: async () => ({ exists: true }) } as unknown as StoreClient;
    const clients = { clientFor: async () => client } as unknown as StoreClients;
    const checking = createStoreValues(clients, limits).versions(
      store,
      referenceWith(['unversioned']),
      { kind: 'any' },
      signal(),
    );
    await expect(checking).rejects.toThrow(Unavailable);
    await expect(checking).rejects.toThrow(
      'the store did not name the version of remote secret "unversioned"',
    );
  });
});

describe('store values the operator no longer needs are zeroed', () => {
  /** A store that answers every name with its text, except `missing`; it keeps what it handed out. */
  function keepingStore(text: (name: string) => string) {
    const handedOut: Buffer[] = [];
    const resolve = async (remote: RemoteRef): Promise<ResolvedValue> => {
      if (remote.name === 'missing') throw new Unavailable('store down');
      const value = Buffer.from(text(remote.name));
      handedOut.push(value);
      return { value, versionId: '1', bytesRead: value.length };
    };
    const client = {
      resolve,
      resolveMany: (remotes: readonly RemoteRef[]) =>
        Promise.allSettled(remotes.map((remote) => resolve(remote))),
    } as unknown as StoreClient;
    return { clients: { clientFor: async () => client } as unknown as StoreClients, handedOut };
  }
  const zeroed = (buffer: Buffer) => buffer.every((byte) => byte === 0);

  it('zeroes the values already read when a later entry fails, so a failed read leaves no value behind', async () => {
    const { clients, handedOut } = keepingStore(() => 'canary-value');
    const reference = referenceWith(['first', 'missing']);
    const read = createStoreValues(clients, { ...limits, concurrency: 1 }).read(
      store,
      reference,
      { kind: 'any' },
      signal(),
    );
    await expect(read).rejects.toThrow(Unavailable);
    expect(handedOut.length).toBe(1);
    expect(handedOut.every(zeroed)).toBe(true);
  });

  it('zeroes the encoded value once it is decoded, keeping only the decoded copy', async () => {
    const { clients, handedOut } = keepingStore(() => Buffer.from('canary-value').toString('base64'));
    const reference = referenceWith(['encoded']);
    reference.spec.data![0]!.decoding = 'base64';
    const read = await createStoreValues(clients, limits).read(store, reference, { kind: 'any' }, signal());
    expect(read.data['key-0']?.toString()).toBe('canary-value');
    expect(handedOut.every(zeroed)).toBe(true);
  });

  it('writes what the template composes, zeroing the values read that it does not keep', async () => {
    const { clients, handedOut } = keepingStore((name) => `${name}-value`);
    const reference = referenceWith(['user', 'password']);
    reference.spec.target = { template: { data: { url: 'pg://{{ key-0 }}:{{ key-1 | url_encode }}@db' } } };
    const read = await createStoreValues(clients, limits).read(store, reference, { kind: 'any' }, signal());
    expect(Object.keys(read.data)).toEqual(['url']);
    expect(read.data.url?.toString()).toBe('pg://user-value:password-value@db');
    expect(handedOut.every(zeroed)).toBe(true);
  });

  it('fails the whole read with a TemplateError when a template fails, leaving no value behind', async () => {
    const { clients, handedOut } = keepingStore(() => 'canary-value');
    const reference = referenceWith(['user']);
    reference.spec.target = { template: { data: { url: '{{ key-0 }}{{ key-9 }}' }, mergePolicy: 'Merge' } };
    const read = createStoreValues(clients, limits).read(store, reference, { kind: 'any' }, signal());
    await expect(read).rejects.toThrow(TemplateError);
    await expect(read).rejects.toThrow('target.template key "url": undefined variable');
    expect(handedOut.every(zeroed)).toBe(true);
  });
});

describe('dataFrom find', () => {
  /** A store listing `names` (in pages the client already joined); it records what was listed and read. */
  function findingStore(names: string[]) {
    const seen = { lists: 0, reads: [] as string[], checked: [] as string[], listedFrom: [] as string[] };
    const client = {
      list: async (query: ListQuery) => {
        seen.lists++;
        seen.listedFrom.push(query.prefix ?? '');
        return names.filter((name) => name.startsWith(query.prefix ?? '')).map((name) => ({ name }));
      },
      resolveMany: (remotes: readonly RemoteRef[]) =>
        Promise.allSettled(
          remotes.map(async (remote) => {
            seen.reads.push(remote.name);
            return { value: Buffer.from(`value of ${remote.name}`), versionId: 'v1', bytesRead: 10 };
          }),
        ),
      exists: async (remote: RemoteRef) => {
        seen.checked.push(remote.name);
        return { exists: true, versionId: 'v1' };
      },
    } as unknown as StoreClient;
    return { clients: { clientFor: async () => client } as unknown as StoreClients, seen };
  }
  const finding = (find: object, rewrite?: KeyRewrite[]) =>
    ({
      metadata: { name: 'found', namespace: 'analytics' },
      spec: {
        storeRef: { kind: 'ClusterSecretStore', name: 'shared' },
        dataFrom: [{ find, ...(rewrite ? { rewrite } : {}) }],
        consumers: { matchLabels: { app: 'etl' } },
      },
    }) as unknown as SecretReference;
  const text = (data: Record<string, Buffer>) =>
    Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value.toString()]));

  it('writes each found secret whole under its rewritten name, and records each one’s version', async () => {
    const { clients } = findingStore(['meltano/tap-postgres/password', 'meltano/tap-postgres/host']);
    const read = await createStoreValues(clients, limits).read(
      store,
      finding({ path: 'meltano/tap-postgres/' }, [
        { regexp: { source: '^meltano/tap-postgres/', target: '' } },
        { case: 'upper' },
        { prefix: 'TAP_POSTGRES_' },
      ]),
      { kind: 'any' },
      signal(),
    );
    expect(text(read.data)).toEqual({
      TAP_POSTGRES_PASSWORD: 'value of meltano/tap-postgres/password',
      TAP_POSTGRES_HOST: 'value of meltano/tap-postgres/host',
    });
    expect(read.remoteVersions).toEqual({
      'meltano/tap-postgres/password': 'v1',
      'meltano/tap-postgres/host': 'v1',
    });
  });

  it('never reads a listed secret outside the namespace’s remoteAccess', async () => {
    const { clients, seen } = findingStore(['meltano/a', 'platform/root-token']);
    const read = await createStoreValues(clients, limits).read(
      store,
      finding({ name: { regexp: '.' } }),
      { kind: 'listed', names: [], prefixes: ['meltano/'] },
      signal(),
    );
    expect(Object.keys(read.data)).toEqual(['meltano_a']);
    expect(seen.reads).toEqual(['meltano/a']);
  });

  it('never lists outside the namespace’s remoteAccess, whatever path the find gives', async () => {
    const { clients, seen } = findingStore(['meltano/a', 'meltano/b/c', 'platform/root-token']);
    const values = createStoreValues(clients, limits);
    const scope = { kind: 'listed', names: [], prefixes: ['meltano/'] } as const;
    const read = await values.read(store, finding({ name: { regexp: '.' } }), scope, signal());
    expect(Object.keys(read.data)).toEqual(['meltano_a', 'meltano_b_c']);
    expect(await values.read(store, finding({ path: 'platform/' }), scope, signal())).toMatchObject({
      data: {},
    });
    expect(seen.listedFrom).toEqual(['meltano/']);
  });

  it('refuses find where it may not run without even listing the store', async () => {
    const { clients, seen } = findingStore(['meltano/a']);
    const reading = createStoreValues(clients, limits).read(
      store,
      finding({ path: 'meltano/' }),
      { kind: 'names-only' },
      signal(),
    );
    await expect(reading).rejects.toThrow(RemoteNotAllowed);
    expect(seen).toEqual({ lists: 0, reads: [], checked: [], listedFrom: [] });
  });

  it('looks the secrets up again when checking versions, so a new matching secret is noticed at refresh', async () => {
    const names = ['meltano/a'];
    const { clients, seen } = findingStore(names);
    const values = createStoreValues(clients, limits);
    const reference = finding({ path: 'meltano/' });
    expect(await values.versions(store, reference, { kind: 'any' }, signal())).toEqual({ 'meltano/a': 'v1' });
    names.push('meltano/b');
    expect(await values.versions(store, reference, { kind: 'any' }, signal())).toEqual({
      'meltano/a': 'v1',
      'meltano/b': 'v1',
    });
    expect(seen.lists).toBe(2);
    expect(seen.reads).toEqual([]);
  });

  it('reports a found name that is no Secret key even after conversion, by name', async () => {
    const { clients } = findingStore(['..hidden']);
    const reading = createStoreValues(clients, limits).read(
      store,
      finding({ path: '.' }),
      { kind: 'any' },
      signal(),
    );
    await expect(reading).rejects.toThrow(InvalidReference);
    await expect(reading).rejects.toThrow('remote secret "..hidden" has the key "..hidden"');
  });

  it('refuses a plain reference outside the scope before the store client is even made', async () => {
    const clients = {
      clientFor: async () => {
        throw new Error('the store must not be reached');
      },
    } as unknown as StoreClients;
    const reading = createStoreValues(clients, limits).read(
      store,
      referenceWith(['platform/root']),
      { kind: 'listed', names: ['shared/warehouse'], prefixes: [] },
      signal(),
    );
    await expect(reading).rejects.toThrow(RemoteNotAllowed);
  });
});
