import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { LogAuditSink } from './log-sink.ts';
import type { AuditRecord } from './types.ts';

const refused: AuditRecord = {
  id: 'refused-1',
  time: '2025-01-01T00:00:00.000Z',
  action: 'Refused',
  reference: { namespace: 'etl', name: 'warehouse', uid: 'ref-uid' },
  store: { kind: 'SecretStore', name: 'aws', provider: 'aws' },
  remotes: [{ name: 'warehouse/loader', version: 'v7' }],
  targetSecret: { namespace: 'etl', name: 'warehouse-credentials' },
  job: { namespace: 'etl', name: 'adhoc', uid: 'job-uid' },
  reason: 'ConsumersMismatch',
  message:
    'Job adhoc refers to Secret warehouse-credentials but was refused: pod template label tier is not "batch".',
};

describe('the log audit sink', () => {
  it('writes the whole record as one JSON info line marked audit: true, through the operator logger', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    await new LogAuditSink(createLogger('info', destination)).write(refused);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'info', msg: 'audit', audit: true, ...refused });
  });

  it('carries the chain, seq and head of the record in the signed audit file', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const position = { chain: 'secretlink-operator-0', seq: 42, head: 'ab'.repeat(32) };
    await new LogAuditSink(createLogger('info', destination)).write(refused, position);
    expect(JSON.parse(lines[0]!)).toMatchObject({ audit: true, ...refused, ...position });
  });
});
