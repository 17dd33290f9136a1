// What the thin effect layer reports back after carrying out a plan, so that status and audit records can
// be derived purely from (plan, outcome).
import type { ReferenceReason } from '../api/conditions.ts';

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
