// A sink whose failed writes are tried again in the background: the Kubernetes Event of a record made just as
// the API server went away (a restart, an etcd outage) is created once it answers again, instead of being
// lost while the signed file holds the record. Records carry deterministic ids and the Event is named by its
// record, so a retry of a write that did land is recognised (AlreadyExists) and nothing is recorded twice.
// The first attempt is made inline, as before; a reconcile never waits for a retry.
import type { AuditRecord, AuditSink, ChainPosition } from './types.ts';

export interface RetryOptions {
  /** Waits before each retry, in order; when the last retry fails the record is given up. */
  delaysMs: readonly number[];
  /** Records waiting for a retry at once, at most; a failure beyond it is given up at once. */
  maxPending: number;
  /** A write failed and will be tried again. */
  onRetry(error: unknown, attempt: number): void;
  /** Every attempt failed (or too many records wait); the record is only in the other sinks. */
  onGiveUp(error: unknown): void;
  /** Runs `run` after `delayMs` (setTimeout by default); returns a function that cancels it. */
  schedule?: (run: () => void, delayMs: number) => () => void;
  random?: () => number;
}

/** About three minutes of retries: 1 s doubling to 30 s, half of each wait jittered. */
export const defaultRetryDelaysMs = [
  1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000,
];

export class RetryingSink implements AuditSink {
  readonly name: string;
  readonly #sink: AuditSink;
  readonly #options: RetryOptions;
  readonly #schedule: (run: () => void, delayMs: number) => () => void;
  readonly #random: () => number;
  readonly #pending = new Map<object, () => void>();
  #closed = false;

  constructor(sink: AuditSink, options: RetryOptions) {
    this.name = sink.name;
    this.#sink = sink;
    this.#options = options;
    this.#schedule = options.schedule ?? unrefTimeout;
    this.#random = options.random ?? Math.random;
  }

  /** Pending retries (for tests and metrics). */
  get pending(): number {
    return this.#pending.size;
  }

  async write(record: AuditRecord, position?: ChainPosition): Promise<void> {
    try {
      await this.#sink.write(record, position);
    } catch (error) {
      this.#retryLater(record, position, 1, error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const cancel of this.#pending.values()) cancel();
    this.#pending.clear();
    await this.#sink.close?.();
  }

  #retryLater(record: AuditRecord, position: ChainPosition | undefined, attempt: number, error: unknown) {
    const delay = this.#options.delaysMs[attempt - 1];
    if (this.#closed || delay === undefined || this.#pending.size >= this.#options.maxPending) {
      this.#options.onGiveUp(error);
      return;
    }
    this.#options.onRetry(error, attempt);
    const key = {};
    const run = () => {
      this.#pending.delete(key);
      if (this.#closed) return;
      this.#sink.write(record, position).catch((again: unknown) => {
        this.#retryLater(record, position, attempt + 1, again);
      });
    };
    this.#pending.set(key, this.#schedule(run, Math.round(delay * (1 - 0.5 * this.#random()))));
  }
}

function unrefTimeout(run: () => void, delayMs: number): () => void {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}
