// Concurrent reads of the same remote version share one store call. Each caller may still give up on its own
// (its AbortSignal rejects only its wait); the shared call is aborted only when every caller has given up.
import { abortable } from './deadline.ts';

interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /** Joins the call in flight for `key`, or starts one. `joined` tells whether this caller shared a call. */
  run(key: string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>) {
    signal?.throwIfAborted();
    let flight = this.#flights.get(key);
    const joined = flight !== undefined;
    if (!flight) {
      const controller = new AbortController();
      const started: Flight<T> = { controller, waiters: 0, promise: Promise.resolve(undefined as T) };
      started.promise = work(controller.signal).finally(() => {
        if (this.#flights.get(key) === started) this.#flights.delete(key);
      });
      flight = started;
      this.#flights.set(key, flight);
    }
    return { joined, result: this.#wait(key, flight, signal) };
  }

  get inFlight(): number {
    return this.#flights.size;
  }

  async #wait(key: string, flight: Flight<T>, signal: AbortSignal | undefined): Promise<T> {
    flight.waiters += 1;
    try {
      return await abortable(flight.promise, signal);
    } finally {
      flight.waiters -= 1;
      if (flight.waiters === 0 && signal?.aborted) {
        // Nobody is waiting any more: stop the call and let the next caller start afresh.
        flight.controller.abort(signal.reason);
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      }
    }
  }
}
