// The one failure a handler expects: the world moved under it (a write conflict, a busy API server, an object
// deleted mid-write). The queue retries it with backoff like any failure, but reports it apart from errors
// nobody expected, so a log or metric of errors stays a list of things to look at.

/** Thrown for failures worth retrying with backoff (API conflicts, throttling, an object gone mid-write). */
export class RetryableError extends Error {
  override name = 'RetryableError';
  /** The least wait the other side asked for (an API server's Retry-After); the queue's backoff may be longer. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryAfterMs?: number } = {}) {
    super(message);
    this.retryAfterMs = options.retryAfterMs;
  }
}
