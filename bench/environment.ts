// Measures the test environment: the warm start (binaries cached) of everything startEnvironment starts, and
// its teardown, several times; with --cold also a cold build of the control-plane binaries (empty Go build
// cache, modules already downloaded), which takes minutes and keeps every core busy.
// Usage: node bench/environment.ts [--runs=3] [--cold] [--write=docs/benchmarks.md]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureComponent } from '../test/env/build.ts';
import { controlPlaneComponents } from '../test/env/components.ts';
import { startEnvironment } from '../test/env/environment.ts';
import { consoleProgress, formatDuration } from '../test/env/progress.ts';
import {
  argument,
  describeMachine,
  machineNow,
  markdown,
  median,
  numberArgument,
  waitForQuietMachine,
  writeSection,
} from './report.ts';

const runs = numberArgument('runs', 3);
const cold = process.argv.includes('--cold');
const reportFile = argument('write', '');
const progress = consoleProgress('[bench]');
await waitForQuietMachine(progress.note);
const machine = machineNow();
const rows: string[] = [];

if (cold) {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-cold-build-'));
  process.env.SECRETLINK_CACHE_DIR = path.join(scratch, 'bin-cache');
  process.env.GOCACHE = path.join(scratch, 'go-build-cache');
  try {
    for (const component of controlPlaneComponents) {
      const started = Date.now();
      await ensureComponent(component, progress);
      rows.push(
        `| cold build of ${component.name} ${component.version} (empty Go build cache) | ${formatDuration(Date.now() - started)} | | |`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    delete process.env.SECRETLINK_CACHE_DIR;
    delete process.env.GOCACHE;
  }
}

const starts: number[] = [];
const stops: number[] = [];
for (let run = 1; run <= runs; run++) {
  await waitForQuietMachine(progress.note);
  const load = os.loadavg()[0] ?? 0;
  const started = Date.now();
  const environment = await startEnvironment(progress);
  starts.push(Date.now() - started);
  const stopping = Date.now();
  await environment.stop();
  stops.push(Date.now() - stopping);
  rows.push(
    `| warm start, run ${run} | ${formatDuration(starts.at(-1)!)} | ${formatDuration(stops.at(-1)!)} | ${load.toFixed(2)} |`,
  );
}
rows.push(
  `| **warm start, median of ${runs}** | **${formatDuration(median(starts))}** | **${formatDuration(median(stops))}** | |`,
);

const table = [
  '| measurement | start | stop | 1-min load average before |',
  '| --- | ---: | ---: | ---: |',
  ...rows,
].join('\n');
console.log(table);
if (reportFile) {
  await writeSection(
    reportFile,
    'environment',
    markdown([
      '## Environment: warm start',
      'What: `startEnvironment` (test/env/environment.ts) with every binary already built and cached, as ' +
        '`make test` and `make run` start it: a fresh run folder and certificates, etcd, kube-apiserver (until ' +
        '`/readyz`), kube-controller-manager, kube-scheduler and kwok, until both simulated nodes are Ready and ' +
        'the `default` ServiceAccount exists; meanwhile moto, the GCP Secret Manager emulator and a Vault dev ' +
        'server, whose Kubernetes auth is configured once the API server is up. "Start" runs until all of ' +
        'these answer; "stop" is `environment.stop()`, which stops every server and removes the run folder.',
      cold
        ? 'Cold builds use an empty Go build cache and a scratch binary cache; the Go modules were already downloaded.'
        : 'Cold builds were not measured in this run (`--cold`); docs/testing.md has earlier figures.',
      `How: \`node bench/environment.ts --write=docs/benchmarks.md\` (options \`--runs=${runs}\`, \`--cold\`, \`--quiet-load\`); ` +
        'before each start it waits (up to 5 minutes) for the 1-minute load average to drop under `--quiet-load` (1.5).',
      describeMachine(machine),
      table,
    ]),
  );
  progress.step(`wrote the environment section of ${reportFile}`);
}
