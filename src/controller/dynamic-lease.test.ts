import { describe, expect, it } from 'vitest';
import type { SecretReference } from '../api/types.ts';
import {
  heldLeaseOf,
  keepsLease,
  leaseAnnotationOf,
  leaseRenewMarginMs,
  leaseSeconds,
  leaseSource,
} from './dynamic-lease.ts';
import { leaseRecords } from './lease-records.ts';

const now = Date.parse('2026-01-01T00:00:00Z');
const reference = {
  spec: { dynamic: { database: { role: 'elt-reader' } } },
} as unknown as SecretReference;
const held = {
  handle: { leaseId: 'database/creds/elt-reader/abc', tokenAccessor: 'acc' },
  expiresAt: now + 60_000,
  fingerprint: 'hmac-sha256:00',
  source: 'database/creds/elt-reader',
};
const secretWith = (annotations: Record<string, string>) => ({ metadata: { annotations } });

describe('dynamic credential leases', () => {
  it('reads back the handle a Secret carries, and nothing from an edited annotation', () => {
    expect(heldLeaseOf(secretWith(leaseAnnotationOf(held)))).toEqual(held);
    expect(heldLeaseOf(secretWith({ 'secretlink.dev/lease': '{not json' }))).toBeUndefined();
    expect(heldLeaseOf(secretWith({}))).toBeUndefined();
  });

  it('keeps a lease of the same role while it stands, and replaces one near its bound or of another role', () => {
    expect(leaseSource(reference.spec.dynamic!)).toBe('database/creds/elt-reader');
    expect(keepsLease(held, reference, now)).toBe(true);
    expect(keepsLease(held, reference, held.expiresAt - leaseRenewMarginMs)).toBe(false);
    expect(keepsLease({ ...held, source: 'database/creds/other' }, reference, now)).toBe(false);
    expect(keepsLease(undefined, reference, now)).toBe(false);
    // Near its end, a lease that lasts as long as the Secret is kept: a new one would last no longer.
    const nearEnd = held.expiresAt - 1_000;
    expect(keepsLease(held, reference, nearEnd, new Date(held.expiresAt + 500).toISOString())).toBe(true);
    expect(keepsLease(held, reference, nearEnd, new Date(held.expiresAt + 30_000).toISOString())).toBe(false);
  });

  it('bounds a new lease by the Secret expiry and never beyond the ttl', () => {
    expect(leaseSeconds(now, new Date(now + 30_500).toISOString(), 60_000)).toBe(30);
    expect(leaseSeconds(now, new Date(now + 3_600_000).toISOString(), 60_000)).toBe(60);
    expect(leaseSeconds(now, undefined, 60_000)).toBe(60);
  });

  it('records each lease effect once per Job, by fingerprint, with ids that do not change', () => {
    const effect = {
      kind: 'issued' as const,
      fingerprint: held.fingerprint,
      expiresAt: new Date(held.expiresAt).toISOString(),
      source: held.source,
      secret: { name: 'warehouse', uid: 's1' },
      jobs: [
        { name: 'a', uid: 'u1' },
        { name: 'b', uid: 'u2' },
      ],
      reason: 'DynamicCredentialIssued',
    };
    const context = {
      time: new Date(now).toISOString(),
      reference: { namespace: 'ns', name: 'warehouse' },
      store: { kind: 'SecretStore', name: 'vault' },
    };
    const records = leaseRecords([effect], context);
    expect(records.map((record) => [record.action, record.job?.name])).toEqual([
      ['LeaseIssued', 'a'],
      ['LeaseIssued', 'b'],
    ]);
    expect(records[0]!.lease).toEqual({ fingerprint: held.fingerprint, expiresAt: effect.expiresAt });
    expect(JSON.stringify(records)).not.toContain(held.handle.leaseId);
    expect(JSON.stringify(records)).not.toContain('"acc"');
    expect(leaseRecords([effect], { ...context, time: 'later' }).map((record) => record.id)).toEqual(
      records.map((record) => record.id),
    );
  });
});
