import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.ts';
import { RateLimiter } from './rate-limiter.ts';

/** How many of `count` takes have resolved once pending promise callbacks have run. */
async function resolvedTakes(limiter: RateLimiter, count: number): Promise<number> {
  let resolved = 0;
  for (let n = 0; n < count; n++) void limiter.take().then(() => resolved++);
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
  return resolved;
}

describe('RateLimiter', () => {
  it('lets every write go at once with a rate of 0: the API server paces instead', async () => {
    const clock = new FakeClock();
    expect(await resolvedTakes(new RateLimiter(0, 40, clock), 1000)).toBe(1000);
  });

  it('lets a burst pass and holds the rest back when a rate is set', async () => {
    const clock = new FakeClock();
    expect(await resolvedTakes(new RateLimiter(20, 40, clock), 100)).toBe(40);
  });
});
