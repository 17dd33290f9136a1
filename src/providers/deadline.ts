// Every call to a store or to the API server gets a deadline and honours the caller's AbortSignal, even when
// the library underneath ignores signals.
import { Unavailable } from './errors.ts';

export interface Deadline {
  signal: AbortSignal;
  /** True when the deadline, not the caller, ended the call. */
  timedOut(): boolean;
}

export function deadline(timeoutMs: number, caller?: AbortSignal): Deadline {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
  return { signal, timedOut: () => timeout.aborted && !caller?.aborted };
}

/** Settles with `work`, or rejects as soon as `signal` aborts, whichever comes first. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Runs `work` under a deadline. A timeout becomes Unavailable (retryable); an abort by the caller rejects with
 * the caller's reason, as fetch and the Node APIs do.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  caller: AbortSignal | undefined,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
  mapError: (error: unknown) => Error,
): Promise<T> {
  caller?.throwIfAborted();
  const limit = deadline(timeoutMs, caller);
  try {
    return await abortable(work(limit.signal), limit.signal);
  } catch (error) {
    if (limit.timedOut())
      throw new Unavailable(`${what} timed out after ${timeoutMs}ms`, { code: 'Timeout' });
    if (caller?.aborted) throw caller.reason;
    throw mapError(error);
  }
}
