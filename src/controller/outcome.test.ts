import { describe, expect, it } from 'vitest';
import { failureOutcome, outcomeOfWrite, type SecretWrite } from './outcome.ts';
import { TemplateError } from './secret-template.ts';

const content = { remoteVersions: { warehouse: 'v2' }, fingerprint: 'hmac-sha256:ab', writtenAt: 'now' };

describe('outcomeOfWrite', () => {
  it.each<[SecretWrite, string]>([
    [{ result: 'created', uid: 'uid-1' }, 'written'],
    [{ result: 'replaced' }, 'written'],
    [{ result: 'updated' }, 'current'],
    [{ result: 'deleted' }, 'deleted'],
    [{ result: 'gone' }, 'gone'],
    [
      { result: 'rejected', message: 'replace Secret: the API server refused the Secret as invalid' },
      'failed',
    ],
  ])('reports %j as %s: only what the API server confirmed', (write, kind) => {
    expect(outcomeOfWrite(write, content).kind).toBe(kind);
  });

  it('never reports a Secret that vanished before the replace as written', () => {
    expect(outcomeOfWrite({ result: 'gone' }, content)).toEqual({ kind: 'gone' });
  });

  it('records the uid only of a Secret the API server created', () => {
    expect(outcomeOfWrite({ result: 'created', uid: 'uid-1' }, content)).toMatchObject({
      kind: 'written',
      created: true,
      uid: 'uid-1',
    });
    expect(outcomeOfWrite({ result: 'replaced' }, content)).not.toHaveProperty('uid');
  });
});

describe('failureOutcome', () => {
  it('reports a template that fails as TemplateInvalid, not retried, with the message as written', () => {
    const error = new TemplateError('url', 'target.template key "url", line 1, column 4: undefined variable');
    expect(failureOutcome(error)).toEqual({
      kind: 'failed',
      reason: 'TemplateInvalid',
      message: 'target.template key "url", line 1, column 4: undefined variable',
      retryable: false,
    });
  });
});
