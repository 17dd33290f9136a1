import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FakeClock, settle } from '../../test/support/fake-clock.ts';
import { RetryableError } from './retryable-error.ts';
import { type HandlerResult, type WorkOutcome, WorkQueue, type WorkQueueOptions } from './workqueue.ts';

interface Deferred {
  promise: Promise<HandlerResult | undefined>;
  resolve(result?: HandlerResult): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: Deferred['resolve'];
  let reject!: Deferred['reject'];
  const promise = new Promise<HandlerResult | undefined>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A handler whose runs stay in flight until the test finishes them, recording what it saw. */
function controlledHandler() {
  const running = new Map<string, Deferred>();
  const started: string[] = [];
  let maxInFlight = 0;
  let overlaps = 0;
  const handler = (key: string) => {
    if (running.has(key)) overlaps++;
    const run = deferred();
    running.set(key, run);
    started.push(key);
    maxInFlight = Math.max(maxInFlight, running.size);
    return run.promise.finally(() => running.delete(key));
  };
  const finish = async (key: string, result?: HandlerResult) => {
    const run = running.get(key);
    if (!run) throw new Error(`${key} is not running`);
    run.resolve(result);
    await settle();
  };
  const fail = async (key: string, error: unknown = new Error('boom')) => {
    const run = running.get(key);
    if (!run) throw new Error(`${key} is not running`);
    run.reject(error);
    await settle();
  };
  return {
    handler,
    finish,
    fail,
    started,
    running,
    get maxInFlight() {
      return maxInFlight;
    },
    get overlaps() {
      return overlaps;
    },
  };
}

function queueWithClock(options: WorkQueueOptions = {}) {
  const clock = new FakeClock(1_000_000);
  // random() = 0 leaves each backoff delay at its full, un-jittered value, so times are exact.
  const queue = new WorkQueue({ clock, random: () => 0, ...options });
  return { clock, queue };
}

describe('WorkQueue de-duplication', () => {
  it('handles a key once however many times it was added while waiting', async () => {
    const { queue } = queueWithClock();
    const work = controlledHandler();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.length).toBe(1);
    void queue.run(2, work.handler);
    await settle();
    await work.finish('ns/a');
    expect(work.started).toEqual(['ns/a']);
    expect(queue.length).toBe(0);
  });

  it('runs a key once more after its handler finishes when it was added during the run', async () => {
    const { queue } = queueWithClock();
    const work = controlledHandler();
    void queue.run(4, work.handler);
    queue.add('ns/a');
    await settle();
    queue.add('ns/a');
    queue.add('ns/a');
    await settle();
    expect(work.started).toEqual(['ns/a']);

    await work.finish('ns/a');
    expect(work.started).toEqual(['ns/a', 'ns/a']);
    await work.finish('ns/a');
    expect(work.started).toEqual(['ns/a', 'ns/a']);
    expect(work.overlaps).toBe(0);
  });

  it('never runs one key twice at once, even with idle workers, while other keys run in parallel', async () => {
    const { queue } = queueWithClock();
    const work = controlledHandler();
    void queue.run(4, work.handler);
    queue.add('ns/a');
    await settle();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/c');
    await settle();
    expect([...work.running.keys()].sort()).toEqual(['ns/a', 'ns/b', 'ns/c']);
    expect(work.started.filter((key) => key === 'ns/a')).toHaveLength(1);

    await work.finish('ns/a');
    expect(work.started.filter((key) => key === 'ns/a')).toHaveLength(2);
    expect(work.overlaps).toBe(0);
  });
});

describe('WorkQueue whileBusy', () => {
  it('tells the handler of a key added during its run, and only then, and survives a hook that throws', async () => {
    const busy: string[] = [];
    const { queue } = queueWithClock({
      whileBusy: (key) => {
        busy.push(key);
        throw new Error('hook failed');
      },
    });
    const work = controlledHandler();
    void queue.run(2, work.handler);
    queue.add('ns/a');
    queue.add('ns/b');
    await settle();
    expect(busy).toEqual([]);

    queue.add('ns/a');
    expect(busy).toEqual(['ns/a']);
    await work.finish('ns/a');
    // Still runs again afterwards, as any key added during its run does.
    expect(work.started.filter((key) => key === 'ns/a')).toHaveLength(2);
  });
});

