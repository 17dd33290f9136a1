// `npm test`: the unit and integration projects, split in two shards that each start their own local
// environment, and beside them the end-to-end project on the real node. Most integration and end-to-end time is
// spent waiting (a ttl to pass, a lease to expire, a CronJob's next minute), not computing, so on two cores
// three runs side by side finish in far less time than one after another, and as each has its own control
// plane and stores they share no state (docs/testing.md, "A first run and its budget"). Lines of the second
// shard are prefixed with [shard 2], those of the end-to-end run with [e2e].
//
// SECRETLINK_TEST_SHARDS=1 keeps the integration project in one run; SECRETLINK_E2E_AFTER=1 runs the
// end-to-end project after the rest instead of beside it.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const shards = Number(process.env.SECRETLINK_TEST_SHARDS ?? 2);
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
