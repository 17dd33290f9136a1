// Audit as a function of (plan, outcome): a grant or refresh only for a write the API server confirmed, naming
// the Secret it wrote; an end of access exactly once, whether this reconcile or an interrupted one deleted it;
// and every record under an id that the same decision always gets again.
import { describe, expect, it } from 'vitest';
import {
  type AuditContext,
  auditRecordsFor,
  grantRecords,
  grantsOf,
  type HeldSecret,
} from './audit-records.ts';
import { buildSecret, writeAuditOf } from './managed-secret.ts';
import type { Grant, Outcome } from './outcome.ts';
import type { Plan, SecretAction } from './plan.ts';
import { conflictMessage, type ReferenceStatus } from './status.ts';

const now = Date.parse('2026-11-30T12:00:00Z');
const time = new Date(now).toISOString();
const target = 'warehouse-credentials';
const etl = {
  name: 'etl',
  uid: 'uid-etl',
  startTime: '2026-11-30T11:59:00Z',
  expiresAt: '2026-11-30T13:59:00Z',
};
const late = {
  name: 'late',
  uid: 'uid-late',
  startTime: '2026-11-30T12:00:00Z',
  expiresAt: '2026-11-30T14:00:00Z',
};

function plan(action: SecretAction, overrides: Partial<Plan> = {}): Plan {
  return {
    action,
    consuming: [etl],
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

/** The status of a reference whose Job etl held Secret uid-old (version v1). */
const holding: ReferenceStatus = {
  consumingJobs: [etl],
  managedSecret: { name: target, uid: 'uid-old' },
  remoteVersions: [{ name: 'warehouse', version: 'v1' }],
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Materialized',
      message: '',
      lastTransitionTime: '2026-11-30T11:59:00Z',
    },
  ],
};

const held: HeldSecret = {
  name: target,
  uid: 'uid-old',
  remoteVersions: { warehouse: 'v1' },
  fingerprint: 'hmac-sha256:01',
  owners: [{ name: 'etl', uid: 'uid-etl' }],
};

function context(previous: ReferenceStatus, overrides: Partial<AuditContext> = {}): AuditContext {
  return {
    now,
    reference: { namespace: 'etl', name: 'warehouse', uid: 'uid-warehouse' },
    store: { kind: 'SecretStore', name: 'aws' },
    targetName: target,
    deleting: false,
    previous,
    basis: '41',
    ...overrides,
  };
}

const grant = (action: Grant['action'], reason: string, job = etl): Grant => ({
  action,
  reason,
  job: { name: job.name, uid: job.uid },
  ...(action === 'Materialized' ? { until: job.expiresAt } : {}),
});

const written = (created: boolean, grants: Grant[], uid = created ? 'uid-new' : 'uid-old'): Outcome => ({
  kind: 'written',
  created,
  ...(created ? { uid } : {}),
  remoteVersions: { warehouse: 'v2' },
  fingerprint: 'hmac-sha256:02',
  writtenAt: time,
  effect: { kind: created ? 'created' : 'replaced', secret: { name: target, uid }, time, grants },
});
const ownersUpdated = (grants: Grant[]): Outcome => ({
  kind: 'current',
  effect: { kind: 'updated', secret: { name: target, uid: 'uid-old' }, time, grants },
});
const deleted: Outcome = {
  kind: 'deleted',
  effect: {
    kind: 'deleted',
    secret: { name: target, uid: 'uid-old', resourceVersion: '9' },
    time,
    grants: [],
  },
};
const failed: Outcome = { kind: 'failed', reason: 'StoreUnavailable', message: 'throttled', retryable: true };
const rejected: Outcome = {
  kind: 'failed',
  reason: 'RemoteValueInvalid',
  message: 'replace Secret: the API server refused the Secret as invalid',
  retryable: false,
};

interface Row {
  action: SecretAction;
  outcome: string;
  result: Outcome;
  plan?: Partial<Plan>;
  previous: ReferenceStatus;
  held?: HeldSecret;
  /** [action, reason, Secret uid named] of every record. */
  records: [string, string, string?][];
}

const ended = { job: { name: 'etl', uid: 'uid-etl' }, cause: 'Revoked' as const };
const foreignPod = { name: 'bare', uid: 'uid-bare' };

