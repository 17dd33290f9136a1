// Provider calls and resolution latency for 1,000 resolutions over 100 remote secrets, per provider, with the
// value cache on (default tuning) and off, against the test environment's real store servers.
// Usage: node bench/providers.ts [--resolutions=1000] [--secrets=100] [--concurrency=20] [--write=docs/benchmarks.md]
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Counter } from 'prom-client';
import { providerCacheLookups, providerCalls } from '../src/providers/metrics.ts';
import { StoreClients } from '../src/providers/store-clients.ts';
import type { ProviderName, StoreObject } from '../src/providers/store-spec.ts';
import { defaultTuning } from '../src/providers/types.ts';
import { startEnvironment } from '../test/env/environment.ts';
import { consoleProgress } from '../test/env/progress.ts';
import { gcpEmulatorClient, motoClient } from '../test/env/stores/clients.ts';
import type { StoreCoordinates } from '../test/env/stores/coordinates.ts';
import {
  awsStoreSpec,
  gcpCredentials,
  gcpStoreSpec,
  vaultStoreSpec,
} from '../test/env/stores/store-specs.ts';
import { MemoryCredentialSource } from '../test/support/memory-credentials.ts';
import {
  argument,
  describeMachine,
  machineNow,
  markdown,
  numberArgument,
  percentile,
  waitForQuietMachine,
  writeSection,
} from './report.ts';

const resolutions = numberArgument('resolutions', 1000);
const secretCount = numberArgument('secrets', 100);
const concurrency = numberArgument('concurrency', 20);
const reportFile = argument('write', '');
const progress = consoleProgress('[bench]');

interface Row {
  provider: ProviderName;
  cache: 'on' | 'off';
  /** Store calls by operation (get, batchGet, login, renew, ...). */
  calls: Record<string, number>;
  /** Value-cache lookups by result: hit, shared (joined a call in flight), miss. */
  lookups: Record<string, number>;
  errors: number;
  median: number;
  p99: number;
  mean: number;
  wall: number;
}

await waitForQuietMachine(progress.note);
const machine = machineNow();
const environment = await startEnvironment(progress);
const rows: Row[] = [];
try {
  const { stores } = environment.info;
  const run = randomBytes(3).toString('hex');
  const names = Array.from({ length: secretCount }, (_, index) => `bench-${run}-${index}`);
  for (const provider of ['aws', 'gcp', 'vault'] as const) {
    progress.step(`seeding ${secretCount} secrets in ${provider}`);
    const { store, credentials } = await prepare(provider, stores, names);
    for (const cache of ['on', 'off'] as const) {
      const row = await measure(provider, cache, store, credentials, names);
      rows.push(row);
      progress.note(
        `${provider}, cache ${cache}: ${total(row.calls)} store calls, median ${row.median.toFixed(2)} ms, ` +
          `p99 ${row.p99.toFixed(2)} ms`,
      );
    }
  }
} finally {
  await environment.stop();
}

const table = [
  '| provider | cache | store calls | of which reads | of which auth | cache hit / shared / miss | median | p99 | mean | wall time |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((row) => {
    const reads = (row.calls.get ?? 0) + (row.calls.batchGet ?? 0);
    const auth = (row.calls.login ?? 0) + (row.calls.renew ?? 0);
    const lookups = ['hit', 'shared', 'miss'].map((result) => row.lookups[result] ?? 0).join(' / ');
    return (
      `| ${row.provider} | ${row.cache} | ${total(row.calls)} | ${reads} | ${auth} | ${lookups} | ` +
      `${row.median.toFixed(2)} ms | ${row.p99.toFixed(2)} ms | ${row.mean.toFixed(2)} ms | ${row.wall.toFixed(0)} ms |`
    );
  }),
].join('\n');
console.log(table);
const failed = rows.reduce((sum, row) => sum + row.errors, 0);
if (failed > 0) throw new Error(`${failed} resolutions failed; not writing results`);
if (reportFile) {
  await writeSection(reportFile, 'providers', sectionText(table));
  progress.step(`wrote the providers section of ${reportFile}`);
}

async function measure(
  provider: ProviderName,
  cache: 'on' | 'off',
  store: StoreObject,
  credentials: MemoryCredentialSource,
  names: string[],
): Promise<Row> {
  const tuning = cache === 'on' ? {} : { cacheTtlMs: 0, floatingCacheTtlMs: 0 };
  const clients = new StoreClients({ credentials, tuning });
  try {
    // Building the client makes no store call; a login (Vault) happens on the first read and is counted.
    const client = await clients.clientFor(store);
    const callsBefore = await countsBy(providerCalls, provider, 'operation');
    const lookupsBefore = await countsBy(providerCacheLookups, provider, 'result');
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    const started = performance.now();
    // `concurrency` workers take resolutions in order; resolution i reads a property of secret i mod secrets,
    // so every secret is read resolutions / secrets times, the reads of one secret spread over the run.
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < resolutions) {
          const index = next++;
          const name = names[index % names.length]!;
          const begun = performance.now();
          try {
            const { value } = await client.resolve({ name, property: 'password' });
            if (value.toString() !== `${name}-password`) throw new Error(`wrong value for ${name}`);
          } catch (error) {
            errors++;
            if (errors <= 3) progress.note(`${provider}: resolving ${name} failed: ${String(error)}`);
          }
          latencies.push(performance.now() - begun);
        }
      }),
    );
    const wall = performance.now() - started;
    latencies.sort((a, b) => a - b);
    return {
      provider,
      cache,
      calls: difference(await countsBy(providerCalls, provider, 'operation'), callsBefore),
      lookups: difference(await countsBy(providerCacheLookups, provider, 'result'), lookupsBefore),
      errors,
      median: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      mean: latencies.reduce((sum, latency) => sum + latency, 0) / latencies.length,
      wall,
    };
  } finally {
    await clients.close();
  }
}

