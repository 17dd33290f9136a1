// Measures the test environment: a cold build of the control-plane binaries (empty build cache, modules
// already downloaded) with --cold, and the warm start of the control plane, three times.
// Usage: node bench/environment.ts [--cold]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureComponent } from '../test/env/build.ts';
import { controlPlaneComponents } from '../test/env/components.ts';
import { startEnvironment } from '../test/env/environment.ts';
import { consoleProgress, formatDuration } from '../test/env/progress.ts';

const progress = consoleProgress('[bench]');
const rows: string[] = [];

if (process.argv.includes('--cold')) {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-cold-build-'));
  process.env.SECRETLINK_CACHE_DIR = path.join(scratch, 'bin-cache');
  process.env.GOCACHE = path.join(scratch, 'go-build-cache');
  for (const component of controlPlaneComponents) {
    const started = Date.now();
    await ensureComponent(component, progress);
    rows.push(
      `| cold build of ${component.name} ${component.version} | ${formatDuration(Date.now() - started)} |`,
    );
  }
  await rm(scratch, { recursive: true, force: true });
  delete process.env.SECRETLINK_CACHE_DIR;
  delete process.env.GOCACHE;
}

for (let run = 1; run <= 3; run++) {
  const started = Date.now();
  const environment = await startEnvironment(progress);
  const upAfter = Date.now() - started;
  await environment.stop();
  rows.push(
    `| warm start, run ${run} (binaries cached; until every server is ready) | ${formatDuration(upAfter)} |`,
  );
}

console.log(['| measurement | time |', '| --- | --- |', ...rows].join('\n'));
