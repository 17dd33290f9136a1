// What the thin effect layer reports back after carrying out a plan, so that status and audit records can
// be derived purely from (plan, outcome); and how an error met while reading a store becomes a failed outcome.
import type { ReferenceReason } from '../api/conditions.ts';
import { isProviderError, type ProviderErrorReason } from '../providers/errors.ts';

export type Outcome =
  /** The Secret was written (created or rewritten) with these remote versions. */
  | {
      kind: 'written';
      created: boolean;
      /** The Secret's uid as the API server confirmed it; recorded as the only Secret this reference trusts. */
      uid?: string;
      remoteVersions: Record<string, string>;
      fingerprint: string;
      writtenAt: string;
    }
  /** The remote versions were compared and nothing changed; owners may have been updated. */
  | { kind: 'current' }
  | { kind: 'deleted' }
  /** Nothing to do, or nothing could be done (conflict, store problem). */
  | { kind: 'idle' }
  | { kind: 'failed'; reason: FailureReason; message: string; retryable: boolean };

export type FailureReason = Extract<
  ReferenceReason,
  | 'RemoteNotFound'
  | 'AccessDenied'
  | 'StoreUnavailable'
  | 'RemoteValueInvalid'
  | 'LimitExceeded'
  | 'InvalidSpec'
  | 'StoreInvalid'
  | 'CredentialNotAllowed'
>;

/** Turns an error met while reading a store into a status reason, by error type only. */
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
