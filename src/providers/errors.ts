// Typed provider errors. The reconcile decides retry versus report by class (or `reason`), never by message.
// A ProviderError carries only fields we chose: SDK errors are never attached (not even as `cause`), because
// they can embed request and response bodies, and so secret values or credentials.

export type ProviderErrorReason =
  | 'NotFound'
  | 'AccessDenied'
  | 'Throttled'
  | 'Unavailable'
  | 'InvalidReference'
  | 'TooLarge'
  | 'InvalidSpec'
  | 'CredentialNotFound'
  | 'CredentialNotAllowed'
  | 'LimitExceeded'
  | 'RemoteNotAllowed';

/** Safe facts about the failure, for logs and status: codes and ids only, never bodies. */
export interface ErrorDetail {
  provider?: string;
  /** The remote secret name (a name, never a value). */
  remote?: string;
  /** The SDK's or server's error code, e.g. ResourceNotFoundException, NOT_FOUND, or an errno. */
  code?: string;
  httpStatus?: number;
  requestId?: string;
}

export abstract class ProviderError extends Error {
  abstract readonly reason: ProviderErrorReason;
  abstract readonly retryable: boolean;
  readonly detail: ErrorDetail;

  constructor(message: string, detail: ErrorDetail = {}) {
    super(message);
    this.name = new.target.name;
    this.detail = pickSafeDetail(detail);
  }

  toJSON() {
    return {
      name: this.name,
      reason: this.reason,
      retryable: this.retryable,
      message: this.message,
      ...this.detail,
    };
  }
}

/** The remote secret, or the requested version of it, does not exist. */
export class NotFound extends ProviderError {
  readonly reason = 'NotFound';
  readonly retryable = false;
}

/** The store refused the credentials or the operation (policy, IAM, bad or expired credentials). */
export class AccessDenied extends ProviderError {
  readonly reason = 'AccessDenied';
  readonly retryable = false;
}

/** The store asked us to slow down. */
export class Throttled extends ProviderError {
  readonly reason = 'Throttled';
  readonly retryable = true;
}

/** The store could not be reached or answered with a server error: timeouts, refused connections, 5xx. */
export class Unavailable extends ProviderError {
  readonly reason = 'Unavailable';
  readonly retryable = true;
}

/** The reference cannot be satisfied as written: bad property, value not JSON, malformed version. */
export class InvalidReference extends ProviderError {
  readonly reason = 'InvalidReference';
  readonly retryable = false;
}

/** The value would not fit in a Kubernetes Secret (1 MiB). */
export class TooLarge extends ProviderError {
  readonly reason = 'TooLarge';
  readonly retryable = false;
}

/** The store spec cannot be used (caught at run time when static validation could not catch it). */
export class InvalidSpec extends ProviderError {
  readonly reason = 'InvalidSpec';
  readonly retryable = false;
}

/** A Secret or key the store names for its credentials does not exist (yet); worth retrying. */
export class CredentialNotFound extends ProviderError {
  readonly reason = 'CredentialNotFound';
  readonly retryable = true;
}

/**
 * A Secret or ServiceAccount the store names has not opted in to being used by that store (its
 * `secretlink.dev/allowed-stores` annotation does not list it). Retried, so adding the entry is picked up.
 */
export class CredentialNotAllowed extends ProviderError {
  readonly reason = 'CredentialNotAllowed';
  readonly retryable = true;
}

/**
 * Reading would go past one of the operator's own limits (the size of one store answer, the bytes one reference
 * may read): refused so that one reference cannot exhaust the memory every tenant's revocations depend on.
 * Retrying reads the same bytes again, so it waits for the next refresh or a spec change.
 */
export class LimitExceeded extends ProviderError {
  readonly reason = 'LimitExceeded';
  readonly retryable = false;
}

/**
 * The store's owner does not let this namespace reach the remote secret (a ClusterSecretStore's remoteAccess),
 * so it is not asked for. Thrown before any read; retrying asks the same question.
 */
export class RemoteNotAllowed extends ProviderError {
  readonly reason = 'RemoteNotAllowed';
  readonly retryable = false;
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}

const safeToken = /^[A-Za-z0-9_.:-]{1,128}$/;

// Only short identifier-like strings survive, so nothing shaped like a body or a value slips through.
function pickSafeDetail(detail: ErrorDetail): ErrorDetail {
  const safe: ErrorDetail = {};
  if (detail.provider && safeToken.test(detail.provider)) safe.provider = detail.provider;
  if (detail.remote) safe.remote = detail.remote.slice(0, 512);
  if (detail.code && safeToken.test(detail.code)) safe.code = detail.code;
  if (typeof detail.httpStatus === 'number' && Number.isInteger(detail.httpStatus))
    safe.httpStatus = detail.httpStatus;
  if (detail.requestId && safeToken.test(detail.requestId)) safe.requestId = detail.requestId;
  return safe;
}
