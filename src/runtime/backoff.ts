// How long to wait before trying again: exponential growth per consecutive failure, a cap, and jitter so
// many keys (or many replicas) that failed together do not retry together.
import type { Clock } from './clock.ts';

export interface BackoffOptions {
  /** Delay after the first failure, before jitter. */
  baseMs: number;
  /** No delay ever exceeds this. */
  maxMs: number;
  /** Growth per consecutive failure. */
  factor: number;
  /**
   * Fraction of the delay that is randomised, 0..1: the delay is drawn uniformly from
   * [d * (1 - jitter), d], so jitter only ever shortens a delay and the cap holds.
   */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 100, maxMs: 5 * 60_000, factor: 2, jitter: 0.5 };

/** The delay before attempt number `failures + 1`, given `failures` consecutive failures so far (>= 1). */
export function backoffDelay(
  failures: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failures - 1);
  // Computing the power can overflow to Infinity long before the exponent gets silly; the cap absorbs it.
  const ceiling = Math.min(options.maxMs, options.baseMs * options.factor ** exponent);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(ceiling * (1 - jitter * random()));
}

/** Counts consecutive failures per key and turns them into delays. */
export class PerKeyBackoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  readonly #failures = new Map<string, number>();

  constructor(options: Partial<BackoffOptions> = {}, random: () => number = Math.random) {
    this.#options = { ...defaultBackoff, ...options };
    this.#random = random;
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    return backoffDelay(failures, this.#options, this.#random);
  }

  /** Consecutive failures of `key` since it last succeeded. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Forgets the failures of `key`: its next failure starts again from the base delay. */
  forget(key: string): void {
    this.#failures.delete(key);
  }
}

export interface TokenBucketOptions {
  /** Sustained rate, in tokens per second. */
  qps: number;
  /** Tokens available at once. */
  burst: number;
}

/**
 * An overall limit shared by every key: each call reserves one token and says how long to wait for it, so a
 * storm of failures across many keys is spread out instead of hammering the API server or a store.
 */
export class TokenBucket {
  readonly #clock: Clock;
  readonly #options: TokenBucketOptions;
  #tokens: number;
  #updatedAt: number;

  constructor(options: TokenBucketOptions, clock: Clock) {
    if (!(options.qps > 0) || !(options.burst >= 1))
      throw new RangeError('token bucket needs qps > 0 and burst >= 1');
    this.#options = options;
    this.#clock = clock;
    this.#tokens = options.burst;
    this.#updatedAt = clock.now();
  }

  /** Takes a token, possibly one that is only available in the future, and returns the wait in ms. */
  reserve(): number {
    const now = this.#clock.now();
    const refill = ((now - this.#updatedAt) / 1000) * this.#options.qps;
    this.#tokens = Math.min(this.#options.burst, this.#tokens + refill);
    this.#updatedAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#options.qps) * 1000);
  }
}
