// A fixed number of slots, taken in arrival order: bounds how many of one kind of work run at once, whatever
// number of workers asks. Used for store reads, so raising the reconciles run at once (which mostly wait on the
// API server) does not raise the store answers held in memory at once.

export class Slots {
  readonly #size: number;
  #taken = 0;
  readonly #waiting: { grant: () => void }[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('slots must be a positive integer');
    this.#size = size;
  }

  /** Slots in use now. */
  get taken(): number {
    return this.#taken;
  }

  /**
   * Runs `work` once a slot is free and frees it when `work` settles. An abort while waiting gives up the place
   * in line and rejects with the signal's reason; `work` is then never started.
   */
  async run<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    await this.#take(signal);
    try {
      return await work();
    } finally {
      this.#give();
    }
  }

  #take(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#taken < this.#size) {
      this.#taken++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  // A freed slot passes straight to the next in line, so the count never drops under a waiter's nose.
  #give(): void {
    const next = this.#waiting.shift();
    if (next) next.grant();
    else this.#taken--;
  }
}
