// A token bucket for writes to the API server (--kube-qps, --kube-burst): bursts pass, a flood is paced.
import type { Clock } from './clock.ts';
import { sleep } from './clock.ts';

export class RateLimiter {
  private tokens: number;
  private updatedAt: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;

  constructor(qps: number, burst: number, clock: Clock) {
    this.qps = qps;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.updatedAt = clock.now();
  }

  /** Resolves when a write may go ahead. */
  async take(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.qps);
      this.updatedAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(this.clock, ((1 - this.tokens) / this.qps) * 1000);
    }
  }
}
