// Starts the environment's servers as child processes, each in its own process group with its log in the
// run folder, and guarantees they stop: on teardown here, or through the detached reaper if this process dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, openSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServerProcess {
  readonly name: string;
  readonly logFile: string;
  /** Set when the process ended; a server should not end while the run goes on. */
  exitCode(): number | null | undefined;
  logTail(lines?: number): string;
}

interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The signal that asks this server to stop (SIGTERM unless it needs another to stop promptly). */
  stopSignal?: NodeJS.Signals;
}

/** How long a server may take to exit after SIGTERM before it is killed. */
const stopGraceMs = 5000;

export class ProcessSupervisor {
  private readonly children: {
    process: ChildProcess;
    server: ServerProcess;
    stopSignal: NodeJS.Signals;
    options: StartOptions;
  }[] = [];
  private reaper: ChildProcess | undefined;
  private readonly cleanups: (() => Promise<string[]>)[] = [];

  readonly runDir: string;

  constructor(runDir: string) {
    this.runDir = runDir;
  }

  static async create(runDir: string): Promise<ProcessSupervisor> {
    await fs.mkdir(path.join(runDir, 'logs'), { recursive: true });
    const supervisor = new ProcessSupervisor(runDir);
    supervisor.reaper = spawn(
      process.execPath,
      [path.join(import.meta.dirname, 'reaper.mjs'), String(process.pid), runDir],
      { detached: true, stdio: 'ignore' },
    );
    supervisor.reaper.unref();
    return supervisor;
  }

  start(options: StartOptions): ServerProcess {
    const logFile = path.join(this.runDir, 'logs', `${options.name}.log`);
    const log = openSync(logFile, 'a');
    const child = spawn(options.command, options.args, {
      cwd: options.cwd ?? this.runDir,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    let exit: number | null | undefined;
    child.on('exit', (code, signal) => {
      exit = code ?? (signal ? -1 : null);
    });
    child.on('error', (error) => {
      appendFileSync(logFile, `\n[env] could not start ${options.command}: ${error.message}\n`);
      exit = -1;
    });
    child.unref();
    const stopSignal = options.stopSignal ?? 'SIGTERM';
    // The reaper reads this file: each group with the signal that stops it.
    if (child.pid) appendFileSync(path.join(this.runDir, 'process-groups'), `${child.pid} ${stopSignal}\n`);
    const server: ServerProcess = {
      name: options.name,
      logFile,
      exitCode: () => exit,
      logTail: (lines = 30) => readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'),
    };
    this.children.push({ process: child, server, stopSignal, options });
    return server;
  }

  /**
   * Stops one server the way teardown does (its stop signal, then SIGKILL after the grace period), leaving
   * the others running and its data in place: for tests of a server's outage.
   */
  async stop(server: ServerProcess): Promise<void> {
    const entry = this.children.find((child) => child.server === server);
    if (!entry) throw new Error(`${server.name} was not started by this supervisor`);
    await stopChild(entry);
  }

  /** Starts a stopped server again with the same command, flags and environment; its log continues. */
  startAgain(server: ServerProcess): ServerProcess {
    const index = this.children.findIndex((child) => child.server === server);
    const entry = this.children[index];
    if (!entry) throw new Error(`${server.name} was not started by this supervisor`);
    if (server.exitCode() === undefined) throw new Error(`${server.name} is still running`);
    const again = this.start(entry.options);
    // In its old place, so teardown still stops the servers in reverse start order.
    this.children.splice(index, 1, this.children.pop()!);
    return again;
  }

  /**
   * Work that must follow the servers' exit and precede the run folder's removal (the real node's mounts,
   * cgroups and kernel settings). Returns what it could not undo, reported at teardown.
   */
  afterStop(cleanup: () => Promise<string[]>): void {
    this.cleanups.push(cleanup);
  }

  /**
   * Stops servers one at a time in reverse start order, then removes the run folder. One at a time because
   * signalled together, kube-apiserver and etcd each wait for the other's connections and neither exits
   * within its grace period; in order, the whole environment stops in about a second.
   */
  async stopAll(): Promise<void> {
    const running = this.children.reverse().filter(({ server }) => server.exitCode() === undefined);
    for (const entry of running) await stopChild(entry);
    this.children.length = 0;
    const problems: string[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) problems.push(...(await cleanup()));
    this.reaper?.kill('SIGKILL');
    await fs.rm(this.runDir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`teardown left something behind:\n  ${problems.join('\n  ')}`);
  }
}

async function stopChild({
  process: child,
  server,
  stopSignal,
}: {
  process: ChildProcess;
  server: ServerProcess;
  stopSignal: NodeJS.Signals;
}): Promise<void> {
  signalGroup(child, stopSignal);
  const deadline = Date.now() + stopGraceMs;
  while (Date.now() < deadline && server.exitCode() === undefined) await sleep(20);
  if (server.exitCode() === undefined) {
    signalGroup(child, 'SIGKILL');
    const killed = Date.now() + stopGraceMs;
    while (Date.now() < killed && server.exitCode() === undefined) await sleep(20);
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Polls `check` until it returns true; fails early, with the server's log, if the server exits. */
export async function waitUntil(
  description: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; server?: ServerProcess },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const exit = options.server?.exitCode();
    if (exit !== undefined) {
      throw new Error(
        `${options.server!.name} exited (${exit}) before ${description}:\n${options.server!.logTail()}`,
      );
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(100);
  }
  const log = options.server
    ? `\nLast log lines of ${options.server.name}:\n${options.server.logTail()}`
    : '';
  throw new Error(`timed out after ${options.timeoutMs}ms waiting for ${description} ${lastError}${log}`);
}
