import { ApiException, type EventsV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { auditEvent, KubernetesEventSink, maxNoteBytes, truncateUtf8 } from './event-sink.ts';
import type { AuditRecord } from './types.ts';

const revoked: AuditRecord = {
  id: '0123456789abcdef0123456789abcdef',
  time: '2025-01-01T10:00:00.123Z',
  action: 'Revoked',
  reference: { namespace: 'etl', name: 'warehouse', uid: 'ref-uid' },
  remotes: [],
  targetSecret: { namespace: 'etl', name: 'warehouse-credentials' },
  reason: 'ReferenceDeleted',
  message: 'Secret warehouse-credentials deleted with its SecretReference.',
};

describe('an audit Event', () => {
  it('is Normal for grants and revocations and Warning for refusals and failures', () => {
    expect(auditEvent(revoked, 'op-0').type).toBe('Normal');
    expect(auditEvent({ ...revoked, action: 'Refused' }, 'op-0').type).toBe('Warning');
    expect(auditEvent({ ...revoked, action: 'Failed' }, 'op-0').type).toBe('Warning');
  });

  it('has no related object when no Job is involved', () => {
    expect(auditEvent(revoked, 'op-0').related).toBeUndefined();
  });

  it('carries the time with microseconds, as the API server requires', () => {
    expect(JSON.parse(JSON.stringify(auditEvent(revoked, 'op-0'))).eventTime).toBe(
      '2025-01-01T10:00:00.123000Z',
    );
  });

  it('cuts a long note to the 1 kB the API server accepts, without splitting a character', () => {
    const note = auditEvent({ ...revoked, message: 'é'.repeat(2000) }, 'op-0').note!;
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(maxNoteBytes);
    expect(note.endsWith('é…')).toBe(true);
    expect(truncateUtf8('short', maxNoteBytes)).toBe('short');
  });
});

describe('an audit Event named by its record', () => {
  it('has the same name every time the same record is emitted, and another for another record', () => {
    const name = auditEvent(revoked, 'op-0').metadata?.name;
    expect(name).toBe('warehouse.0123456789abcdef0123456789abcdef');
    expect(auditEvent(revoked, 'op-1').metadata?.name).toBe(name);
    expect(auditEvent({ ...revoked, id: 'f'.repeat(32) }, 'op-0').metadata?.name).not.toBe(name);
  });

  it('counts AlreadyExists as recorded, and any other refusal as a failure', async () => {
    const answering = (code: number) =>
      new KubernetesEventSink(
        {
          createNamespacedEvent: async () => {
            throw new ApiException(code, 'refused', {}, {});
          },
        } as unknown as EventsV1Api,
        'op-0',
      );
    await expect(answering(409).write(revoked)).resolves.toBeUndefined();
    await expect(answering(403).write(revoked)).rejects.toThrow();
  });
});
