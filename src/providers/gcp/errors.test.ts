import { describe, expect, it } from 'vitest';
import {
  AccessDenied,
  InvalidReference,
  LimitExceeded,
  NotFound,
  Throttled,
  Unavailable,
} from '../errors.ts';
import { mapGcpError } from './errors.ts';

const grpcError = (code: number) =>
  Object.assign(new Error(`${code} details CANARY`), { code, details: 'CANARY' });

describe('mapGcpError', () => {
  it('maps gRPC status codes to typed errors', () => {
    expect(mapGcpError(grpcError(5), 'db')).toBeInstanceOf(NotFound);
    expect(mapGcpError(grpcError(9), 'db')).toBeInstanceOf(NotFound);
    expect(mapGcpError(grpcError(7), 'db')).toBeInstanceOf(AccessDenied);
    expect(mapGcpError(grpcError(16), 'db')).toBeInstanceOf(AccessDenied);
    expect(mapGcpError(grpcError(8), 'db')).toBeInstanceOf(Throttled);
    expect(mapGcpError(grpcError(3), 'db')).toBeInstanceOf(InvalidReference);
    expect(mapGcpError(grpcError(14), 'db')).toBeInstanceOf(Unavailable);
    expect(mapGcpError(grpcError(4), 'db')).toBeInstanceOf(Unavailable);
  });

  it("tells grpc-js's own receive limit apart from the server's quota, naming the flag", () => {
    const local = Object.assign(new Error('8 RESOURCE_EXHAUSTED: Received message larger than max'), {
      code: 8,
      details: 'Received message larger than max (2000000 vs 1048576)',
    });
    const mapped = mapGcpError(local, 'db');
    expect(mapped).toBeInstanceOf(LimitExceeded);
    expect(mapped.message).toContain('(--max-response-bytes)');
    expect(mapped.retryable).toBe(false);
    expect(mapGcpError(grpcError(8), 'db')).toBeInstanceOf(Throttled);
  });

  it('maps auth library failures by HTTP status, without their request', () => {
    const authError = Object.assign(new Error('invalid_grant CANARY'), {
      response: { status: 400, data: 'CANARY' },
      config: { headers: { authorization: 'Bearer CANARY' } },
    });
    const mapped = mapGcpError(authError, 'db');
    expect(mapped).toBeInstanceOf(AccessDenied);
    expect(JSON.stringify(mapped)).not.toContain('CANARY');
    expect(mapped.message).not.toContain('CANARY');
    expect(mapGcpError(Object.assign(new Error('x'), { response: { status: 503 } }))).toBeInstanceOf(
      Unavailable,
    );
  });

  it('never repeats the server message', () => {
    expect(JSON.stringify(mapGcpError(grpcError(5), 'db'))).not.toContain('CANARY');
  });
});
