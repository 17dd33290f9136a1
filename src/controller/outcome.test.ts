import { describe, expect, it } from 'vitest';
import { failureOutcome, type Grant, outcomeOfWrite, type SecretWrite } from './outcome.ts';
import { TemplateError } from './secret-template.ts';

const content = { remoteVersions: { warehouse: 'v2' }, fingerprint: 'hmac-sha256:ab', writtenAt: 'now' };
const secret = { name: 'warehouse', uid: 'uid-1', resourceVersion: '7' };
const grants: Grant[] = [
  { action: 'Materialized', reason: 'SecretCreated', job: { name: 'dbt', uid: 'uid-dbt' } },
];
const audit = { time: '2026-11-30T12:00:00.000Z', grants };

describe('outcomeOfWrite', () => {
  it.each<[SecretWrite, string]>([
    [{ result: 'created', secret }, 'written'],
    [{ result: 'replaced', secret }, 'written'],
    [{ result: 'updated', secret }, 'current'],
    [{ result: 'deleted', secret }, 'deleted'],
    [{ result: 'gone' }, 'gone'],
    [
      { result: 'rejected', message: 'replace Secret: the API server refused the Secret as invalid' },
      'failed',
    ],
  ])('reports %j as %s: only what the API server confirmed', (write, kind) => {
    expect(outcomeOfWrite(write, audit, content).kind).toBe(kind);
  });

  it('never reports a Secret that vanished before the replace as written', () => {
    expect(outcomeOfWrite({ result: 'gone' }, audit, content)).toEqual({ kind: 'gone' });
  });

  it('records the uid only of a Secret the API server created', () => {
    expect(outcomeOfWrite({ result: 'created', secret }, audit, content)).toMatchObject({
      kind: 'written',
      created: true,
      uid: 'uid-1',
    });
    expect(outcomeOfWrite({ result: 'replaced', secret }, audit, content)).not.toHaveProperty('uid');
  });

  it.each<SecretWrite['result']>(['created', 'replaced', 'updated'])(
    'names the Secret %s as the API server answered, with the grants the write carried',
    (result) => {
      const outcome = outcomeOfWrite({ result, secret } as SecretWrite, audit, content);
      expect(outcome).toMatchObject({ effect: { kind: result, secret, time: audit.time, grants } });
    },
  );

  it('names the deleted Secret by the uid its precondition named, and grants nothing', () => {
    expect(outcomeOfWrite({ result: 'deleted', secret }, audit)).toEqual({
      kind: 'deleted',
      effect: { kind: 'deleted', secret, time: audit.time, grants: [] },
    });
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