// Every plan action with every outcome the writer can report for it.
const table: Row[] = [
  {
    action: 'none',
    outcome: 'idle',
    result: { kind: 'idle' },
    plan: { consuming: [] },
    previous: {},
    records: [],
  },
  {
    action: 'create',
    outcome: 'created',
    result: written(true, [grant('Materialized', 'SecretCreated')]),
    previous: {},
    records: [['Materialized', 'SecretCreated', 'uid-new']],
  },
  {
    action: 'create',
    outcome: 'created again for a Job that held the Secret deleted out of band',
    result: written(true, [grant('Materialized', 'SecretCreated')]),
    previous: holding,
    records: [['Materialized', 'SecretCreated', 'uid-new']],
  },
  { action: 'create', outcome: 'gone', result: { kind: 'gone' }, previous: {}, records: [] },
  {
    action: 'create',
    outcome: 'failed',
    result: failed,
    previous: {},
    records: [['Failed', 'StoreUnavailable']],
  },
  {
    action: 'create',
    outcome: 'rejected',
    result: rejected,
    previous: {},
    records: [['Failed', 'RemoteValueInvalid']],
  },
  ...(['rewrite', 'refresh'] as const).flatMap((action): Row[] => [
    {
      action,
      outcome: 'replaced',
      result: written(false, [
        grant('Refreshed', action === 'rewrite' ? 'ContentChanged' : 'RemoteVersionChanged'),
      ]),
      previous: holding,
      held,
      records: [['Refreshed', action === 'rewrite' ? 'ContentChanged' : 'RemoteVersionChanged', 'uid-old']],
    },
    { action, outcome: 'gone', result: { kind: 'gone' }, previous: holding, held, records: [] },
    {
      action,
      outcome: 'failed',
      result: failed,
      previous: holding,
      held,
      records: [['Failed', 'StoreUnavailable']],
    },
  ]),
  {
    action: 'refresh',
    outcome: 'current',
    result: { kind: 'current' },
    previous: holding,
    held,
    records: [],
  },
  {
    action: 'refresh',
    outcome: 'current, owners updated',
    result: ownersUpdated([grant('Materialized', 'JobJoined', late)]),
    plan: { consuming: [etl, late] },
    previous: holding,
    held,
    records: [['Materialized', 'JobJoined', 'uid-old']],
  },
  {
    action: 'update-owners',
    outcome: 'updated',
    result: ownersUpdated([grant('Materialized', 'JobJoined', late)]),
    plan: { consuming: [etl, late] },
    previous: holding,
    held,
    records: [['Materialized', 'JobJoined', 'uid-old']],
  },
  {
    action: 'update-owners',
    outcome: 'updated, an owner removed',
    result: ownersUpdated([]),
    plan: { consuming: [late], ended: [ended] },
    previous: holding,
    held: {
      ...held,
      owners: [
        { name: 'etl', uid: 'uid-etl' },
        { name: 'late', uid: 'uid-late' },
      ],
    },
    records: [['Revoked', 'JobEnded', 'uid-old']],
  },
  {
    action: 'update-owners',
    outcome: 'gone',
    result: { kind: 'gone' },
    previous: holding,
    held,
    records: [],
  },
  { action: 'keep', outcome: 'idle', result: { kind: 'idle' }, previous: holding, held, records: [] },
  {
    action: 'delete',
    outcome: 'deleted',
    result: deleted,
    plan: { consuming: [], ended: [ended] },
    previous: holding,
    held,
    records: [['Revoked', 'JobEnded', 'uid-old']],
  },
  {
    action: 'delete',
    outcome: 'deleted, an owner status did not list',
    result: deleted,
    plan: { consuming: [], ended: [ended] },
    previous: holding,
    held: { ...held, owners: [...held.owners, { name: 'late', uid: 'uid-late' }] },
    records: [
      ['Revoked', 'JobEnded', 'uid-old'],
      ['Revoked', 'JobEnded', 'uid-old'],
    ],
  },
  {
    action: 'delete',
    outcome: 'idle (already gone)',
    result: { kind: 'idle' },
    plan: { consuming: [], ended: [ended] },
    previous: holding,
    records: [['Revoked', 'JobEnded', 'uid-old']],
  },
  {
    action: 'conflict',
    outcome: 'idle',
    result: { kind: 'idle' },
    plan: { conflictingUid: 'uid-planted' },
    previous: {},
    records: [['Refused', 'Conflict']],
  },
  {
    action: 'refuse',
    outcome: 'idle',
    result: { kind: 'idle' },
    plan: { foreignPods: [foreignPod] },
    previous: {},
    records: [['Refused', 'ForeignPodUsesTarget']],
  },
];

