// Creating many objects from a benchmark: a fixed number of requests in flight, and a retry for requests that
// got no answer at all (a connection the API server closed under load), never for an answer.
import * as k8s from '@kubernetes/client-node';
import { sleep } from './wait.ts';

/** Runs `work(0..count-1)`, at most `width` at a time. */
export async function inParallel(
  count: number,
  width: number,
  work: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/**
 * Retries a request that failed without an answer from the API server; its answers are passed on, except a
 * 409 on a create, which means an earlier attempt whose answer was lost did create the object.
 */
export async function retried<T>(call: () => Promise<T>, attempts = 5): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof k8s.ApiException) {
        if (error.code === 409 && attempt > 1) return undefined;
        throw error;
      }
      if (attempt >= attempts) throw error;
      await sleep(100 * attempt);
    }
  }
}
