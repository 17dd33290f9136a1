// Keys waiting for a deadline. Thousands of keys may wait (one refresh or expiry per SecretReference), so
// they share one timer armed for the earliest deadline, found with a min-heap, rather than a timer each.
import type { Clock, Timer } from './clock.ts';

interface Entry {
  dueAt: number;
  order: number;
  key: string;
}

export class DelayedKeys {
  readonly #clock: Clock;
  readonly #onDue: (key: string) => void;
  /** The one live deadline per key; heap entries that disagree with it are stale and skipped. */
  readonly #deadlines = new Map<string, number>();
  readonly #heap: Entry[] = [];
  #order = 0;
  #timer: Timer | undefined;
  #timerDueAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, onDue: (key: string) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Number of keys waiting. */
  get size(): number {
    return this.#deadlines.size;
  }

  /**
   * Hands `key` to `onDue` after `delayMs`. A key already waiting keeps the earlier of its two deadlines:
   * whoever asked for the later one is served by the earlier run, which can ask again.
   */
  schedule(key: string, delayMs: number): void {
    const dueAt = this.#clock.now() + Math.max(0, delayMs);
    const current = this.#deadlines.get(key);
    if (current !== undefined && current <= dueAt) return;
    this.#deadlines.set(key, dueAt);
    this.#push({ dueAt, order: this.#order++, key });
    // Superseded deadlines stay in the heap until popped; rebuild when they outnumber the live ones.
    if (this.#heap.length > 64 && this.#heap.length > 2 * this.#deadlines.size) this.#compact();
    this.#arm();
  }

  /** Drops every waiting key and the timer. */
  clear(): void {
    this.#deadlines.clear();
    this.#heap.length = 0;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerDueAt = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDueAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (let top = this.#liveTop(); top && top.dueAt <= now; top = this.#liveTop()) {
      this.#pop();
      this.#deadlines.delete(top.key);
      this.#onDue(top.key);
    }
    this.#arm();
  }

  #arm(): void {
    const top = this.#liveTop();
    if (!top) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerDueAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer && this.#timerDueAt <= top.dueAt) return;
    this.#timer?.cancel();
    this.#timerDueAt = top.dueAt;
    this.#timer = this.#clock.setTimer(() => this.#fire(), top.dueAt - this.#clock.now());
  }

  /** The earliest entry that is still a key's live deadline, discarding stale ones on the way. */
  #liveTop(): Entry | undefined {
    for (let top = this.#heap[0]; top; top = this.#heap[0]) {
      if (this.#deadlines.get(top.key) === top.dueAt) return top;
      this.#pop();
    }
    return undefined;
  }

  #compact(): void {
    const live = this.#heap.filter((entry) => this.#deadlines.get(entry.key) === entry.dueAt);
    this.#heap.length = 0;
    for (const entry of live) this.#push(entry);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    heap[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
      index = smallest;
    }
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.order < b.order);
}
