import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValueCache } from './value-cache.ts';

describe('ValueCache', () => {
  it('serves an entry until its time to live has passed', () => {
    let now = 1_000;
    const cache = new ValueCache<string>(() => now);
    cache.set('db', 'latest', 'v1', 500);
    now += 499;
    expect(cache.get('db', 'latest')).toBe('v1');
    now += 1;
    expect(cache.get('db', 'latest')).toBeUndefined();
  });

  it('keeps nothing when the time to live is zero (cache off)', () => {
    const cache = new ValueCache<string>(() => 0);
    cache.set('db', 'latest', 'v1', 0);
    expect(cache.get('db', 'latest')).toBeUndefined();
  });

  it('clears every version of one name and leaves names that merely share a prefix', () => {
    const cache = new ValueCache<string>(() => 0);
    cache.set('db', 'latest', 'a', 1000);
    cache.set('db', '3', 'b', 1000);
    cache.set('db2', 'latest', 'c', 1000);
    cache.clear('db');
    expect([cache.get('db', 'latest'), cache.get('db', '3'), cache.get('db2', 'latest')]).toEqual([
      undefined,
      undefined,
      'c',
    ]);
  });
});

describe('ValueCache forgets values on time', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops and zeroes an expired value when its time to live passes, without being read again', () => {
    vi.useFakeTimers();
    const value = Buffer.from('canary-value');
    const cache = new ValueCache<Buffer>(
      () => Date.now(),
      (held) => held.fill(0),
    );
    cache.set('db', '3', value, 500);
    vi.advanceTimersByTime(499);
    expect(value.toString()).toBe('canary-value');
    vi.advanceTimersByTime(1);
    vi.runOnlyPendingTimers();
    expect(cache.size).toBe(0);
    expect(value.every((byte) => byte === 0)).toBe(true);
  });

  it('zeroes every value it held when it is cleared, and only after callers copied it', () => {
    vi.useFakeTimers();
    const first = Buffer.from('one');
    const second = Buffer.from('two');
    const cache = new ValueCache<Buffer>(
      () => Date.now(),
      (held) => held.fill(0),
    );
    cache.set('db', '1', first, 60_000);
    cache.set('other', '1', second, 60_000);
    cache.clear();
    // A caller handed the value in this turn still copies it before the bytes are zeroed.
    expect(first.toString()).toBe('one');
    vi.runOnlyPendingTimers();
    expect(cache.size).toBe(0);
    expect([...first, ...second].every((byte) => byte === 0)).toBe(true);
  });

  it('zeroes a value it was asked not to keep (cache off) once callers copied it', () => {
    vi.useFakeTimers();
    const value = Buffer.from('canary-value');
    const cache = new ValueCache<Buffer>(
      () => Date.now(),
      (held) => held.fill(0),
    );
    cache.set('db', '3', value, 0);
    expect(value.toString()).toBe('canary-value');
    vi.runOnlyPendingTimers();
    expect(value.every((byte) => byte === 0)).toBe(true);
  });
});