describe('WorkQueue concurrency', () => {
  it('never runs more handlers at once than the concurrency it was given, and runs every key', async () => {
    const { queue } = queueWithClock();
    const work = controlledHandler();
    const keys = Array.from({ length: 10 }, (_, index) => `ns/job-${index}`);
    for (const key of keys) queue.add(key);
    void queue.run(3, work.handler);
    await settle();
    expect(work.running.size).toBe(3);

    while (work.running.size > 0) await work.finish([...work.running.keys()][0]!);
    expect(work.maxInFlight).toBe(3);
    expect(work.started).toEqual(keys);
  });

  it("serves a namespace's single key after at most one more key of a namespace with 1,000 queued", async () => {
    const { queue } = queueWithClock();
    const work = controlledHandler();
    for (let index = 0; index < 1000; index++) queue.add(`noisy/ref-${index}`);
    void queue.run(2, work.handler);
    await settle();
    queue.add('quiet/warehouse');
    expect(work.started).toEqual(['noisy/ref-0', 'noisy/ref-1']);

    // noisy already holds the next turn of this round; quiet has the one after it, not the 999th.
    await work.finish('noisy/ref-0');
    expect(work.started.at(-1)).toBe('noisy/ref-2');
    await work.finish('noisy/ref-1');
    expect(work.started.at(-1)).toBe('quiet/warehouse');
    expect(queue.length).toBe(997);
  });

  it('keeps turns even when a busy namespace re-queues its keys as they finish', async () => {
    const { queue } = queueWithClock();
    const work = controlledHandler();
    for (let index = 0; index < 3; index++) queue.add(`noisy/ref-${index}`);
    queue.add('quiet/a');
    queue.add('quiet/b');
    void queue.run(1, work.handler);
    await settle();
    // Each noisy key asks to come back at once, as a hot loop would.
    for (let round = 0; round < 5; round++) {
      const current = [...work.running.keys()][0]!;
      await work.finish(current, current.startsWith('noisy/') ? { requeueAfterMs: 0 } : undefined);
    }
    expect(work.started.slice(0, 5)).toEqual([
      'noisy/ref-0',
      'quiet/a',
      'noisy/ref-1',
      'quiet/b',
      'noisy/ref-2',
    ]);
  });

  it('refuses a second run and a concurrency below one', () => {
    const { queue } = queueWithClock();
    expect(() => queue.run(0, () => undefined)).toThrow(RangeError);
    void queue.run(1, () => undefined);
    expect(() => queue.run(1, () => undefined)).toThrow(/already running/);
  });
});

