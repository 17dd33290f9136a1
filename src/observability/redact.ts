// What the logger does to every object before it is written: credential-bearing fields are replaced at any
// depth, errors are reduced to their type, message and code, and API response bodies and headers are dropped.
// client-node's ApiException puts the response body and headers into its message, so for it only the HTTP
// code is kept.
import { ApiException } from '@kubernetes/client-node';

export const redacted = '[redacted]';

/** Field names (compared lower-case, without `_` and `-`) whose value is never logged, at any depth. */
const sensitiveFields = new Set(
  [
    'data',
    'stringData',
    'value',
    'values',
    'token',
    'jwt',
    'secret',
    'secret_id',
    'password',
    'private_key',
    'privateKey',
    'secretAccessKey',
    'sessionToken',
    'clientToken',
    'client_token',
    'keyJSON',
    'credentials',
    'authorization',
    'cookie',
    'headers',
    'body',
    'response',
  ].map(normalise),
);

function normalise(field: string): string {
  return field.toLowerCase().replace(/[_-]/g, '');
}

export function isSensitiveField(field: string): boolean {
  return sensitiveFields.has(normalise(field));
}

const maxDepth = 10;

/** A copy of `value` that is safe to log. */
export function scrub(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return cutResponseBody(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (depth >= maxDepth) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) return scrubError(value, depth, seen);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return '[binary]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = isSensitiveField(key) ? redacted : scrub(field, depth + 1, seen);
  }
  return copy;
}

function scrubError(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const result: Record<string, unknown> = { type: error.name, message: safeErrorMessage(error) };
  if (error instanceof ApiException) return { ...result, code: error.code };
  if (!(error instanceof ApiException) && error.stack) result.stack = cutResponseBody(error.stack);
  // Own fields such as code or reason, but never body, response, headers or any other sensitive field.
  for (const [key, field] of Object.entries(error)) {
    if (key === 'message' || key === 'stack') continue;
    result[key] = isSensitiveField(key) ? redacted : scrub(field, depth + 1, seen);
  }
  if (error.cause !== undefined) result.cause = scrub(error.cause, depth + 1, seen);
  return result;
}

/** An error's message without response bodies: for an ApiException, only its HTTP code. */
export function safeErrorMessage(error: unknown): string {
  if (error instanceof ApiException) return `HTTP ${error.code}`;
  if (error instanceof Error) return cutResponseBody(error.message);
  return 'unknown error';
}

/** Cuts an ApiException message that was already turned into text at its body. */
export function cutResponseBody(text: string): string {
  const start = text.indexOf('HTTP-Code: ');
  if (start < 0) return text;
  const body = text.indexOf('\nBody: ', start);
  return body < 0 ? text : `${text.slice(0, body)} [response body and headers dropped]`;
}
