// Preloaded into a process the benchmark measures (`node --import ./bench/loop-delay.ts ...`): records the
// event-loop delay with perf_hooks.monitorEventLoopDelay and, on each SIGUSR2, appends what it saw since the
// previous signal to the file named by BENCH_LOOP_DELAY_FILE (one JSON line, milliseconds), then starts over.
// The benchmark signals at the phases' boundaries, so each line covers one phase. With BENCH_BURST_PROFILE
// (a file name) it also records a CPU profile from the first signal to the second: the burst alone.
import { appendFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const profileFile = process.env.BENCH_BURST_PROFILE;
let signals = 0;
const session = profileFile ? new Session() : undefined;
session?.connect();
session?.post('Profiler.enable');
process.on('SIGUSR2', () => {
  signals++;
  if (signals === 1) session?.post('Profiler.start');
  if (signals === 2)
    session?.post('Profiler.stop', (error, result) => {
      if (!error && profileFile) writeFileSync(profileFile, JSON.stringify(result.profile));
    });
});

const file = process.env.BENCH_LOOP_DELAY_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let since = Date.now();
  process.on('SIGUSR2', () => {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    appendFileSync(
      file,
      `${JSON.stringify({
        from: since,
        to: Date.now(),
        count: histogram.count,
        mean: ms(histogram.mean),
        p50: ms(histogram.percentile(50)),
        p90: ms(histogram.percentile(90)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
      })}\n`,
    );
    histogram.reset();
    since = Date.now();
  });
}