describe('WorkQueue delays', () => {
  it('runs a delayed key when its delay has passed, not before', async () => {
    const { clock, queue } = queueWithClock();
    const work = controlledHandler();
    void queue.run(1, work.handler);
    queue.addAfter('ns/a', 5_000);
    await clock.advance(4_999);
    expect(work.started).toEqual([]);
    await clock.advance(1);
    expect(work.started).toEqual(['ns/a']);
  });

  it('keeps the earlier deadline when a waiting key is delayed again', async () => {
    const { clock, queue } = queueWithClock();
    const work = controlledHandler();
    void queue.run(2, work.handler);
    queue.addAfter('ns/later-first', 1_000);
    queue.addAfter('ns/later-first', 500);
    queue.addAfter('ns/earlier-first', 500);
    queue.addAfter('ns/earlier-first', 1_000);
    await clock.advance(500);
    expect(work.started.sort()).toEqual(['ns/earlier-first', 'ns/later-first']);
    await work.finish('ns/earlier-first');
    await work.finish('ns/later-first');

    await clock.advance(10_000);
    expect(work.started).toHaveLength(2);
  });

  it('comes back after the delay a handler asks for', async () => {
    const { clock, queue } = queueWithClock();
    const work = controlledHandler();
    void queue.run(1, work.handler);
    queue.add('ns/a');
    await settle();
    await work.finish('ns/a', { requeueAfterMs: 60_000 });
    await clock.advance(59_999);
    expect(work.started).toHaveLength(1);
    await clock.advance(1);
    expect(work.started).toHaveLength(2);
  });

  it('waits on one timer, in deadline order, however many keys are delayed', async () => {
    const { clock, queue } = queueWithClock();
    const order: string[] = [];
    void queue.run(1, (key) => {
      order.push(key);
    });
    const delays = Array.from({ length: 2_000 }, (_, index) => ((index * 7_919) % 2_000) + 1);
    delays.forEach((delay, index) => {
      queue.addAfter(`ns/key-${index}`, delay * 10);
    });
    await settle();
    expect(order).toEqual([]);
    expect(clock.pendingTimers).toBe(1);

    await clock.advance(20_000);
    const expected = delays
      .map((delay, index) => ({ delay, key: `ns/key-${index}` }))
      .sort((a, b) => a.delay - b.delay)
      .map(({ key }) => key);
    expect(order).toEqual(expected);
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats a delay of zero or less as an immediate add', async () => {
    const { clock, queue } = queueWithClock();
    queue.addAfter('ns/a', 0);
    queue.addAfter('ns/b', -5);
    expect(queue.length).toBe(2);
    // Nothing waits on a timer: both keys are ready now.
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('WorkQueue retries', () => {
  it('retries a failing key with doubling delays and starts over after a success', async () => {
    const { clock, queue } = queueWithClock({ backoff: { baseMs: 100, maxMs: 10_000 } });
    const work = controlledHandler();
    const startedAt: number[] = [];
    void queue.run(1, (key) => {
      startedAt.push(clock.now());
      return work.handler(key);
    });
    const t0 = clock.now();
    queue.add('ns/a');
    await settle();
    for (const delayMs of [100, 200, 400]) {
      await work.fail('ns/a');
      await clock.advance(delayMs - 1);
      expect(work.running.has('ns/a')).toBe(false);
      await clock.advance(1);
      expect(work.running.has('ns/a')).toBe(true);
    }
    expect(startedAt.map((at) => at - t0)).toEqual([0, 100, 300, 700]);

    await work.finish('ns/a');
    queue.add('ns/a');
    await settle();
    const before = clock.now();
    await work.fail('ns/a');
    await clock.advance(10_000);
    expect(startedAt.at(-1)! - before).toBe(100);
  });

  it('never waits longer than the cap between retries', async () => {
    const { clock, queue } = queueWithClock({ backoff: { baseMs: 100, maxMs: 1_000 } });
    const startedAt: number[] = [];
    void queue.run(1, () => {
      startedAt.push(clock.now());
      throw new Error('store unavailable');
    });
    queue.add('ns/a');
    await clock.advance(20_000);
    const gaps = startedAt.slice(1).map((at, index) => at - startedAt[index]!);
    expect(gaps.slice(0, 5)).toEqual([100, 200, 400, 800, 1_000]);
    expect(Math.max(...gaps)).toBe(1_000);
  });

  it('waits at least as long as a throttling server asked before retrying, and its backoff when longer', async () => {
    const { clock, queue } = queueWithClock({ backoff: { baseMs: 100, maxMs: 10_000 } });
    const startedAt: number[] = [];
    let calls = 0;
    void queue.run(1, () => {
      calls += 1;
      startedAt.push(clock.now());
      // The API server answers 429 with Retry-After: 1 twice, then the write goes through.
      if (calls <= 2) throw new RetryableError('write status: HTTP 429', { retryAfterMs: 1000 });
      return undefined;
    });
    queue.add('ns/a');
    await settle();
    await clock.advance(999);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    await clock.advance(5_000);
    expect(startedAt.slice(1).map((at, index) => at - startedAt[index]!)).toEqual([1000, 1000]);
    expect(calls).toBe(3);
  });

  it('forget starts the next retry delay over from the base', () => {
    const { queue } = queueWithClock();
    expect([queue.addRateLimited('ns/a'), queue.addRateLimited('ns/a')]).toEqual([100, 200]);
    queue.forget('ns/a');
    expect(queue.addRateLimited('ns/a')).toBe(100);
  });

  it('reports each failure with its count, retry delay, and whether it was expected', async () => {
    const reported: Array<{ key: string; message: string; failures: number; delayMs: number }> = [];
    const outcomes: WorkOutcome[] = [];
    const { clock, queue } = queueWithClock({
      onError: (key, error, retry) => reported.push({ key, message: (error as Error).message, ...retry }),
      metrics: { workDurationSeconds: (_seconds, outcome) => outcomes.push(outcome) },
    });
    let calls = 0;
    void queue.run(1, () => {
      calls += 1;
      return Promise.reject(calls === 1 ? new Error('broken') : new RetryableError('conflict'));
    });
    queue.add('ns/a');
    await clock.advance(100);
    expect(reported).toEqual([
      { key: 'ns/a', message: 'broken', failures: 1, delayMs: 100, expected: false },
      { key: 'ns/a', message: 'conflict', failures: 2, delayMs: 200, expected: true },
    ]);
    expect(outcomes).toEqual(['error', 'retry']);
  });
});

describe('WorkQueue shutdown', () => {
  it('lets handlers in flight finish, starts nothing new, and resolves when they are done', async () => {
    const { queue } = queueWithClock();
    const work = controlledHandler();
    const signals: AbortSignal[] = [];
    const running = queue.run(2, (key, signal) => {
      signals.push(signal);
      return work.handler(key);
    });
    for (const key of ['ns/a', 'ns/b', 'ns/c']) queue.add(key);
    await settle();

    let stopped = false;
    const shutdown = queue.shutdown({ drain: true }).then(() => {
      stopped = true;
    });
    queue.add('ns/d');
    queue.addAfter('ns/e', 10);
    await settle();
    expect(stopped).toBe(false);
    expect(queue.length).toBe(0);

    await work.finish('ns/a');
    expect(stopped).toBe(false);
    await work.finish('ns/b');
    await shutdown;
    await running;
    expect(work.started).toEqual(['ns/a', 'ns/b']);
    expect(signals.every((signal) => !signal.aborted)).toBe(true);
  });

  it('aborts the signal of handlers in flight when not draining', async () => {
    const { queue } = queueWithClock();
    let aborted = false;
    const running = queue.run(1, (_key, signal) => {
      return new Promise<undefined>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve(undefined);
        }),
      );
    });
    queue.add('ns/a');
    await settle();
    await queue.shutdown({ drain: false });
    await running;
    expect(aborted).toBe(true);
  });

  it('aborts handlers still running when the drain times out', async () => {
    const { clock, queue } = queueWithClock();
    let aborted = false;
    void queue.run(1, (_key, signal) => {
      return new Promise<undefined>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve(undefined);
        }),
      );
    });
    queue.add('ns/a');
    await settle();
    const shutdown = queue.shutdown({ drain: true, timeoutMs: 30_000 });
    await clock.advance(29_999);
    expect(aborted).toBe(false);
    await clock.advance(1);
    await shutdown;
    expect(aborted).toBe(true);
  });

  it('resolves at once when nothing is running', async () => {
    const { clock, queue } = queueWithClock();
    const handled: string[] = [];
    void queue.run(1, (key) => {
      handled.push(key);
    });
    queue.addAfter('ns/a', 60_000);
    await queue.shutdown();
    // The delayed key is dropped with its timer: it never runs after shutdown.
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(handled).toEqual([]);
  });

  it('does not keep the process alive for a key delayed far in the future', async () => {
    const moduleUrl = new URL('./workqueue.ts', import.meta.url).href;
    const script = `
      const { WorkQueue } = await import(${JSON.stringify(moduleUrl)});
      const queue = new WorkQueue();
      queue.run(1, () => undefined);
      queue.addAfter('ns/a', 3_600_000);
    `;
    const started = Date.now();
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      timeout: 20_000,
    });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('WorkQueue metrics', () => {
  it('reports adds, retries, depth and how each run ended, without keys', async () => {
    const added: number[] = [];
    const depths: Array<[number, number]> = [];
    const outcomes: string[] = [];
    let retries = 0;
    const { clock, queue } = queueWithClock({
      metrics: {
        added: () => added.push(1),
        retried: () => retries++,
        depth: (ready, delayed) => depths.push([ready, delayed]),
        workDurationSeconds: (seconds, outcome) => outcomes.push(`${outcome}:${seconds}`),
      },
    });
    let calls = 0;
    void queue.run(1, async () => {
      calls++;
      await new Promise<void>((resolve) => clock.setTimer(resolve, 250));
      if (calls === 1) throw new Error('first attempt fails');
      if (calls === 2) return { requeueAfterMs: 1_000 };
      return undefined;
    });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.addAfter('ns/b', 10_000);
    expect(depths.at(-1)).toEqual([1, 1]);
    await clock.advance(5_000);
    expect(outcomes).toEqual(['error:0.25', 'requeue:0.25', 'success:0.25']);
    expect(retries).toBe(1);
    expect(added).toHaveLength(3);
  });
});