describe('audit records for every plan action and writer outcome', () => {
  it.each(table)('$action, $outcome', (row) => {
    const records = auditRecordsFor(
      plan(row.action, row.plan),
      row.result,
      context(row.previous, row.held ? { held: row.held } : {}),
    );
    expect(records.map((r) => [r.action, r.reason, r.targetSecret.uid].filter(Boolean))).toEqual(
      row.records.map((r) => r.filter(Boolean)),
    );
    // No two records of one reconcile share an id, and none is without one.
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    for (const record of records) expect(record.id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('grants follow the write the API server confirmed', () => {
  it('audits a Secret re-created for a Job that held one deleted out of band, with the new version', () => {
    const [record] = auditRecordsFor(
      plan('create'),
      written(true, [grant('Materialized', 'SecretCreated')]),
      context(holding),
    );
    expect(record).toMatchObject({
      action: 'Materialized',
      job: { name: 'etl', uid: 'uid-etl' },
      targetSecret: { name: target, uid: 'uid-new' },
      remotes: [{ name: 'warehouse', version: 'v2' }],
      fingerprint: 'hmac-sha256:02',
    });
  });

  it('decides the grants a write carries: all on a create, renewals and joins on a replace, joins on an owners update', () => {
    const both = plan('refresh', { consuming: [etl, late] });
    const reasons = (grants: Grant[]) => grants.map((g) => [g.job.name, g.action, g.reason]);
    expect(reasons(grantsOf(both, 'create', []))).toEqual([
      ['etl', 'Materialized', 'SecretCreated'],
      ['late', 'Materialized', 'SecretCreated'],
    ]);
    expect(reasons(grantsOf(both, 'replace', ['uid-etl']))).toEqual([
      ['etl', 'Refreshed', 'RemoteVersionChanged'],
      ['late', 'Materialized', 'JobJoined'],
    ]);
    expect(reasons(grantsOf(both, 'owners', ['uid-etl']))).toEqual([['late', 'Materialized', 'JobJoined']]);
    expect(reasons(grantsOf(plan('rewrite'), 'replace', ['uid-etl']))).toEqual([
      ['etl', 'Refreshed', 'ContentChanged'],
    ]);
  });

  it('derives the same records, ids included, from the Secret after a restart as from the outcome', () => {
    const grants = [grant('Materialized', 'SecretCreated')];
    const fromOutcome = auditRecordsFor(plan('create'), written(true, grants), context({}));
    const fromSecret = grantRecords(
      { name: target, uid: 'uid-new' },
      { time, grants },
      { remoteVersions: { warehouse: 'v2' }, fingerprint: 'hmac-sha256:02' },
      context({}),
    );
    expect(fromSecret).toEqual(fromOutcome);
  });

  it('names the replica that made the write, read back from the Secret by another, under the same id', () => {
    const grants = [grant('Materialized', 'SecretCreated')];
    const secret = buildSecret({
      namespace: 'etl',
      name: target,
      referenceName: 'warehouse',
      type: 'Opaque',
      labels: {},
      annotations: {},
      data: {},
      contentHash: 'sha256:00',
      fingerprint: 'hmac-sha256:02',
      store: 'SecretStore/vault',
      remoteVersions: { warehouse: 'v2' },
      writtenAt: time,
      ownerReferences: [],
      audit: { time, grants, by: 'replica-a' },
    });
    const [readBack] = grantRecords(held, writeAuditOf(secret)!, held, context(holding));
    const [unnamed] = grantRecords(held, { time, grants }, held, context(holding));
    expect(readBack!.operator).toBe('replica-a');
    expect(readBack!.id).toBe(unnamed!.id);
  });

  it('gives two writes of the same Secret for the same Job different ids', () => {
    const grants = [grant('Refreshed', 'RemoteVersionChanged')];
    const first = grantRecords(held, { time, grants }, held, context(holding));
    const later = grantRecords(held, { time: '2026-11-30T12:05:00.000Z', grants }, held, context(holding));
    expect(first[0]!.id).not.toBe(later[0]!.id);
  });
});

describe('an end of access is recorded once', () => {
  const revoke = plan('delete', { consuming: [], ended: [ended] });

  it('under the same id whether this reconcile deleted the Secret or a stopped one did', () => {
    const now = auditRecordsFor(revoke, deleted, context(holding, { held }));
    const afterRestart = auditRecordsFor(
      plan('none', { consuming: [], ended: [ended] }),
      { kind: 'idle' },
      context(holding),
    );
    expect(afterRestart.map((r) => r.id)).toEqual(now.map((r) => r.id));
    expect(afterRestart[0]?.targetSecret.uid).toBe('uid-old');
  });

  it('names the Secret the delete removed, by the uid its precondition named', () => {
    const [record] = auditRecordsFor(revoke, deleted, context(holding, { held }));
    expect(record?.targetSecret).toEqual({ namespace: 'etl', name: target, uid: 'uid-old' });
    expect(record?.remotes).toEqual([{ name: 'warehouse', version: 'v1' }]);
  });

  it('says ReferenceDeleted while the reference is deleted, and TtlPassed for an expiry', () => {
    const deleting = auditRecordsFor(revoke, deleted, context(holding, { held, deleting: true }));
    expect(deleting.map((r) => [r.action, r.reason])).toEqual([['Revoked', 'ReferenceDeleted']]);
    const expiry = plan('delete', { consuming: [], ended: [{ ...ended, cause: 'Expired' }] });
    const expired = auditRecordsFor(expiry, deleted, context(holding, { held }));
    expect(expired.map((r) => [r.action, r.reason])).toEqual([['Expired', 'TtlPassed']]);
  });
});

describe('a decision recorded again after a failed status write', () => {
  it('keeps its id while the recorded state it was taken against is the same, and gets a new one after', () => {
    const refusal = plan('none', {
      consuming: [],
      refused: [{ name: 'miner', uid: 'uid-miner', reason: 'label app is not "dbt"' }],
    });
    const first = auditRecordsFor(refusal, failed, context({}));
    const retry = auditRecordsFor(refusal, failed, context({}));
    expect(retry.map((r) => r.id)).toEqual(first.map((r) => r.id));
    const later = auditRecordsFor(refusal, failed, context({}, { basis: '57' }));
    expect(later.map((r) => r.id)).not.toContain(first[0]!.id);
  });
});

const conflictWith = (uid: string): ReferenceStatus => ({
  conditions: [
    {
      type: 'Ready',
      status: 'False',
      reason: 'Conflict',
      message: conflictMessage(target, uid),
      lastTransitionTime: '2026-11-23T11:00:00Z',
    },
  ],
});

describe('refusals are recorded once per distinct cause', () => {
  it('audits a Secret in the way once, and again only when another Secret takes its place', () => {
    const conflict = plan('conflict', { consuming: [], conflictingUid: 'uid-planted' });
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
      auditRecordsFor(
        plan('none', { consuming: [] }),
        { kind: 'idle' },
        { ...context(previous), storeRefusal: refusal },
      );
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
    const idle = plan('none', { consuming: [], standstill });
    const records = auditRecordsFor(idle, { kind: 'idle' }, context({}));
    expect(records.map((record) => [record.action, record.reason])).toEqual([['Refused', 'TargetClaimed']]);
    const previous: ReferenceStatus = {
      conditions: [
        { type: 'Ready', status: 'False', reason: 'TargetClaimed', message: '', lastTransitionTime: '' },
      ],
    };
    expect(auditRecordsFor(idle, { kind: 'idle' }, context(previous))).toEqual([]);
  });

  it('records a failure once with its reason, and no grant for a create that failed', () => {
    const reported: ReferenceStatus = {
      conditions: [
        { type: 'Ready', status: 'False', reason: 'RemoteValueInvalid', message: '', lastTransitionTime: '' },
      ],
    };
    expect(auditRecordsFor(plan('create'), rejected, context(reported))).toEqual([]);
  });
});
