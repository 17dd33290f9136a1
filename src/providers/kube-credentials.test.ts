import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AccessDenied, CredentialNotFound, Unavailable } from './errors.ts';
import { apiError } from './kube-credentials.ts';

// client-node puts the whole response body into an ApiException's message; a Secret read that fails half
// way, or a webhook's answer, could carry anything.
const apiException = (code: number) =>
  new k8s.ApiException(
    code,
    `HTTP-Code: ${code}\nBody: {"data":{"token":"CANARY-body"}}`,
    '{"CANARY":"body"}',
    {},
  );

describe('errors from the API server', () => {
  it.each([
    [404, CredentialNotFound, 'Secret team-a/keys does not exist'],
    [403, AccessDenied, 'the operator may not read Secret team-a/keys (HTTP 403)'],
    [500, Unavailable, 'the API server could not be asked for Secret team-a/keys (HTTP 500)'],
  ])('keeps HTTP %s and the object named, never the body', (code, type, message) => {
    const error = apiError('Secret team-a/keys', apiException(code));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
    expect(JSON.stringify(error)).not.toContain('CANARY');
    expect(error.cause).toBeUndefined();
  });
});