/** A small seeded generator, so a failing case can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('WorkQueue under random operations', () => {
  it('never runs a key twice at once, respects concurrency, and loses no key', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const clock = new FakeClock();
      const queue = new WorkQueue({ clock, random, backoff: { baseMs: 10, maxMs: 200 } });
      const concurrency = 1 + pick(4);
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => `ns/${name}`);
      const active = new Set<string>();
      const lastRequest = new Map<string, number>();
      const lastStart = new Map<string, number>();
      const violations: string[] = [];
      let sequence = 0;
      let requests = 0;
      let starts = 0;
      let misbehave = true;
      const request = (key: string) => {
        lastRequest.set(key, ++sequence);
        requests++;
      };

      void queue.run(concurrency, async (key) => {
        if (active.has(key)) violations.push(`${key} ran twice at once`);
        if (active.size >= concurrency) violations.push(`more than ${concurrency} handlers at once`);
        active.add(key);
        lastStart.set(key, ++sequence);
        starts++;
        const duration = pick(3) === 0 ? 0 : pick(50);
        if (duration > 0) await new Promise<void>((resolve) => clock.setTimer(resolve, duration));
        active.delete(key);
        const ending = misbehave ? pick(5) : 4;
        if (ending === 0) {
          request(key);
          throw new Error('simulated failure');
        }
        if (ending === 1) {
          request(key);
          return { requeueAfterMs: pick(100) };
        }
        return undefined;
      });

      for (let step = 0; step < 300; step++) {
        const key = keys[pick(keys.length)]!;
        const operation = pick(3);
        if (operation === 0) {
          request(key);
          queue.add(key);
        } else if (operation === 1) {
          request(key);
          queue.addAfter(key, pick(300));
        } else {
          await clock.advance(pick(50));
        }
      }

      misbehave = false;
      for (let turn = 0; turn < 1_000 && active.size + queue.length + clock.pendingTimers > 0; turn++) {
        await clock.advance(100);
      }

      const context = `seed ${seed}`;
      expect(violations, context).toEqual([]);
      // Idle: nothing running, nothing ready, no handler or delayed key waiting on a timer.
      expect(active.size + queue.length + clock.pendingTimers, context).toBe(0);
      for (const [key, requestedAt] of lastRequest) {
        expect(
          lastStart.get(key) ?? 0,
          `${context}: ${key} was requested but never handled after`,
        ).toBeGreaterThan(requestedAt);
      }
      expect(starts, context).toBeLessThanOrEqual(requests);
      await queue.shutdown();
    }
  });
});

describe('WorkQueue and the event loop', () => {
  it('lets timers in between keys whose handlers finish without any I/O', async () => {
    // After a start-up, thousands of references can each be reconciled from caches alone. A timer due meanwhile
    // (the Lease renewal, a probe's answer) must not wait for the whole queue.
    const keys = 10_000;
    const queue = new WorkQueue();
    let handled = 0;
    let handledWhenTimerFired: number | undefined;
    setTimeout(() => {
      handledWhenTimerFired = handled;
    }, 0);
    for (let index = 0; index < keys; index++) queue.add(`etl/reference-${index}`);
    await new Promise<void>((resolve) => {
      void queue.run(4, async () => {
        handled++;
        if (handled === keys) resolve();
        return undefined;
      });
    });
    await queue.shutdown();
    expect(handledWhenTimerFired).toBeDefined();
    expect(handledWhenTimerFired!).toBeLessThan(keys);
  });
});
