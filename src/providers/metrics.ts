// Provider metrics, in a registry of their own that the operator merges into /metrics. Labels are the
// provider, the kind of call and its outcome: never a secret name, a store name or a value.
import { Counter, Histogram, Registry } from 'prom-client';
import { isProviderError } from './errors.ts';
import type { ProviderName } from './store-spec.ts';

export const providerMetricsRegistry = new Registry();

/** get, batchGet, describe (read without the value), list (names only), login, renew. */
export type ProviderOperation = 'get' | 'batchGet' | 'describe' | 'list' | 'login' | 'renew';

export const providerCalls = new Counter({
  name: 'secretlink_provider_calls_total',
  help: 'Calls made to external secret stores, by provider, operation and outcome (success or an error reason).',
  labelNames: ['provider', 'operation', 'outcome'] as const,
  registers: [providerMetricsRegistry],
});

export const providerCallDuration = new Histogram({
  name: 'secretlink_provider_call_duration_seconds',
  help: 'Duration of calls made to external secret stores.',
  labelNames: ['provider', 'operation'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [providerMetricsRegistry],
});

export const providerCacheLookups = new Counter({
  name: 'secretlink_provider_cache_lookups_total',
  help: 'Reads answered from the value cache (hit), by joining a call already in flight (shared), or by the store (miss).',
  labelNames: ['provider', 'result'] as const,
  registers: [providerMetricsRegistry],
});

/** Runs one store call, counting it and timing it; the error is passed on unchanged. */
export async function countedCall<T>(
  provider: ProviderName,
  operation: ProviderOperation,
  call: () => Promise<T>,
): Promise<T> {
  const stopTimer = providerCallDuration.startTimer({ provider, operation });
  try {
    const result = await call();
    providerCalls.inc({ provider, operation, outcome: 'success' });
    return result;
  } catch (error) {
    providerCalls.inc({ provider, operation, outcome: outcomeOf(error) });
    throw error;
  } finally {
    stopTimer();
  }
}

function outcomeOf(error: unknown): string {
  if (isProviderError(error)) return error.reason;
  if (error instanceof Error && error.name === 'AbortError') return 'Aborted';
  return 'Error';
}

/** The number of calls counted so far for a provider (all operations and outcomes, or one operation). */
export async function providerCallCount(
  provider: ProviderName,
  operation?: ProviderOperation,
): Promise<number> {
  const metric = await providerCalls.get();
  return metric.values
    .filter(
      (sample) =>
        sample.labels.provider === provider && (!operation || sample.labels.operation === operation),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}
