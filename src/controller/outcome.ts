// What the thin effect layer reports back after carrying out a plan, so that status and audit records can
// be derived purely from (plan, outcome); and how an error met while reading a store becomes a failed outcome.
import type { ReferenceReason } from '../api/conditions.ts';
import { isProviderError, type ProviderErrorReason } from '../providers/errors.ts';
import { TemplateError } from './secret-template.ts';

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
  /**
   * The Secret this reconcile was to replace or update was deleted by someone else first: nothing was written,
   * and the next reconcile (at once) writes it again.
   */
  | { kind: 'gone' }
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
  | 'TemplateInvalid'
  | 'RemoteNotAllowed'
>;

/**
 * What the API server confirmed for one write to a Secret. A 404 is `gone`, never success: the object the
 * write was for no longer exists, so nothing was written.
 */
export type SecretWrite =
  | { result: 'created'; uid: string }
  | { result: 'replaced' }
  | { result: 'updated' }
  | { result: 'deleted' }
  | { result: 'gone' }
  /** The API server refused the object as invalid (HTTP 422); the message holds no part of the object. */
  | { result: 'rejected'; message: string };

/** The content a create or replace wrote, reported with the outcome so status and audit can name it. */
export interface WrittenContent {
  remoteVersions: Record<string, string>;
  fingerprint: string;
  writtenAt: string;
}

/** The outcome of a reconcile whose effect was this one Secret write: only what the API server confirmed. */
export function outcomeOfWrite(write: SecretWrite, content?: WrittenContent): Outcome {
  switch (write.result) {
    case 'created':
      return { kind: 'written', created: true, uid: write.uid, ...content! };
    case 'replaced':
      return { kind: 'written', created: false, ...content! };
    case 'updated':
      return { kind: 'current' };
    case 'deleted':
      return { kind: 'deleted' };
    case 'gone':
      return { kind: 'gone' };
    case 'rejected':
      // Keys are checked before writing, so this is a value the API server refuses for another reason.
      return { kind: 'failed', reason: 'RemoteValueInvalid', message: write.message, retryable: false };
  }
}

/** Turns an error met while reading a store into a status reason, by error type only. */
export function failureOutcome(error: unknown): Extract<Outcome, { kind: 'failed' }> {
  // A template that fails fails the same way on every read, until the spec changes.
  if (error instanceof TemplateError)
    return { kind: 'failed', reason: 'TemplateInvalid', message: error.message, retryable: false };
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
  RemoteNotAllowed: 'RemoteNotAllowed',
};
