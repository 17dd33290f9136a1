// One operator process for a side-by-side benchmark: started with its flags and environment, its log in a file,
// its resident memory read from /proc, its metrics endpoint read, and stopped (SIGTERM, then SIGKILL).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ContenderProcess {
  /** Throws, with the end of its log, when the process has ended. */
  check(): void;
  /** VmRSS of the process, in bytes. */
  rss(): number;
  /** Its Prometheus metrics as text. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export function startContender(options: {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: string;
  metricsUrl: string;
}): ContenderProcess {
  const log = openSync(options.log, 'w');
  const child: ChildProcess = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  // An interrupted benchmark leaves no operator behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    check() {
      if (alive()) return;
      const tail = readFileSync(options.log, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`${options.command} exited (${child.exitCode ?? child.signalCode}):\n${tail}`);
    },
    rss: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024,
    metrics: async () => (await fetch(options.metricsUrl)).text(),
    async stop() {
      if (alive()) {
        child.kill('SIGTERM');
        const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(deadline);
      }
      process.off('exit', killOnExit);
    },
  };
}

/** The sum of every series of one metric in Prometheus text, or undefined when it is absent. */
export function metricSum(text: string, name: string): number | undefined {
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((match) =>
    Number(match[1]),
  );
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0);
}
