import { describe, expect, it } from 'vitest';
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
