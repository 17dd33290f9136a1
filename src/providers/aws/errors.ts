// AWS SDK errors to typed provider errors. Only the error's name (its AWS error code), the HTTP status and the
// request id are kept: AWS messages and the raw response the SDK attaches never travel further. The code
// itself comes from the response, and an endpoint override may be any server: only codes this file knows
// reach a message, status or log; any other is reported by HTTP status alone.
import {
  AccessDenied,
  InvalidReference,
  isProviderError,
  NotFound,
  type ProviderError,
  Throttled,
  Unavailable,
} from '../errors.ts';
import { transportErrorCode } from '../transport-errors.ts';

const service = 'AWS Secrets Manager';

const denied = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationToken',
  'InvalidIdentityToken',
  'IDPRejectedClaim',
  'DecryptionFailure',
  'CredentialsProviderError',
]);
const throttled = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);
const unavailable = new Set([
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'IDPCommunicationError',
]);
const invalid = new Set(['InvalidParameterException', 'InvalidRequestException', 'ValidationException']);
const knownCodes = new Set([
  'ResourceNotFoundException',
  ...denied,
  ...throttled,
  ...unavailable,
  ...invalid,
]);

/** The code when it is one AWS documents and this file maps; undefined for anything else. */
export function knownAwsCode(code: string | undefined): string | undefined {
  return code !== undefined && knownCodes.has(code) ? code : undefined;
}

interface AwsErrorShape {
  name?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

export function mapAwsError(error: unknown, remote?: string): ProviderError {
  if (isProviderError(error)) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const code = knownAwsCode(typeof shape.name === 'string' ? shape.name : undefined);
  const detail = {
    provider: 'aws',
    remote,
    code,
    httpStatus: shape.$metadata?.httpStatusCode,
    requestId: shape.$metadata?.requestId,
  };
  const subject = remote ? `"${remote}"` : 'the request';
  const transport = transportErrorCode(error);
  if (transport)
    return new Unavailable(`${service} could not be reached (${transport})`, { ...detail, code: transport });
  return fromCode(code, detail.httpStatus, subject, detail);
}

/** Also used for the per-secret error codes a BatchGetSecretValue answer lists. */
export function fromCode(
  code: string | undefined,
  status: number | undefined,
  subject: string,
  detail: { provider: string; remote?: string; code?: string },
): ProviderError {
  code = knownAwsCode(code);
  detail = { ...detail, code };
  const named = code ?? `HTTP ${status ?? 'error'}`;
  if (code === 'ResourceNotFoundException')
    return new NotFound(`${service} has no secret ${subject}`, detail);
  if (code && denied.has(code))
    return new AccessDenied(`${service} denied access to ${subject} (${named})`, detail);
  if ((code && throttled.has(code)) || status === 429) {
    return new Throttled(`${service} throttled the request for ${subject} (${named})`, detail);
  }
  if (code && invalid.has(code)) {
    return new InvalidReference(`${service} rejected the request for ${subject} (${named})`, detail);
  }
  if ((code && unavailable.has(code)) || (status !== undefined && status >= 500)) {
    return new Unavailable(`${service} failed to answer for ${subject} (${named})`, detail);
  }
  if (status === 403 || status === 401)
    return new AccessDenied(`${service} denied access to ${subject} (${named})`, detail);
  return new Unavailable(`${service} request for ${subject} failed (${named})`, detail);
}
