// A de-duplicating, rate-limited work queue of object keys, after client-go's workqueue. A reconcile receives
// only a key and reads current state, so collapsing many events for one key into one run loses nothing.
// Guarantees: a key waits in the queue at most once; a key is handled by at most one worker at a time, and a
// key added while it is being handled runs once more afterwards; failed keys come back with per-key
// exponential backoff; delayed keys share one timer; ready keys are handed out in turns between namespaces,
// so one namespace's many keys cannot starve another's few.
import { type BackoffOptions, PerKeyBackoff } from './backoff.ts';
import { type Clock, systemClock } from './clock.ts';
import { DelayedKeys } from './delayed-keys.ts';
import { FairKeys, namespaceOf } from './fair-keys.ts';
import { RetryableError } from './retryable-error.ts';

/** What a handler may ask for when it finishes without error. */
export type HandlerResult = { requeueAfterMs?: number } | undefined;

/**
 * Handles one key. Throwing (or rejecting) retries the key with backoff; a `RetryableError` is reported as an
 * expected retry, anything else as an error.
 */
export type KeyHandler = (key: string, signal: AbortSignal) => Promise<HandlerResult> | HandlerResult;

export type WorkOutcome = 'success' | 'requeue' | 'retry' | 'error';

/** Hooks for metrics; every one is optional so a caller wires only what it exports. No hook receives a key. */
export interface WorkQueueMetrics {
  /** Keys ready to be handled now, and keys waiting for a deadline; called whenever either changes. */
  depth?(ready: number, delayed: number): void;
  /** A key entered the queue (adds that were absorbed by de-duplication are not counted). */
  added?(): void;
  /** A key was scheduled for a retry after a failure. */
  retried?(): void;
  /** Time a key waited between entering the queue and a worker taking it. */
  queueWaitSeconds?(seconds: number): void;
  /** Time a handler took, and how it ended. */
  workDurationSeconds?(seconds: number, outcome: WorkOutcome): void;
}

export interface WorkQueueOptions {
  clock?: Clock;
  /** Per-key retry delays after failures; defaults to 100ms doubling up to 5m, half of each delay jittered. */
  backoff?: Partial<BackoffOptions>;
  metrics?: WorkQueueMetrics;
  /**
   * Called when a handler fails, with the failure count, the retry delay and whether the failure was an
   * expected one (a `RetryableError`), so the caller can log it at the level it deserves.
   */
  onError?: (key: string, error: unknown, retry: RetryReport) => void;
  /** Source of randomness for jitter; tests pass a fixed one. */
  random?: () => number;
  /** Which share of the workers a key draws on; defaults to its namespace (the text before the first '/'). */
  partitionOf?: (key: string) => string;
  /**
   * Called when a key is added while a handler works on it (it runs again afterwards), so the handler can cut
   * short work that the new state makes pointless instead of finishing it first.
   */
  whileBusy?: (key: string) => void;
}

export interface RetryReport {
  failures: number;
  delayMs: number;
  expected: boolean;
}

