// Google Cloud errors to typed provider errors, by gRPC status code (or HTTP status for auth failures). The
// error objects themselves stay here: an auth library error carries the token request, headers included.
import {
  AccessDenied,
  InvalidReference,
  isProviderError,
  LimitExceeded,
  NotFound,
  type ProviderError,
  Throttled,
  Unavailable,
} from '../errors.ts';
import { transportErrorCode } from '../transport-errors.ts';

const service = 'GCP Secret Manager';

/** gRPC status codes, as numbers on the wire and names in messages. */
const grpcNames: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

interface GcpErrorShape {
  code?: unknown;
  details?: unknown;
  status?: unknown;
  response?: { status?: unknown };
}

export function mapGcpError(error: unknown, remote?: string): ProviderError {
  if (isProviderError(error)) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as GcpErrorShape;
  const subject = remote ? `"${remote}"` : 'the request';
  const grpc = typeof shape.code === 'number' ? shape.code : undefined;
  if (grpc !== undefined && grpcNames[grpc]) {
    const localLimit =
      typeof shape.details === 'string' && shape.details.startsWith('Received message larger than max');
    return fromGrpc(grpc, grpcNames[grpc], subject, remote, localLimit);
  }

  const transport = transportErrorCode(error);
  if (transport) {
    return new Unavailable(`${service} could not be reached (${transport})`, {
      provider: 'gcp',
      remote,
      code: transport,
    });
  }
  // Errors from the auth library (token exchange, key parsing) carry an HTTP status, or nothing.
  const status = typeof shape.response?.status === 'number' ? shape.response.status : undefined;
  const detail = { provider: 'gcp', remote, httpStatus: status };
  if (status === 429) return new Throttled(`${service} authentication was throttled`, detail);
  if (status !== undefined && status >= 500)
    return new Unavailable(`${service} authentication failed (HTTP ${status})`, detail);
  return new AccessDenied(
    `${service} credentials were not accepted${status ? ` (HTTP ${status})` : ''}`,
    detail,
  );
}

function fromGrpc(
  code: number,
  name: string,
  subject: string,
  remote: string | undefined,
  localLimit: boolean,
): ProviderError {
  const detail = { provider: 'gcp', remote, code: name };
  switch (code) {
    case 5:
      return new NotFound(`${service} has no secret or version ${subject}`, detail);
    case 9:
      return new NotFound(`${service} version ${subject} is disabled or destroyed`, detail);
    case 7:
    case 16:
      return new AccessDenied(`${service} denied access to ${subject} (${name})`, detail);
    case 8:
      // grpc-js reports its own receive limit (--max-response-bytes) with this code too, and says so only in
      // its details; the server's quota errors never carry this text.
      if (localLimit)
        return new LimitExceeded(
          `${service} answered for ${subject} with a message larger than the limit for one answer (--max-response-bytes)`,
          detail,
        );
      return new Throttled(`${service} throttled the request for ${subject} (${name})`, detail);
    case 3:
    case 11:
      return new InvalidReference(`${service} rejected the request for ${subject} (${name})`, detail);
    default:
      return new Unavailable(`${service} failed to answer for ${subject} (${name})`, detail);
  }
}
