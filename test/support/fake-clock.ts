// A clock for tests: time moves only when a test says so, so timer-driven code is tested without waiting.
import type { Clock, Timer } from '../../src/runtime/clock.ts';

interface PendingTimer {
  dueAt: number;
  order: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to. `advance` fires due timers in deadline order and lets promise
 * continuations run after each one, so async code driven by timers behaves as it would in real time.
 */
export class FakeClock implements Clock {
  #now: number;
  #order = 0;
  readonly #timers = new Set<PendingTimer>();

  constructor(startAt = 0) {
    this.#now = startAt;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const timer: PendingTimer = { dueAt: this.#now + Math.max(0, delayMs), order: this.#order++, callback };
    this.#timers.add(timer);
    return { cancel: () => this.#timers.delete(timer) };
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let next = this.#earliest(target); next; next = this.#earliest(target)) {
      this.#timers.delete(next);
      this.#now = next.dueAt;
      next.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  #earliest(notAfter: number): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.dueAt > notAfter) continue;
      if (
        !earliest ||
        timer.dueAt < earliest.dueAt ||
        (timer.dueAt === earliest.dueAt && timer.order < earliest.order)
      ) {
        earliest = timer;
      }
    }
    return earliest;
  }
}

/**
 * Lets every queued promise continuation run (a macrotask turn runs only after the microtask queue drains), over
 * a few turns of the event loop: the work queue dispatches the key after a finished one on the next turn.
 */
export async function settle(turns = 4): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
}
