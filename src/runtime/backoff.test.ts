import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.ts';
import { backoffDelay, defaultBackoff, PerKeyBackoff, TokenBucket } from './backoff.ts';

const noJitter = () => 0;

describe('backoffDelay', () => {
  it('doubles from the base delay with each consecutive failure', () => {
    const options = { ...defaultBackoff, baseMs: 100, maxMs: 60_000 };
    const delays = [1, 2, 3, 4, 5].map((failures) => backoffDelay(failures, options, noJitter));
    expect(delays).toEqual([100, 200, 400, 800, 1_600]);
  });

  it('stops growing at the cap, even after a very long run of failures', () => {
    const options = { ...defaultBackoff, baseMs: 100, maxMs: 5 * 60_000 };
    expect(backoffDelay(12, options, noJitter)).toBe(204_800);
    expect(backoffDelay(13, options, noJitter)).toBe(5 * 60_000);
    expect(backoffDelay(5_000, options, noJitter)).toBe(5 * 60_000);
  });

  it('keeps every jittered delay between (1 - jitter) of the un-jittered delay and the delay itself', () => {
    const options = { baseMs: 100, maxMs: 10_000, factor: 2, jitter: 0.5 };
    for (let failures = 1; failures <= 10; failures++) {
      const ceiling = Math.min(10_000, 100 * 2 ** (failures - 1));
      for (const draw of [0, 0.1, 0.5, 0.9, 0.999_999]) {
        const delay = backoffDelay(failures, options, () => draw);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.5));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('spreads delays out rather than giving every caller the same one', () => {
    const options = { baseMs: 1_000, maxMs: 10_000, factor: 2, jitter: 0.5 };
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, options)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('PerKeyBackoff', () => {
  it('counts failures per key, independently', () => {
    const backoff = new PerKeyBackoff({ baseMs: 50 }, noJitter);
    expect([backoff.next('a'), backoff.next('a'), backoff.next('b')]).toEqual([50, 100, 50]);
    expect(backoff.failures('a')).toBe(2);
    expect(backoff.failures('b')).toBe(1);
    expect(backoff.failures('c')).toBe(0);
  });

  it('starts again from the base delay once a key is forgotten', () => {
    const backoff = new PerKeyBackoff({ baseMs: 50 }, noJitter);
    backoff.next('a');
    backoff.next('a');
    backoff.forget('a');
    expect(backoff.failures('a')).toBe(0);
    expect(backoff.next('a')).toBe(50);
  });
});

describe('TokenBucket', () => {
  it('allows a burst at once, then one token per 1/qps seconds', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, clock);
    expect([
      bucket.reserve(),
      bucket.reserve(),
      bucket.reserve(),
      bucket.reserve(),
      bucket.reserve(),
    ]).toEqual([0, 0, 0, 100, 200]);
    await clock.advance(1_000);
    // Ten tokens were earned, two of them already promised: the bucket is full again, no more.
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0, 100]);
  });

  it('rejects settings that could never hand out a token', () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 }, new FakeClock())).toThrow(RangeError);
    expect(() => new TokenBucket({ qps: 1, burst: 0 }, new FakeClock())).toThrow(RangeError);
  });
});
