// The operator's memory while one SecretReference with many entries reads large values from a tenant's Vault:
// the resource-exhaustion case. Each scenario runs the reconcile's own store read (createStoreValues, as the
// operator wires it) against the test environment's Vault dev server, with a new store client, while
// process.memoryUsage() is sampled every few milliseconds. Only this process's memory is measured: the
// stores run as child processes.
// Usage: node --expose-gc bench/exhaustion.ts [--entries=64] [--value-kib=900] [--record=before.json]
//        [--compare=before.json] [--write=docs/benchmarks.md]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { AnySecretStore, SecretReference } from '../src/api/types.ts';
import { createStoreValues } from '../src/controller/store-values.ts';
import { isProviderError } from '../src/providers/errors.ts';
import { providerCalls } from '../src/providers/metrics.ts';
import { StoreClients } from '../src/providers/store-clients.ts';
import type { StoreObject } from '../src/providers/store-spec.ts';
import { startEnvironment } from '../test/env/environment.ts';
import { consoleProgress } from '../test/env/progress.ts';
import { vaultStoreSpec } from '../test/env/stores/store-specs.ts';
import { MemoryCredentialSource } from '../test/support/memory-credentials.ts';
import {
  argument,
  describeMachine,
  formatMiB,
  formatMs,
  machineNow,
  markdown,
  numberArgument,
  waitForQuietMachine,
  writeSection,
} from './report.ts';

const entries = numberArgument('entries', 64);
const valueKiB = numberArgument('value-kib', 900);
const recordFile = argument('record', '');
const compareFile = argument('compare', '');
const reportFile = argument('write', '');
const progress = consoleProgress('[bench]');

interface Row {
  code: string;
  scenario: string;
  outcome: string;
  storeReads: number;
  peakRss: number;
  rssGrowth: number;
  heapAndBuffersGrowth: number;
  wall: number;
}

const scenarios = [
  {
    name: `${entries} entries, each one small property of its own ${valueKiB} KiB secret`,
    property: 'user' as string | undefined,
  },
  { name: `${entries} entries, each a whole ${valueKiB} KiB secret`, property: undefined },
];

await waitForQuietMachine(progress.note);
const machine = machineNow();
// BENCH_CODE labels a run made from an exported tree (no .git), such as the code before the limits.
const code =
  process.env.BENCH_CODE ??
  execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const environment = await startEnvironment(progress);
const rows: Row[] = [];
try {
  const { vault } = environment.info.stores;
  const run = randomBytes(3).toString('hex');
  const names = Array.from({ length: entries }, (_, index) => `exhaustion-${run}-${index}`);
  progress.step(`seeding ${entries} Vault secrets of ${valueKiB} KiB`);
  const blob = 'x'.repeat(valueKiB * 1024);
  for (const name of names) {
    const answer = await fetch(new URL(`/v1/${vault.kvV2Mount}/data/${name}`, vault.address), {
      method: 'POST',
      headers: { 'x-vault-token': vault.rootToken, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { user: 'etl', blob } }),
    });
    if (!answer.ok) throw new Error(`seeding Vault answered ${answer.status}`);
  }
  const credentials = new MemoryCredentialSource();
  credentials.put('bench', 'vault-token', { token: vault.rootToken });
  const store: StoreObject = {
    kind: 'SecretStore',
    metadata: { name: 'tenant-vault', namespace: 'bench', uid: 'bench-vault', generation: 1 },
    spec: vaultStoreSpec(vault),
  };
  for (const scenario of scenarios) {
    progress.step(scenario.name);
    rows.push(await measure(scenario, store, credentials, names));
  }
} finally {
  await environment.stop();
}

