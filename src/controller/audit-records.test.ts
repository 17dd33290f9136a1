import { describe, expect, it } from 'vitest';
import { type AuditContext, auditRecordsFor } from './audit-records.ts';
import type { Plan } from './plan.ts';
import { conflictMessage, type ReferenceStatus } from './status.ts';

const now = Date.parse('2026-11-23T12:00:00Z');

function context(previous: ReferenceStatus): AuditContext {
  return {
    now,
    reference: { namespace: 'etl', name: 'warehouse', uid: 'uid-warehouse' },
    store: { kind: 'SecretStore', name: 'aws' },
    targetName: 'warehouse-credentials',
    deleting: false,
    previous,
  };
}

function plan(overrides: Partial<Plan>): Plan {
  return {
    action: 'none',
    consuming: [],
    expired: [],
    refused: [],
    ended: [],
    ownerReferences: [],
    foreignPods: [],
    ownersChanged: false,
    recheckAfterMs: 300_000,
    jobStarts: [],
    retire: [],
    ...overrides,
  };
}

const conflictWith = (uid: string): ReferenceStatus => ({
  conditions: [
    {
      type: 'Ready',
      status: 'False',
      reason: 'Conflict',
      message: conflictMessage('warehouse-credentials', uid),
      lastTransitionTime: '2026-11-23T11:00:00Z',
    },
  ],
});

describe('auditRecordsFor', () => {
  it('audits a Secret in the way once, and again only when another Secret takes its place', () => {
    const conflict = plan({ action: 'conflict', conflictingUid: 'uid-planted' });
    const first = auditRecordsFor(conflict, { kind: 'idle' }, context({}));
    expect(first.map((record) => [record.action, record.reason])).toEqual([['Refused', 'Conflict']]);
    expect(first[0]?.message).toContain('uid-planted');
    expect(auditRecordsFor(conflict, { kind: 'idle' }, context(conflictWith('uid-planted')))).toEqual([]);
    expect(auditRecordsFor(conflict, { kind: 'idle' }, context(conflictWith('uid-earlier')))).toHaveLength(1);
  });

  it('audits a remote outside the store’s remoteAccess as a refusal, once per distinct refusal', () => {
    const refusal = {
      reason: 'RemoteNotAllowed',
      message: 'does not let namespace etl reach "platform/root"',
    };
    const refused = (previous: ReferenceStatus) =>
      auditRecordsFor(plan({}), { kind: 'idle' }, { ...context(previous), storeRefusal: refusal });
    expect(refused({}).map((record) => [record.action, record.reason, record.message])).toEqual([
      ['Refused', 'RemoteNotAllowed', refusal.message],
    ]);
    const reported: ReferenceStatus = {
      conditions: [
        { type: 'Ready', status: 'False', ...refusal, lastTransitionTime: '2026-11-23T11:00:00Z' },
      ],
    };
    expect(refused(reported)).toEqual([]);
    const other = { ...reported, conditions: [{ ...reported.conditions![0]!, message: 'another remote' }] };
    expect(refused(other)).toHaveLength(1);
  });

  it('audits a reference that may not act once, naming why', () => {
    const standstill = { reason: 'TargetClaimed', message: 'SecretReference original is older' } as const;
    const records = auditRecordsFor(plan({ standstill }), { kind: 'idle' }, context({}));
    expect(records.map((record) => [record.action, record.reason])).toEqual([['Refused', 'TargetClaimed']]);
    const previous: ReferenceStatus = {
      conditions: [
        { type: 'Ready', status: 'False', reason: 'TargetClaimed', message: '', lastTransitionTime: '' },
      ],
    };
    expect(auditRecordsFor(plan({ standstill }), { kind: 'idle' }, context(previous))).toEqual([]);
  });
});
