// `npm test`: the unit and integration projects, and beside them the end-to-end project on the real node. The
// end-to-end suite spends most of its minutes waiting on real containers (a CronJob's next minute, a running
// Job) and starts its own environment, so running it beside the rest shares nothing and saves those minutes
// (docs/testing.md, "A first run and its budget"). Its lines are prefixed with [e2e].
//
// SECRETLINK_TEST_SHARDS=2 also splits the unit and integration projects in two vitest shards, each with its
// own environment (lines of the second prefixed with [shard 2]): faster, but one timing-sensitive test was seen
// failing under that load, so it is not the default. SECRETLINK_E2E_AFTER=1 runs the end-to-end project after
// the rest instead of beside it.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const shards = Number(process.env.SECRETLINK_TEST_SHARDS ?? 1);
if (!Number.isInteger(shards) || shards < 1) {
  console.error(
    `SECRETLINK_TEST_SHARDS must be a whole number of at least 1, not ${process.env.SECRETLINK_TEST_SHARDS}`,
  );
  process.exit(2);
}

function vitest(args, prefix) {
  return new Promise((resolve) => {
    const child = spawn('vitest', ['run', ...args], {
      stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (prefix) {
      for (const [stream, out] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ]) {
        readline.createInterface({ input: stream }).on('line', (line) => out.write(`${prefix} ${line}\n`));
      }
    }
    child.on('error', (error) => {
      console.error(`cannot start vitest: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const suites = Array.from({ length: shards }, (_, index) => ({
  name: shards === 1 ? 'unit and integration' : `unit and integration, shard ${index + 1} of ${shards}`,
  args: [
    '--project',
    'unit',
    '--project',
    'integration',
    ...(shards === 1 ? [] : [`--shard=${index + 1}/${shards}`]),
  ],
  prefix: index === 0 ? undefined : `[shard ${index + 1}]`,
}));
const endToEnd = { name: 'end to end', args: ['--project', 'e2e'], prefix: '[e2e]' };

const results = [];
if (process.env.SECRETLINK_E2E_AFTER === '1') {
  results.push(...(await Promise.all(suites.map((suite) => vitest(suite.args, suite.prefix)))));
  results.push(await vitest(endToEnd.args, endToEnd.prefix));
} else {
  results.push(
    ...(await Promise.all([...suites, endToEnd].map((suite) => vitest(suite.args, suite.prefix)))),
  );
}
const named = [...suites, endToEnd].map((suite, index) => `${suite.name}: exit ${results[index]}`);
const failed = results.find((code) => code !== 0);
if (failed !== undefined) {
  console.error(`tests failed (${named.join('; ')})`);
  process.exit(failed);
}
console.log(`all tests passed (${named.join('; ')})`);
