import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.ts';
import { DelayedKeys } from './delayed-keys.ts';

describe('DelayedKeys', () => {
  it('hands each key over once, at the earliest deadline it was given, in deadline order', async () => {
    const clock = new FakeClock();
    const fired: Array<{ key: string; at: number }> = [];
    const delayed = new DelayedKeys(clock, (key) => fired.push({ key, at: clock.now() }));
    const earliest = new Map<string, number>();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    // Many keys rescheduled again and again, mostly earlier: stale heap entries pile up and get compacted.
    for (let round = 0; round < 20; round++) {
      for (let index = 0; index < 200; index++) {
        const key = `ns/key-${index}`;
        const delay = 1 + Math.floor(random() * 10_000);
        delayed.schedule(key, delay);
        earliest.set(key, Math.min(earliest.get(key) ?? Number.POSITIVE_INFINITY, delay));
      }
      expect(clock.pendingTimers).toBe(1);
    }
    expect(delayed.size).toBe(200);

    await clock.advance(10_000);
    expect(fired).toHaveLength(200);
    expect(new Set(fired.map((f) => f.key)).size).toBe(200);
    for (const { key, at } of fired) expect(at).toBe(earliest.get(key));
    expect(fired.map((f) => f.at)).toEqual([...fired.map((f) => f.at)].sort((a, b) => a - b));
    expect(delayed.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('accepts the same key again once it has been handed over', async () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const delayed = new DelayedKeys(clock, () => fired.push(clock.now()));
    delayed.schedule('ns/a', 100);
    await clock.advance(100);
    delayed.schedule('ns/a', 500);
    await clock.advance(1_000);
    expect(fired).toEqual([100, 600]);
  });

  it('drops every waiting key and its timer when cleared', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const delayed = new DelayedKeys(clock, (key) => fired.push(key));
    delayed.schedule('ns/a', 100);
    delayed.schedule('ns/b', 200);
    delayed.clear();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000);
    expect(fired).toEqual([]);
  });
});
