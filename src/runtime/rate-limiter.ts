// Paces writes to the API server (--kube-qps, --kube-burst): bursts pass, a flood waits its turn. The
// bucket is the one the work queue uses for retries; this adds the waiting. A rate of 0 paces
// nothing: the API server's own flow control does, and its 429s are retried by the work queue.
import { TokenBucket } from './backoff.ts';
import type { Clock } from './clock.ts';
import { sleep } from './clock.ts';

export class RateLimiter {
  private readonly bucket: TokenBucket | undefined;
  private readonly clock: Clock;

  constructor(qps: number, burst: number, clock: Clock) {
    this.bucket = qps > 0 ? new TokenBucket({ qps, burst }, clock) : undefined;
    this.clock = clock;
  }

  /** Resolves when a write may go ahead. */
  async take(): Promise<void> {
    if (!this.bucket) return;
    const wait = this.bucket.reserve();
    if (wait > 0) await sleep(this.clock, wait);
  }
}
