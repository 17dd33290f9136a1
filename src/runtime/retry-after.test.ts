import { describe, expect, it } from 'vitest';
import { maxRetryAfterMs, retryAfterMs } from './retry-after.ts';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-01T06:00:00Z');

  it("reads API Priority and Fairness's Retry-After in seconds, whatever the header's case", () => {
    expect(retryAfterMs({ 'retry-after': '1' }, now)).toBe(1000);
    expect(retryAfterMs({ 'Retry-After': '3' }, now)).toBe(3000);
  });

  it('reads an HTTP date as the time left until it, never less than nothing', () => {
    expect(retryAfterMs({ 'retry-after': 'Tue, 01 Dec 2026 06:00:05 GMT' }, now)).toBe(5000);
    expect(retryAfterMs({ 'retry-after': 'Tue, 01 Dec 2026 05:59:00 GMT' }, now)).toBe(0);
  });

  it('caps a wait so long that a key would be parked for good', () => {
    expect(retryAfterMs({ 'retry-after': '86400' }, now)).toBe(maxRetryAfterMs);
  });

  it('has no wait to give when the header is missing or unreadable', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs({ 'content-type': 'application/json' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
  });
});
