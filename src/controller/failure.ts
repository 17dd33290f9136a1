// Turns an error met while reading a store into a status reason, by error type only.
import { isProviderError } from '../providers/errors.ts';
import type { Outcome } from './outcome.ts';

export function failureOutcome(error: unknown): Extract<Outcome, { kind: 'failed' }> {
  if (!isProviderError(error)) {
    // Not a store error: a bug or an API server problem. Retry, and say only what is safe.
    return {
      kind: 'failed',
      reason: 'StoreUnavailable',
      message: 'reading the store failed unexpectedly; retrying',
      retryable: true,
    };
  }
  const message = error.message;
  switch (error.reason) {
    case 'NotFound':
      return { kind: 'failed', reason: 'RemoteNotFound', message, retryable: false };
    case 'AccessDenied':
      return { kind: 'failed', reason: 'AccessDenied', message, retryable: false };
    case 'Throttled':
    case 'Unavailable':
      return { kind: 'failed', reason: 'StoreUnavailable', message, retryable: true };
    case 'InvalidReference':
    case 'TooLarge':
      return { kind: 'failed', reason: 'RemoteValueInvalid', message, retryable: false };
    case 'InvalidSpec':
      return { kind: 'failed', reason: 'StoreInvalid', message, retryable: false };
    case 'CredentialNotFound':
      return { kind: 'failed', reason: 'StoreInvalid', message, retryable: true };
  }
}
