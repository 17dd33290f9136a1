// The cases every provider passes against its real server: the same reads, the same failures, the same
// economy. A provider-specific test file calls runConformance with its fixture.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import util from 'node:util';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type {
  AnySecretStore,
  DataEntry,
  Decoding,
  KeyRewrite,
  SecretReference,
  SecretTemplate,
} from '../../src/api/types.ts';
import { TemplateError } from '../../src/controller/secret-template.ts';
import { createStoreValues } from '../../src/controller/store-values.ts';
import {
  AccessDenied,
  InvalidReference,
  isProviderError,
  LimitExceeded,
  NotFound,
  Unavailable,
} from '../../src/providers/errors.ts';
import { providerCallCount, providerMetricsRegistry } from '../../src/providers/metrics.ts';
import { StoreClients } from '../../src/providers/store-clients.ts';
import type { StoreObject } from '../../src/providers/store-spec.ts';
import type { ClientTuning, StoreClient } from '../../src/providers/types.ts';
import { findCases } from './find-cases.ts';
import type { ConformanceFixture, ConformanceSupport } from './fixture.ts';

export interface ConformanceOptions {
  name: string;
  /** Optional cases this provider's server can run; known before the fixture exists, as cases are declared first. */
  supports: ConformanceSupport;
  create: () => Promise<ConformanceFixture>;
}

