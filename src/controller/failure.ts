// Turns an error met while reading a store into a status reason, by error type only.
import { isProviderError, type ProviderErrorReason } from '../providers/errors.ts';
import type { FailureReason, Outcome } from './outcome.ts';

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
  // Whether to retry is the error's own property; only the status reason is decided here.
  return {
    kind: 'failed',
    reason: statusReasons[error.reason],
    message: error.message,
    retryable: error.retryable,
  };
}

const statusReasons: Record<ProviderErrorReason, FailureReason> = {
  NotFound: 'RemoteNotFound',
  AccessDenied: 'AccessDenied',
  Throttled: 'StoreUnavailable',
  Unavailable: 'StoreUnavailable',
  InvalidReference: 'RemoteValueInvalid',
  TooLarge: 'RemoteValueInvalid',
  InvalidSpec: 'StoreInvalid',
  CredentialNotFound: 'StoreInvalid',
  CredentialNotAllowed: 'CredentialNotAllowed',
  LimitExceeded: 'LimitExceeded',
};
