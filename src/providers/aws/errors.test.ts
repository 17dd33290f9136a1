import { describe, expect, it } from 'vitest';
import { AccessDenied, InvalidReference, NotFound, Throttled, Unavailable } from '../errors.ts';
import { mapAwsError } from './errors.ts';

const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status, requestId: 'req-1' },
    ...extra,
  });

describe('mapAwsError', () => {
  it('maps AWS error codes to typed errors', () => {
    expect(mapAwsError(sdkError('ResourceNotFoundException', 400), 'db')).toBeInstanceOf(NotFound);
    expect(mapAwsError(sdkError('AccessDeniedException', 400), 'db')).toBeInstanceOf(AccessDenied);
    expect(mapAwsError(sdkError('UnrecognizedClientException', 400), 'db')).toBeInstanceOf(AccessDenied);
    expect(mapAwsError(sdkError('ThrottlingException', 400), 'db')).toBeInstanceOf(Throttled);
    expect(mapAwsError(sdkError('InvalidParameterException', 400), 'db')).toBeInstanceOf(InvalidReference);
    expect(mapAwsError(sdkError('InternalServiceError', 500), 'db')).toBeInstanceOf(Unavailable);
    expect(mapAwsError(sdkError('SomethingNew', 503), 'db')).toBeInstanceOf(Unavailable);
  });

  it('maps a refused connection to a retryable Unavailable', () => {
    const refused = Object.assign(
      new AggregateError([Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })]),
      {
        code: 'ECONNREFUSED',
      },
    );
    const mapped = mapAwsError(refused, 'db');
    expect(mapped).toBeInstanceOf(Unavailable);
    expect(mapped.retryable).toBe(true);
    expect(mapped.detail.code).toBe('ECONNREFUSED');
  });

  it('keeps the code, status and request id, and nothing the SDK attached', () => {
    const error = sdkError('AccessDeniedException', 400, {
      $response: { body: 'CANARY-body' },
      message: 'User arn:aws:iam::1:user/x is not authorized CANARY-message',
    });
    const mapped = mapAwsError(error, 'db');
    expect(mapped.toJSON()).toEqual({
      name: 'AccessDenied',
      reason: 'AccessDenied',
      retryable: false,
      message: 'AWS Secrets Manager denied access to "db" (AccessDeniedException)',
      provider: 'aws',
      remote: 'db',
      code: 'AccessDeniedException',
      httpStatus: 400,
      requestId: 'req-1',
    });
    expect(JSON.stringify(mapped)).not.toContain('CANARY');
    expect(mapped.cause).toBeUndefined();
  });
});

describe('error codes from the endpoint', () => {
  it('passes on only codes it knows: a server behind an endpoint override cannot write into status', () => {
    const planted = sdkError('Contents_of_http_169.254.169.254_latest_meta-data', 400);
    const mapped = mapAwsError(planted, 'db');
    expect(mapped.message).toBe('AWS Secrets Manager request for "db" failed (HTTP 400)');
    expect(mapped.detail.code).toBeUndefined();
    expect(JSON.stringify(mapped)).not.toContain('meta-data');
  });
});