export function runConformance({ name, supports, create }: ConformanceOptions) {
  describe(`${name} conformance`, () => {
    let fixture: ConformanceFixture;
    const opened: StoreClients[] = [];

    beforeAll(async () => {
      fixture = await create();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((clients) => clients.close()));
    });
    afterAll(async () => {
      await fixture?.close();
    });

    /** A client for `store` with the cache off unless a case asks for it, so every read reaches the server. */
    async function clientFor(store: StoreObject, tuning: Partial<ClientTuning> = {}): Promise<StoreClient> {
      const clients = new StoreClients({
        credentials: fixture.credentials,
        tuning: { cacheTtlMs: 0, floatingCacheTtlMs: 0, timeoutMs: 5_000, ...tuning },
      });
      opened.push(clients);
      return clients.clientFor(store);
    }
    const client = (tuning?: Partial<ClientTuning>) => clientFor(fixture.store(), tuning);
    const unique = (what: string) => `conf-${what}-${randomBytes(4).toString('hex')}`;

    findCases(() => fixture, supports, opened);

    it('reads a plain string with the version the store gave it', async () => {
      const name = unique('plain');
      const stored = await fixture.put(name, 'correct horse battery staple');
      // A Vault secret is a map of strings: the fixture keeps a plain string under the key `value`.
      const resolved = await (await client()).resolve(
        supports.binary ? { name } : { name, property: 'value' },
      );
      expect(resolved.value.toString()).toBe('correct horse battery staple');
      expect(resolved.versionId).toBe(stored.versionId);
    });

    it('reads one property of a JSON value', async () => {
      const name = unique('json');
      await fixture.put(name, JSON.stringify({ username: 'etl', password: 's3cret' }));
      const resolved = await (await client()).resolve({ name, property: 'password' });
      expect(resolved.value.toString()).toBe('s3cret');
    });

    it('reads a nested property with a dotted path', async () => {
      const name = unique('nested');
      await fixture.put(name, JSON.stringify({ db: { credentials: { password: 'deep' }, port: 5432 } }));
      const store = await client();
      expect((await store.resolve({ name, property: 'db.credentials.password' })).value.toString()).toBe(
        'deep',
      );
      expect((await store.resolve({ name, property: 'db.port' })).value.toString()).toBe('5432');
    });

    it('reads every top-level property for dataFrom, non-strings as JSON', async () => {
      const name = unique('all');
      const stored = await fixture.put(
        name,
        JSON.stringify({ user: 'etl', port: 5432, tls: { verify: true } }),
      );
      const all = await (await client()).resolveAll({ name });
      expect(
        Object.fromEntries(Object.entries(all.values).map(([key, value]) => [key, value.toString()])),
      ).toEqual({
        user: 'etl',
        port: '5432',
        tls: '{"verify":true}',
      });
      expect(all.versionId).toBe(stored.versionId);
    });

    it('returns big integers and object values as the exact text the store holds', async () => {
      const name = unique('exact');
      const stored = '{"id": 12345678901234567890, "ratio": 1.50, "cfg": {  "b": 1,\n "a": [1, 2] }}';
      await fixture.put(name, stored);
      const store = await client();
      const read = async (property: string) => (await store.resolve({ name, property })).value.toString();
      const all = await store.resolveAll({ name });
      if (supports.binary) {
        expect(await read('id')).toBe('12345678901234567890');
        expect(all.values.id?.toString()).toBe('12345678901234567890');
        expect(await read('ratio')).toBe('1.50');
        expect(await read('cfg')).toBe('{  "b": 1,\n "a": [1, 2] }');
        expect(all.values.cfg?.toString()).toBe('{  "b": 1,\n "a": [1, 2] }');
      } else {
        // Vault parses what it is given and answers with its own serialization: keys sorted, no spacing, and
        // numbers as 64-bit floats (the fixture sends the text above as written, so the loss is Vault's).
        expect(await read('id')).toBe('12345678901234567000');
        expect(await read('ratio')).toBe('1.5');
        expect(await read('cfg')).toBe('{"a":[1,2],"b":1}');
        expect(all.values.cfg?.toString()).toBe('{"a":[1,2],"b":1}');
      }
    });

    it('reads a literal dotted key before the nested path, an escaped dot as one name, and array indexes', async () => {
      const name = unique('paths');
      await fixture.put(
        name,
        JSON.stringify({
          'a.b': 'literal',
          a: { b: 'nested' },
          'c.d': 'escaped',
          c: { d: 'not-this' },
          friends: [{ first: 'ann' }, { first: 'bob' }],
        }),
      );
      const store = await client();
      const read = async (property: string) => (await store.resolve({ name, property })).value.toString();
      expect(await read('a.b')).toBe('literal');
      expect(await read('c\\.d')).toBe('escaped');
      expect(await read('friends.1.first')).toBe('bob');
      const error = await failure(store.resolve({ name, property: 'friends\\.1' }));
      expect(error).toBeInstanceOf(NotFound);
    });

    /** Reads a SecretReference's values as the operator does before writing the Secret. */
    async function secretData(
      data: DataEntry[],
      dataFrom?: { name: string; decoding?: Decoding; rewrite?: KeyRewrite[] },
      template?: SecretTemplate,
    ) {
      const clients = new StoreClients({
        credentials: fixture.credentials,
        tuning: { cacheTtlMs: 0, floatingCacheTtlMs: 0, timeoutMs: 5_000 },
      });
      opened.push(clients);
      const reference: SecretReference = {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretReference',
        metadata: { name: 'decoding', namespace: 'conformance' },
        spec: {
          storeRef: { name: 'conformance' },
          data,
          ...(dataFrom && {
            dataFrom: [
              {
                remote: { name: dataFrom.name },
                decoding: dataFrom.decoding,
                ...(dataFrom.rewrite && { rewrite: dataFrom.rewrite }),
              },
            ],
          }),
          ...(template && { target: { template } }),
          consumers: { matchLabels: { app: 'conformance' } },
        },
      };
      const read = await createStoreValues(clients).read(
        fixture.store() as AnySecretStore,
        reference,
        { kind: 'any' },
        AbortSignal.timeout(10_000),
      );
      return read.data;
    }

    it('decodes base64, base64url and auto into bytes, and keeps values with none', async () => {
      const name = unique('decode');
      const bytes = Buffer.from([0xfb, 0xff, 0x00, 0x3e, 0x3f, 0x80]);
      await fixture.put(
        name,
        JSON.stringify({
          standard: bytes.toString('base64'),
          wrapped: `${bytes.toString('base64').slice(0, 4)}\n${bytes.toString('base64').slice(4)}\n`,
          url: bytes.toString('base64url'),
          password: 'correct horse',
        }),
      );
      const entry = (key: string, property: string, decoding?: Decoding): DataEntry => ({
        key,
        remote: { name, property },
        ...(decoding && { decoding }),
      });
      const data = await secretData([
        entry('base64', 'standard', 'base64'),
        entry('wrapped', 'wrapped', 'base64'),
        entry('base64url', 'url', 'base64url'),
        entry('auto', 'url', 'auto'),
        entry('auto-text', 'password', 'auto'),
        entry('none', 'standard', 'none'),
        entry('default', 'standard'),
      ]);
      expect(data.base64?.equals(bytes)).toBe(true);
      expect(data.wrapped?.equals(bytes)).toBe(true);
      expect(data.base64url?.equals(bytes)).toBe(true);
      expect(data.auto?.equals(bytes)).toBe(true);
      expect(data['auto-text']?.toString()).toBe('correct horse');
      expect(data.none?.toString()).toBe(bytes.toString('base64'));
      expect(data.default?.toString()).toBe(bytes.toString('base64'));

      const spread = await secretData([entry('password', 'password')], { name, decoding: 'auto' });
      expect(spread.standard?.equals(bytes)).toBe(true);
      expect(spread.url?.equals(bytes)).toBe(true);
      expect(spread.password?.toString()).toBe('correct horse');
    });

    it('rewrites dataFrom keys "my key" and "path/like" into TAP_POSTGRES_ env var names', async () => {
      const name = unique('rewrite');
      await fixture.put(name, JSON.stringify({ 'my key': 'one', 'path/like': 'two', host: 'db' }));
      const data = await secretData([], {
        name,
        rewrite: [
          { regexp: { source: '[^A-Za-z0-9]+', target: '_' } },
          { case: 'upper' },
          { prefix: 'TAP_POSTGRES_' },
        ],
      });
      expect(Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value.toString()]))).toEqual(
        { TAP_POSTGRES_MY_KEY: 'one', TAP_POSTGRES_PATH_LIKE: 'two', TAP_POSTGRES_HOST: 'db' },
      );
    });

    it('renders target.template from the values read: a URL, a profiles.yml, a dockerconfigjson, Merge', async () => {
      const name = unique('template');
      const password = `p@ss:w/rd ${randomBytes(3).toString('hex')}'"`;
      await fixture.put(
        name,
        JSON.stringify({ user: 'loader', password, host: 'db.internal', 'db.name': 'analytics', port: 5432 }),
      );
      const property = (key: string, path = key): DataEntry => ({ key, remote: { name, property: path } });
      const data = await secretData(
        [property('registry-token', 'password')],
        { name },
        {
          data: {
            DATABASE_URL:
              'postgresql://{{ user | url_encode }}:{{ password | url_encode }}@{{ host }}:{{ port }}/{{ ["db.name"] }}',
            'profiles.yml':
              'warehouse:\n  outputs:\n    prod:\n      user: {{ user | yaml }}\n      pass: {{ password | yaml }}\n',
            '.dockerconfigjson':
              '{"auths": {"ghcr.io": {"auth": {{ user | append: ":" | append: registry-token | base64_encode | json }}}}}',
            user: 'override',
          },
          mergePolicy: 'Merge',
        },
      );
      const text = (key: string) => data[key]?.toString('utf8');
      const url = new URL(text('DATABASE_URL')!);
      expect([url.hostname, url.port, url.pathname, decodeURIComponent(url.password)]).toEqual([
        'db.internal',
        '5432',
        '/analytics',
        password,
      ]);
      expect(parseYaml(text('profiles.yml')!).warehouse.outputs.prod).toEqual({
        user: 'loader',
        pass: password,
      });
      expect(JSON.parse(text('.dockerconfigjson')!).auths['ghcr.io'].auth).toBe(
        Buffer.from(`loader:${password}`).toString('base64'),
      );
      // Merge: the resolved keys are written too, and a templated key wins over a resolved one.
      expect(text('password')).toBe(password);
      expect(text('user')).toBe('override');

      const replaced = await secretData([], { name }, { data: { DSN: '{{ host }}:{{ port }}' } });
      expect(Object.keys(replaced)).toEqual(['DSN']);
      expect(replaced.DSN?.toString()).toBe('db.internal:5432');
    });

    it('reports a failing template by key and kind, never the value it read', async () => {
      const name = unique('template-fails');
      const canary = `CANARY${randomBytes(6).toString('hex')}`;
      await fixture.put(name, JSON.stringify({ password: canary }));
      const error = await secretData(
        [],
        { name },
        { data: { dsn: 'user=loader\npassword={{ host[password] }}' } },
      ).then(
        () => new Error('the template rendered'),
        (thrown: Error) => thrown,
      );
      expect(error).toBeInstanceOf(TemplateError);
      expect(error.message).toBe(
        'target.template key "dsn": undefined variable (a value is reached by its Secret key; ' +
          'a key that is not a Liquid name as ["my.key"]); the template reads "host", which no key is named',
      );
      expect(util.inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(
        canary,
      );
    });

    it('refuses a value that does not decode with an error naming the key, never the value', async () => {
      const name = unique('undecodable');
      const canary = `CANARY${randomBytes(6).toString('hex')}!`;
      await fixture.put(name, JSON.stringify({ password: canary }));
      const error = await failure(
        secretData([
          { key: 'warehouse-password', remote: { name, property: 'password' }, decoding: 'base64' },
        ]),
      );
      expect(error).toBeInstanceOf(InvalidReference);
      expect(error.message).toBe(
        `the value for key "warehouse-password" from "${name}" is not valid base64 (decoding: base64)`,
      );
      expect(util.inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(
        canary,
      );
    });

    it('keeps binary values as bytes, or stores text where the store holds only text', async () => {
      const name = unique('binary');
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
      if (supports.binary) {
        await fixture.put(name, bytes);
        expect((await (await client()).resolve({ name })).value.equals(bytes)).toBe(true);
      } else {
        // Vault keeps strings: binary data is stored base64-encoded and comes back as that text.
        await fixture.put(name, JSON.stringify({ blob: bytes.toString('base64') }));
        const resolved = await (await client()).resolve({ name, property: 'blob' });
        expect(Buffer.from(resolved.value.toString(), 'base64').equals(bytes)).toBe(true);
      }
    });

    it('reads a specific older version after a rotation', async () => {
      const name = unique('versions');
      const first = await fixture.put(name, JSON.stringify({ password: 'first' }));
      await fixture.put(name, JSON.stringify({ password: 'second' }));
      const resolved = await (await client()).resolve({ name, property: 'password', version: first.version });
      expect([resolved.value.toString(), resolved.versionId]).toEqual(['first', first.versionId]);
    });

    it('reads the new value as latest once a rotation is seen, even from a warm cache', async () => {
      const name = unique('rotate');
      await fixture.put(name, JSON.stringify({ password: 'before' }));
      const store = await client({ cacheTtlMs: 60_000, floatingCacheTtlMs: 60_000 });
      expect((await store.resolve({ name, property: 'password', version: 'latest' })).value.toString()).toBe(
        'before',
      );
      const rotated = await fixture.put(name, JSON.stringify({ password: 'after' }));
      // The refresh check: learns the new version without reading it, and drops what was cached.
      expect(await store.exists({ name })).toEqual({ exists: true, versionId: rotated.versionId });
      const after = await store.resolve({ name, property: 'password', version: 'latest' });
      expect([after.value.toString(), after.versionId]).toEqual(['after', rotated.versionId]);
    });

    it('checks existence without reading the value', async () => {
      const name = unique('exists');
      const stored = await fixture.put(name, 'present');
      const store = await client();
      const reads = await providerCallCount(fixture.provider, 'get');
      expect(await store.exists({ name })).toEqual({ exists: true, versionId: stored.versionId });
      expect(await store.exists({ name: unique('absent') })).toEqual({ exists: false });
      expect(await providerCallCount(fixture.provider, 'get')).toBe(reads);
    });

    it('reports a missing secret as NotFound', async () => {
      const error = await failure((await client()).resolve({ name: unique('missing') }));
      expect(error).toBeInstanceOf(NotFound);
      expect(error.retryable).toBe(false);
    });

    it('reports a missing property as NotFound', async () => {
      const name = unique('noprop');
      await fixture.put(name, JSON.stringify({ username: 'etl' }));
      const error = await failure((await client()).resolve({ name, property: 'password' }));
      expect(error).toBeInstanceOf(NotFound);
      expect(error.message).toContain('"password"');
    });

    it('refuses a property of a value that is not JSON', async () => {
      const name = unique('notjson');
      // Vault values are always a JSON map, so its case selects a property of a string inside one.
      const value = supports.binary ? 'just text' : JSON.stringify({ text: 'just text' });
      await fixture.put(name, value);
      const property = supports.binary ? 'password' : 'text.password';
      const error = await failure((await client()).resolve({ name, property }));
      expect(error).toBeInstanceOf(supports.binary ? InvalidReference : NotFound);
    });

    if (supports.accessDenied) {
      it('reports a read the store refuses as AccessDenied', async () => {
        const name = unique('denied');
        await fixture.put(name, 'not for you');
        const denied = await fixture.deniedStore!(name);
        const attempt = () => clientFor(denied).then((store) => store.resolve({ name }));
        const error = await failure(
          fixture.enforcingPermissions ? fixture.enforcingPermissions(attempt) : attempt(),
        );
        expect(error).toBeInstanceOf(AccessDenied);
        expect(error.retryable).toBe(false);
      });
    }

    it('reports a server that is down as Unavailable, and retryable', async () => {
      const port = await closedPort();
      const started = Date.now();
      const error = await failure(
        clientFor(fixture.storeAt('127.0.0.1', port)).then((s) => s.resolve({ name: 'x' })),
      );
      expect(error).toBeInstanceOf(Unavailable);
      expect(error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('gives up on a server that accepts connections and never answers', async () => {
      const silent = await silentServer();
      try {
        const store = await clientFor(fixture.storeAt('127.0.0.1', silent.port), { timeoutMs: 750 });
        const started = Date.now();
        const error = await failure(store.resolve({ name: 'x' }));
        expect(error).toBeInstanceOf(Unavailable);
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(silent.connections()).toBeGreaterThan(0);
      } finally {
        await silent.close();
      }
    });

    it('refuses an answer larger than --max-response-bytes, and reads it under a larger limit', async () => {
      const name = unique('large');
      // Under the 64 KiB that AWS and GCP allow for a secret; over the limit this client is given.
      const value = JSON.stringify({ user: 'etl', blob: 'x'.repeat(48 * 1024) });
      await fixture.put(name, value);
      const error = await failure(
        (await client({ maxResponseBytes: 16 * 1024 })).resolve({ name, property: 'user' }),
      );
      expect(error).toBeInstanceOf(LimitExceeded);
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/the limit for one answer \(--max-response-bytes\)$/);
      const resolved = await (await client()).resolve({ name, property: 'user' });
      expect(resolved.value.toString()).toBe('etl');
    });

    it('makes one provider call for 100 concurrent reads of one secret', async () => {
      const name = unique('burst');
      await fixture.put(name, JSON.stringify({ password: 'shared' }));
      const store = await client();
      const before = await providerCallCount(fixture.provider, 'get');
      const results = await Promise.all(
        Array.from({ length: 100 }, () => store.resolve({ name, property: 'password' })),
      );
      expect(results.every((result) => result.value.toString() === 'shared')).toBe(true);
      expect((await providerCallCount(fixture.provider, 'get')) - before).toBe(1);
    });

    if (supports.batch) {
      it('reads several secrets in one batch call', async () => {
        const names = await Promise.all(
          [1, 2, 3, 4, 5].map(async (index) => {
            const name = unique(`batch${index}`);
            await fixture.put(name, `value-${index}`);
            return name;
          }),
        );
        const store = await client({ cacheTtlMs: 10_000, floatingCacheTtlMs: 10_000 });
        const before = await providerCallCount(fixture.provider);
        const results = await store.resolveMany(names.map((name) => ({ name })));
        expect(
          results.map((result) => (result.status === 'fulfilled' ? result.value.value.toString() : 'x')),
        ).toEqual(['value-1', 'value-2', 'value-3', 'value-4', 'value-5']);
        expect((await providerCallCount(fixture.provider)) - before).toBe(1);
        expect(await providerCallCount(fixture.provider, 'batchGet')).toBeGreaterThan(0);
      });
    }

    it('never lets a secret value or a credential into an error, a log line or a metric', async () => {
      const canary = `CANARY${randomBytes(12).toString('hex')}`;
      const captured: string[] = [];
      const logger = pino({ level: 'trace' }, { write: (line: string) => captured.push(line) });
      const restore = captureOutput(captured);
      const errors: unknown[] = [];
      try {
        const clients = new StoreClients({
          credentials: fixture.credentials,
          logger,
          tuning: { cacheTtlMs: 0, floatingCacheTtlMs: 0 },
        });
        opened.push(clients);
        const store = await clients.clientFor(fixture.store());

        const plain = unique('canary');
        await fixture.put(plain, supports.binary ? canary : JSON.stringify({ text: canary }));
        const nested = unique('canaryjson');
        await fixture.put(nested, JSON.stringify({ password: canary, list: [canary] }));
        const attempts: (() => Promise<unknown>)[] = [
          () => store.resolve({ name: plain, property: 'password' }),
          () => store.resolve({ name: plain, property: 'text.password' }),
          () => store.resolveAll({ name: supports.binary ? plain : unique('absent') }),
          () => store.resolve({ name: nested, property: 'password.inner' }),
          () => store.resolve({ name: nested, property: 'list.1' }),
          () => store.resolve({ name: nested, version: 'not a version' }),
        ];
        const refused = await fixture.storeWithCredential(canary);
        const withCanary = () => clients.clientFor(refused).then((bad) => bad.resolve({ name: nested }));
        attempts.push(() =>
          fixture.enforcingPermissions ? fixture.enforcingPermissions(withCanary) : withCanary(),
        );
        for (const attempt of attempts) {
          errors.push(
            await attempt().then(
              () => undefined,
              (error: unknown) => error,
            ),
          );
        }
      } finally {
        restore();
      }
      const thrown = errors.filter((error) => error !== undefined);
      // The reads above that cannot succeed must fail with typed errors: otherwise this test proves nothing.
      expect(thrown.length).toBeGreaterThanOrEqual(5);
      expect(thrown.every(isProviderError)).toBe(true);
      const emitted = [
        ...thrown.flatMap((error) => [
          String(error),
          (error as Error).stack ?? '',
          JSON.stringify(error),
          util.inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        ]),
        ...captured,
        await providerMetricsRegistry.metrics(),
      ];
      for (const text of emitted) expect(text).not.toContain(canary);
    });
  });
}

async function failure(promise: Promise<unknown>) {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isProviderError(outcome)) throw new Error(`expected a provider error, got ${util.inspect(outcome)}`);
  return outcome;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real loopback TCP server that accepts every connection and never sends a byte. */
async function silentServer() {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Copies everything written to stdout and stderr into `into` until the returned function is called. */
function captureOutput(into: string[]): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, index) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (originals[index] as (chunk: string | Uint8Array, ...rest: never[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });
  return () => {
    streams.forEach((stream, index) => {
      stream.write = originals[index] as typeof stream.write;
    });
  };
}