/** A counter's values for one provider, summed by one label. */
async function countsBy<L extends string>(
  counter: Counter<L>,
  provider: ProviderName,
  label: L,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const sample of (await counter.get()).values) {
    const labels = sample.labels as Record<string, string | number | undefined>;
    if (labels.provider !== provider) continue;
    const key = String(labels[label]);
    counts[key] = (counts[key] ?? 0) + sample.value;
  }
  return counts;
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, value) => sum + value, 0);
}

/** Seeds the secrets and returns a store that reads them, with its credentials held in memory. */
async function prepare(
  provider: ProviderName,
  stores: StoreCoordinates,
  names: string[],
): Promise<{ store: StoreObject; credentials: MemoryCredentialSource }> {
  const credentials = new MemoryCredentialSource();
  const value = (name: string) => JSON.stringify({ username: 'etl', password: `${name}-password` });
  const metadata = { name: `bench-${provider}`, namespace: 'bench', uid: `bench-${provider}`, generation: 1 };
  const entry = `SecretStore/${metadata.name}`;
  if (provider === 'aws') {
    const admin = motoClient(stores.aws);
    for (const name of names)
      await admin.send(new CreateSecretCommand({ Name: name, SecretString: value(name) }));
    admin.destroy();
    credentials.put('bench', 'aws-credentials', { id: 'bench', secret: 'bench' }, { allowedStores: [entry] });
    return { store: { kind: 'SecretStore', metadata, spec: awsStoreSpec(stores.aws) }, credentials };
  }
  if (provider === 'gcp') {
    const { projectID } = stores.gcp;
    const admin = gcpEmulatorClient(stores.gcp);
    for (const name of names) {
      await admin.createSecret({
        parent: `projects/${projectID}`,
        secretId: name,
        secret: { replication: { automatic: {} } },
      });
      await admin.addSecretVersion({
        parent: `projects/${projectID}/secrets/${name}`,
        payload: { data: Buffer.from(value(name)) },
      });
    }
    await admin.close();
    credentials.put('bench', 'gcp-credentials', gcpCredentials, { allowedStores: [entry] });
    return { store: { kind: 'SecretStore', metadata, spec: gcpStoreSpec(stores.gcp) }, credentials };
  }
  const { address, rootToken } = stores.vault;
  for (const name of names) {
    const answer = await fetch(new URL(`/v1/${stores.vault.kvV2Mount}/data/${name}`, address), {
      method: 'POST',
      headers: { 'x-vault-token': rootToken, 'content-type': 'application/json' },
      body: JSON.stringify({ data: JSON.parse(value(name)) }),
    });
    if (!answer.ok) throw new Error(`seeding Vault answered ${answer.status}`);
  }
  credentials.put('bench', 'vault-token', { token: rootToken }, { allowedStores: [entry] });
  return { store: { kind: 'SecretStore', metadata, spec: vaultStoreSpec(stores.vault) }, credentials };
}

function sectionText(table: string): string {
  return markdown([
    '## Providers: store calls and resolution latency',
    `What: ${resolutions} resolutions of one JSON property, spread evenly over ${secretCount} remote secrets (each read ` +
      `${resolutions / secretCount} times, the reads of one secret ${secretCount} resolutions apart), ${concurrency} at a time, ` +
      "through the operator's own store clients (`StoreClients`, the same `resolve` a reconcile calls), once per " +
      'provider with the value cache on and once with it off, each time with a new client. The stores are the test ' +
      "environment's real servers on loopback: moto for AWS Secrets Manager, the GCP Secret Manager emulator " +
      '(gRPC), and a Vault dev server (KV v2, token auth).',
    [
      'Cache on is the default tuning: a value read at a moving version (latest, `AWSCURRENT`, as here) is kept ' +
        `${defaultTuning.floatingCacheTtlMs / 1000} s, one read at a fixed version ${defaultTuning.cacheTtlMs / 1000} s. ` +
        'Cache off sets both to 0; concurrent reads of the same version are still collapsed into one call ' +
        '(single flight), which the table counts as "shared".',
      '"Store calls" is the increase of `secretlink_provider_calls_total` for the provider during the run: reads ' +
        '(`get`, `batchGet`) plus authentication (`login`, `renew`; the Vault token is looked up once per ' +
        'client). "Cache hit / shared / miss" is the increase of `secretlink_provider_cache_lookups_total`.',
      'Latency is per resolution, timed around `resolve()`: median, p99 (nearest rank) and mean; wall time is ' +
        'the whole run. Every resolution is checked to return the seeded value.',
    ],
    'How: `node bench/providers.ts --write=docs/benchmarks.md` (options `--resolutions`, `--secrets`, ' +
      '`--concurrency`, `--quiet-load`); it starts and stops the test environment itself, after waiting (up to 5 ' +
      'minutes) for the 1-minute load average to drop under `--quiet-load` (1.5).',
    describeMachine(machine),
    table,
    `Store calls with the cache off for each one with it on: ${(['aws', 'gcp', 'vault'] as const)
      .map((provider) => {
        const [on, off] = (['on', 'off'] as const).map((cache) =>
          total(rows.find((row) => row.provider === provider && row.cache === cache)?.calls ?? {}),
        );
        return `${provider} ${((off ?? 0) / (on || 1)).toFixed(1)}`;
      })
      .join(', ')}.`,
  ]);
}
