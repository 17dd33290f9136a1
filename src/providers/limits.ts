// The operator's own limits on what one reference may make it read. A Kubernetes Secret holds at most 1 MiB of
// data, so a value that cannot fit is refused before it travels further; and since every tenant's
// revocations run in the same process, one reference must not be able to fill that process's memory.
import { LimitExceeded, TooLarge } from './errors.ts';

export const secretSizeLimit = 1024 * 1024;

/** Defaults of the limits a platform team can tune with flags (see src/config.ts). */
export const defaultLimits = {
  /** One answer from a store (an HTTP body, a gRPC message); AWS and GCP cap a secret at 64 KiB. */
  maxResponseBytes: 1024 * 1024,
  /** All store answers one reference's values come from, in one reconcile. */
  maxReferenceBytes: 4 * 1024 * 1024,
  /** Remote secrets of one reference read at once. */
  referenceReadConcurrency: 4,
  /** References whose store reads run at once, however many reconciles run. */
  storeReadConcurrency: 4,
  /** All store reads of one reconcile together. */
  reconcileTimeoutMs: 30_000,
  /** Remote secrets one find may read, whatever its maxSecrets says. */
  maxFindSecrets: 100,
} as const;

/**
 * Names one listing may go through (every page) before it stops: a find whose path and tags leave more than
 * this is refused instead of walking a whole account. Names only, so the memory held stays small.
 */
export const maxListedSecrets = 10_000;

export function assertFitsInSecret(bytes: number, remote: string): void {
  if (bytes > secretSizeLimit) {
    throw new TooLarge(
      `the value of "${remote}" is ${bytes} bytes; a Secret holds at most ${secretSizeLimit}`,
      {
        remote,
      },
    );
  }
}

export function totalSize(values: Record<string, Buffer>): number {
  let total = 0;
  for (const [key, value] of Object.entries(values)) total += Buffer.byteLength(key) + value.length;
  return total;
}

/** The error for a store answer past --max-response-bytes; each provider's transport throws it. */
export function responseTooLarge(provider: string, limit: number): LimitExceeded {
  return new LimitExceeded(
    `the ${provider} store answered with more than ${limit} bytes, the limit for one answer (--max-response-bytes)`,
    { provider },
  );
}

/**
 * Counts the bytes of the store answers one reference's values come from. An answer read for several entries
 * (several properties of one secret) is counted once; it is held once.
 */
export class ReadBudget {
  readonly #limit: number;
  readonly #counted = new Set<string>();
  #spent = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** `remote` identifies the answer (name and version); throws LimitExceeded once the total passes the limit. */
  charge(remote: string, bytes: number): void {
    if (this.#counted.has(remote)) return;
    this.#counted.add(remote);
    this.#spent += bytes;
    if (this.#spent > this.#limit) {
      throw new LimitExceeded(
        `this reference reads more than ${this.#limit} bytes from its store (--max-reference-bytes); ` +
          'name fewer or smaller remote secrets, or split it into several references',
      );
    }
  }
}