export interface ShutdownOptions {
  /**
   * true (default): stop handing out keys and let handlers in flight finish. false: also abort the signal
   * passed to handlers in flight so they stop early.
   */
  drain?: boolean;
  /** With drain, abort handlers still running after this long. */
  timeoutMs?: number;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #backoff: PerKeyBackoff;
  readonly #metrics: WorkQueueMetrics;
  readonly #onError: WorkQueueOptions['onError'];
  readonly #whileBusy: WorkQueueOptions['whileBusy'];
  readonly #delayed: DelayedKeys;
  /** Keys ready for a worker, with the time each arrived, taken in turns between namespaces. */
  readonly #ready: FairKeys;
  /** Keys a handler is working on. */
  readonly #processing = new Set<string>();
  /** Keys added while being processed: they go back to `ready` when their handler finishes. */
  readonly #dirty = new Set<string>();
  readonly #abort = new AbortController();
  #handler: KeyHandler | undefined;
  #concurrency = 0;
  #shuttingDown = false;
  #dispatchScheduled = false;
  #stopped: Promise<void> | undefined;
  #resolveStopped: (() => void) | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#backoff = new PerKeyBackoff(options.backoff, options.random);
    this.#metrics = options.metrics ?? {};
    this.#onError = options.onError;
    this.#whileBusy = options.whileBusy;
    this.#delayed = new DelayedKeys(this.#clock, (key) => this.add(key));
    this.#ready = new FairKeys(options.partitionOf ?? namespaceOf);
  }

  /** Queues `key` to be handled as soon as a worker is free. */
  add(key: string): void {
    if (this.#shuttingDown || this.#ready.has(key)) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      try {
        this.#whileBusy?.(key);
      } catch {
        // The hook only ever shortens work; the key runs again afterwards whatever it did.
      }
      return;
    }
    this.#ready.add(key, this.#clock.now());
    this.#metrics.added?.();
    this.#reportDepth();
    this.#scheduleDispatch();
  }

  /** Queues `key` after `delayMs`; if it is already waiting for an earlier deadline, that one stands. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    this.#delayed.schedule(key, delayMs);
    this.#reportDepth();
  }

  /**
   * Queues `key` after its next backoff delay, counting one more failure, and never sooner than `atLeastMs`
   * (the wait a throttling server asked for).
   */
  addRateLimited(key: string, atLeastMs = 0): number {
    const delayMs = Math.max(this.#backoff.next(key), atLeastMs);
    this.#metrics.retried?.();
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Resets `key`'s failure count, so its next failure waits only the base delay. */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  /** Keys ready to be handled now (not counting those being handled or waiting for a deadline). */
  get length(): number {
    return this.#ready.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Hands keys to `handler`, at most `concurrency` at once and never one key twice at once, until shutdown.
   * A handler that returns `requeueAfterMs` comes back after that delay; one that throws comes back with
   * backoff; either way a success resets the key's failures. Resolves once shutdown has finished.
   */
  run(concurrency: number, handler: KeyHandler): Promise<void> {
    if (this.#handler) throw new Error('the work queue is already running');
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError('concurrency must be a positive integer');
    this.#handler = handler;
    this.#concurrency = concurrency;
    this.#scheduleDispatch();
    return this.#whenStopped();
  }

  /**
   * Stops taking keys: adds are ignored, and queued and delayed keys are dropped (a restarted controller
   * rebuilds them from cluster state). Resolves when no handler is running any more.
   */
  shutdown({ drain = true, timeoutMs }: ShutdownOptions = {}): Promise<void> {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      this.#ready.clear();
      this.#dirty.clear();
      this.#delayed.clear();
      this.#reportDepth();
      if (!drain) this.#abort.abort(new Error('work queue shut down'));
      else if (timeoutMs !== undefined && this.#processing.size > 0) {
        const timer = this.#clock.setTimer(
          () => this.#abort.abort(new Error('work queue drain timed out')),
          timeoutMs,
        );
        void this.#whenStopped().then(() => timer.cancel());
      }
      this.#settleIfStopped();
    }
    return this.#whenStopped();
  }

  #whenStopped(): Promise<void> {
    this.#stopped ??= new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    this.#settleIfStopped();
    return this.#stopped;
  }

  #settleIfStopped(): void {
    if (this.#shuttingDown && this.#processing.size === 0) this.#resolveStopped?.();
  }

  // Dispatch runs on a microtask rather than inside add(), so a handler never starts synchronously in the
  // middle of whoever called add (an informer callback, another handler).
  /**
   * Dispatches queued keys soon: at the end of this task after an add, but after a turn of the event loop once
   * a key is finished. A reconcile that finds nothing to do answers from caches alone, without I/O; dispatching
   * the next key in a microtask would then run a whole queue of them (thousands of references after a start-up)
   * without letting timers and sockets in, and the Lease renewal, the probes and the watches would wait for it.
   */
  #scheduleDispatch({ afterEventLoopTurn = false } = {}): void {
    if (this.#dispatchScheduled || !this.#handler) return;
    this.#dispatchScheduled = true;
    const dispatch = () => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    };
    if (afterEventLoopTurn) setImmediate(dispatch);
    else queueMicrotask(dispatch);
  }

  #dispatch(): void {
    const handler = this.#handler;
    if (!handler) return;
    while (!this.#shuttingDown && this.#processing.size < this.#concurrency) {
      const next = this.#ready.take();
      if (!next) break;
      const { key, addedAt } = next;
      this.#processing.add(key);
      this.#metrics.queueWaitSeconds?.((this.#clock.now() - addedAt) / 1000);
      void this.#process(key, handler);
    }
    this.#reportDepth();
  }

  async #process(key: string, handler: KeyHandler): Promise<void> {
    const startedAt = this.#clock.now();
    let outcome: WorkOutcome;
    try {
      const result = await handler(key, this.#abort.signal);
      this.#backoff.forget(key);
      const requeueAfterMs = result?.requeueAfterMs;
      outcome = requeueAfterMs === undefined ? 'success' : 'requeue';
      this.#finish(key);
      if (requeueAfterMs !== undefined) this.addAfter(key, requeueAfterMs);
    } catch (error) {
      const expected = error instanceof RetryableError;
      outcome = expected ? 'retry' : 'error';
      this.#finish(key);
      if (!this.#shuttingDown) {
        const delayMs = this.addRateLimited(key, expected ? (error.retryAfterMs ?? 0) : 0);
        try {
          this.#onError?.(key, error, { failures: this.#backoff.failures(key), delayMs, expected });
        } catch {
          // A failing log hook must not break the queue; there is nowhere left to report it.
        }
      }
    }
    this.#metrics.workDurationSeconds?.((this.#clock.now() - startedAt) / 1000, outcome);
    this.#settleIfStopped();
  }

  #finish(key: string): void {
    this.#processing.delete(key);
    this.#scheduleDispatch({ afterEventLoopTurn: true });
    if (this.#dirty.delete(key)) this.add(key);
  }

  #reportDepth(): void {
    this.#metrics.depth?.(this.#ready.size, this.#delayed.size);
  }
}
