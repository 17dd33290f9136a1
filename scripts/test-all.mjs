// `npm test`: the unit and integration projects, and beside them the end-to-end project on the real node.
// The end-to-end suite spends most of its minutes waiting on real containers (a CronJob's next minute, a Job
// that runs for 45 seconds), and it starts its own environment, so running it alongside the integration suite
// shares nothing and saves those minutes (docs/testing.md, "A first run and its budget"). Its lines are
// prefixed with [e2e]. SECRETLINK_E2E_AFTER=1 runs the two one after the other instead.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const vitest = (projects, prefix) =>
  new Promise((resolve) => {
    const args = ['run', ...projects.flatMap((project) => ['--project', project])];
    const child = spawn('vitest', args, { stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
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

const codes =
  process.env.SECRETLINK_E2E_AFTER === '1'
    ? [await vitest(['unit', 'integration']), await vitest(['e2e'])]
    : await Promise.all([vitest(['unit', 'integration']), vitest(['e2e'], '[e2e]')]);
const failed = codes.find((code) => code !== 0);
if (failed !== undefined) {
  console.error(`tests failed: unit and integration exited ${codes[0]}, end to end exited ${codes[1]}`);
  process.exit(failed);
}
