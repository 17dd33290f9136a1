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
      /** The create or replace as the API server confirmed it. */
      effect: SecretEffect;
    }
  /** The remote versions were compared and nothing changed; `effect` when the owners were updated. */
  | { kind: 'current'; effect?: SecretEffect }
  /** The Secret `effect` names (by the uid the delete's precondition named) was deleted. */
  | { kind: 'deleted'; effect: SecretEffect }
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
  | 'AuditUnavailable'
>;

/** A Secret as the API server confirmed it: the answer to a write, or for a delete the one its precondition named. */
export interface SecretIdentity {
  name: string;
  uid: string;
  /** After a create, replace or update, the new one; for a delete, the one the delete was conditional on. */
  resourceVersion?: string;
}

/**
 * One access a write to a Secret grants or renews, carried in the Secret itself (`secretlink.dev/audit`) in the
 * same request, so the record can be derived again from the cluster if the operator stops before making it.
 */
export interface Grant {
  action: 'Materialized' | 'Refreshed';
  /** SecretCreated, JobJoined, RemoteVersionChanged or ContentChanged. */
  reason: string;
  job: { name: string; uid: string };
  /** For a grant: until when the Job is entitled (its expiry). */
  until?: string;
}

/** What one reconcile did to a Secret, as the API server confirmed it. */
export interface SecretEffect {
  kind: 'created' | 'replaced' | 'updated' | 'deleted';
  secret: SecretIdentity;
  /** When the operator decided it (the grants' record time). */
  time: string;
  /** The accesses this write granted or renewed (none for a delete). */
  grants: Grant[];
}

/**
 * What the API server confirmed for one write to a Secret. A 404 is `gone`, never success: the object the
 * write was for no longer exists, so nothing was written.
 */
export type SecretWrite =
  | { result: 'created' | 'replaced' | 'updated' | 'deleted'; secret: SecretIdentity }
  | { result: 'gone' }
  /** The API server refused the object as invalid (HTTP 422); the message holds no part of the object. */
  | { result: 'rejected'; message: string };

/** The content a create or replace wrote, reported with the outcome so status and audit can name it. */
export interface WrittenContent {
  remoteVersions: Record<string, string>;
  fingerprint: string;
  writtenAt: string;
}

/**
 * The outcome of a reconcile whose effect was this one Secret write: only what the API server confirmed.
 * `time` and `grants` are what the write carried (the same as in its `secretlink.dev/audit` annotation).
 */
export function outcomeOfWrite(
  write: SecretWrite,
  audit: { time: string; grants: Grant[] },
  content?: WrittenContent,
): Outcome {
  if (write.result === 'gone') return { kind: 'gone' };
  if (write.result === 'rejected') {
    // Keys are checked before writing, so this is a value the API server refuses for another reason.
    return { kind: 'failed', reason: 'RemoteValueInvalid', message: write.message, retryable: false };
  }
  const effect: SecretEffect = { kind: write.result, secret: write.secret, ...audit };
  switch (write.result) {
    case 'created':
      return { kind: 'written', created: true, uid: write.secret.uid, ...content!, effect };
    case 'replaced':
      return { kind: 'written', created: false, ...content!, effect };
    case 'updated':
      return { kind: 'current', effect };
    case 'deleted':
      return { kind: 'deleted', effect: { ...effect, grants: [] } };
  }
}

/** No access is granted while the audit file cannot record the grant; retried like a waiting Job's read. */
export const auditUnavailableOutcome: Extract<Outcome, { kind: 'failed' }> = {
  kind: 'failed',
  reason: 'AuditUnavailable',
  message:
    'the audit file cannot take records (the audit volume is full or read-only); no access is granted until it can',
  retryable: false,
};

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