const previous: Row[] = compareFile ? JSON.parse(await readFile(compareFile, 'utf8')) : [];
const table = [
  '| code | scenario | outcome | store reads | peak RSS | RSS growth | heap + buffers growth | wall time |',
  '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...[...previous, ...rows].map(
    (row) =>
      `| ${row.code} | ${row.scenario} | ${row.outcome} | ${row.storeReads} | ${formatMiB(row.peakRss)} | ` +
      `${formatMiB(row.rssGrowth)} | ${formatMiB(row.heapAndBuffersGrowth)} | ${formatMs(row.wall)} |`,
  ),
].join('\n');
console.log(table);
if (recordFile) await writeFile(recordFile, JSON.stringify(rows, null, 2));
if (reportFile) {
  await writeSection(
    reportFile,
    'exhaustion',
    markdown([
      '## Resource exhaustion: one reference, many large values',
      `What: the store read of one reconcile (\`createStoreValues(...).read\`, as the operator wires it, with its ` +
        `default limits) for a SecretReference with ${entries} data entries, each naming its own Vault KV v2 ` +
        `secret of ${valueKiB} KiB, against the test environment's Vault dev server (token auth), with a new store ` +
        'client (cold cache) per scenario: the shape of reference that was reported to take the operator past ' +
        'its 384Mi memory limit. `TooLarge` is the Secret size check (1 MiB); `LimitExceeded` names the limit it hit.',
      [
        '"Peak RSS" is the highest RSS sampled from `process.memoryUsage()` every 5 ms during the read; "RSS ' +
          'growth" is that peak minus the RSS just before the read (after a full GC), and "heap + buffers ' +
          'growth" the same for heapUsed + external + arrayBuffers: what the read itself allocated. The RSS ' +
          'before includes the environment set-up and seeding done in the same process, so the growth columns ' +
          'are the ones to compare. Only the benchmark process is measured; the stores run apart.',
        '"Store reads" is the increase of `secretlink_provider_calls_total{operation="get"}` for Vault.',
        'Rows are labelled with the commit they ran on; earlier rows come from `--compare`, a file an earlier ' +
          'run wrote with `--record`.',
      ],
      'How: `node --expose-gc bench/exhaustion.ts --write=docs/benchmarks.md` (options `--entries`, ' +
        '`--value-kib`, `--record=<file>`, `--compare=<file>`, `--quiet-load`).',
      describeMachine(machine),
      table,
    ]),
  );
  progress.step(`wrote the exhaustion section of ${reportFile}`);
}

async function measure(
  scenario: (typeof scenarios)[number],
  store: StoreObject,
  credentials: MemoryCredentialSource,
  names: string[],
): Promise<Row> {
  const clients = new StoreClients({ credentials });
  const values = createStoreValues(clients);
  const reference = {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: { name: 'many-entries', namespace: 'bench', uid: 'bench-reference', generation: 1 },
    spec: {
      storeRef: { name: store.metadata.name },
      data: names.map((name, index) => ({
        key: `value-${index}`,
        remote: { name, ...(scenario.property ? { property: scenario.property } : {}) },
      })),
      consumers: { matchLabels: { app: 'bench' } },
    },
  } as unknown as SecretReference;
  try {
    // Log in before measuring, so the numbers are the reads alone.
    await (await clients.clientFor(store)).exists({ name: names[0]! });
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage();
    const baseline = before.rss;
    const heapBaseline = before.heapUsed + before.external + before.arrayBuffers;
    let peakRss = baseline;
    let peakHeapAndBuffers = heapBaseline;
    const sample = () => {
      const usage = process.memoryUsage();
      peakRss = Math.max(peakRss, usage.rss);
      peakHeapAndBuffers = Math.max(peakHeapAndBuffers, usage.heapUsed + usage.external + usage.arrayBuffers);
    };
    const sampler = setInterval(sample, 5);
    const readsBefore = await vaultReads();
    const started = performance.now();
    let outcome: string;
    try {
      const read = await values.read(
        store as AnySecretStore,
        reference,
        { kind: 'any' },
        new AbortController().signal,
      );
      outcome = `read ${Object.keys(read.data).length} values`;
    } catch (error) {
      // The reason, and the flag when the message names one: the full messages are in the tests.
      outcome = isProviderError(error)
        ? `${error.reason}${/\(--[a-z-]+\)/.exec(error.message)?.[0].replace(/^/, ' ') ?? ''}`
        : `error: ${String(error)}`;
    }
    const wall = performance.now() - started;
    sample();
    clearInterval(sampler);
    return {
      code,
      scenario: scenario.name,
      outcome: outcome.replaceAll('|', '\\|'),
      storeReads: (await vaultReads()) - readsBefore,
      peakRss,
      rssGrowth: peakRss - baseline,
      heapAndBuffersGrowth: peakHeapAndBuffers - heapBaseline,
      wall,
    };
  } finally {
    await clients.close();
  }
}

async function vaultReads(): Promise<number> {
  let total = 0;
  for (const sample of (await providerCalls.get()).values) {
    const labels = sample.labels as Record<string, string | undefined>;
    if (labels.provider === 'vault' && labels.operation === 'get') total += sample.value;
  }
  return total;
}
