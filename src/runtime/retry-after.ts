// An HTTP Retry-After header as a wait in milliseconds. API Priority and Fairness answers a request it will
// not queue with 429 and `Retry-After: 1`; an HTTP date is allowed too. Capped, so a wrong or hostile value
// cannot park a key for hours: the queue's own backoff still applies on top.

/** Longest wait a Retry-After is believed for. */
export const maxRetryAfterMs = 60_000;

export function retryAfterMs(headers: Record<string, string> | undefined, now: number): number | undefined {
  const raw = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  const waitMs = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(waitMs)) return undefined;
  return Math.min(maxRetryAfterMs, Math.max(0, waitMs));
}
