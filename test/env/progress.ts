// Progress lines for the environment's start-up, so a cold build shows what it is doing and how long it took.
export interface Progress {
  /** A milestone: a component starting to build, a server becoming ready. */
  step(message: string): void;
  /** Detail a user may want while waiting. */
  note(message: string): void;
}

export function consoleProgress(prefix = '[env]'): Progress {
  const started = Date.now();
  const write = (message: string) =>
    process.stderr.write(`${prefix} +${formatDuration(Date.now() - started)} ${message}\n`);
  return { step: write, note: write };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}
