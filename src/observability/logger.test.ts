// The logger is the second line of defence: whatever a caller passes, credential fields and API response
// bodies never reach the output.
import { Writable } from 'node:stream';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { safeMessage } from '../operator.ts';
import { createLogger } from './logger.ts';

const canary = 'canary-7f3a9c1e-never-logged';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', destination), lines };
}

const credentialFields = [
  'jwt',
  'secret_id',
  'private_key',
  'client_token',
  'keyJSON',
  'token',
  'password',
  'secretAccessKey',
  'authorization',
  'data',
];

/** `{ field: canary }` nested `depth` objects deep. */
function nested(field: string, depth: number): Record<string, unknown> {
  let object: Record<string, unknown> = { [field]: canary };
  for (let level = 1; level < depth; level++) object = { [`level${level}`]: object };
  return object;
}

describe('the operator logger', () => {
  for (const field of credentialFields) {
    for (const depth of [1, 2, 3]) {
      it(`redacts ${field} at depth ${depth}`, () => {
        const { logger, lines } = capture();
        logger.info(nested(field, depth), 'provider call');
        expect(lines).toHaveLength(1);
        expect(lines[0]).not.toContain(canary);
        expect(lines[0]).toContain('[redacted]');
      });
    }
  }

  it('redacts credential fields inside arrays and in child logger bindings', () => {
    const { logger, lines } = capture();
    logger.child({ auth: { appRole: { secret_id: canary } } }).info({ items: [{ jwt: canary }] }, 'x');
    expect(lines[0]).not.toContain(canary);
  });

  it('logs an ApiException whose body holds a canary without the body or headers', () => {
    const { logger, lines } = capture();
    const error = new ApiException(403, 'Forbidden', { message: canary }, { 'x-echo': canary });
    logger.error({ err: error }, 'request failed');
    logger.error({ nested: { cause: error } }, 'request failed');
    logger.error(error);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(canary);
      expect(line).toContain('403');
    }
  });

  it('drops body and response from any error object', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error('store said no'), {
      body: canary,
      response: { data: canary },
    });
    logger.warn({ err: error }, 'store call failed');
    expect(lines[0]).not.toContain(canary);
    expect(lines[0]).toContain('store said no');
  });

  it('cuts the body out of an ApiException message that was turned into a string', () => {
    const { logger, lines } = capture();
    const error = new ApiException(500, 'boom', { secret: canary }, {});
    logger.warn({ err: safeMessage(error), detail: String(error.message) }, 'reconcile failed');
    expect(lines[0]).not.toContain(canary);
    expect(safeMessage(error)).not.toContain(canary);
  });
});
