// The demo's lines: what a newcomer reads in the terminal of `make run`.
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { auditLine, intruderLine, jobFinished, jobStarted, secretUse, stamped } from '../env/narration.ts';

const record: AuditRecord = {
  id: '0123456789abcdef0123456789abcdef',
  time: '2030-01-01T00:00:00Z',
  action: 'Materialized',
  reference: { namespace: 'analytics', name: 'warehouse' },
  store: { kind: 'SecretStore', name: 'aws' },
  remotes: [{ name: 'analytics/warehouse', version: 'a4349421-0000-4000-8000-000000000000' }],
  targetSecret: { namespace: 'analytics', name: 'warehouse' },
  job: { namespace: 'analytics', name: 'first-run', uid: 'u1' },
  reason: 'SecretCreated',
  message: 'Secret warehouse made available to Job first-run until 2030-01-01T00:10:00Z.',
  fingerprint: `hmac-sha256:${'ab'.repeat(32)}`,
};

describe('narration', () => {
  it('stamps each line with the local time', () => {
    expect(stamped('x', new Date(2030, 0, 1, 9, 8, 7))).toBe('09:08:07  x');
  });

  it('tells a materialization with store, version and a shortened fingerprint', () => {
    expect(auditLine(record)).toBe(
      'Secret warehouse materialized for Job first-run from SecretStore aws (analytics/warehouse version ' +
        'a4349421…, fingerprint hmac-sha256:abababababababab…); audited, never the value',
    );
  });

  it('tells a revocation with its reason, and any other record by its message', () => {
    expect(auditLine({ ...record, action: 'Revoked', reason: 'JobEnded', fingerprint: undefined })).toBe(
      'Secret warehouse revoked: Job first-run no longer needs it (JobEnded)',
    );
    expect(
      auditLine({ ...record, action: 'Refused', reason: 'ConsumersMismatch', message: 'Job x was refused.' }),
    ).toBe('Refused (ConsumersMismatch): Job x was refused.');
  });

  it('names the CronJob a Job came from, and how it ended', () => {
    const job = { metadata: { name: 'j', ownerReferences: [{ kind: 'CronJob', name: 'nightly-dbt' }] } };
    expect(jobStarted(job as never)).toBe('Job j started (from CronJob nightly-dbt)');
    expect(jobFinished(job as never)).toBeUndefined();
    const done = { ...job, status: { conditions: [{ type: 'Complete', status: 'True' }] } };
    expect(jobFinished(done as never)).toBe('Job j completed');
  });

  it('sees the Secret in env, envFrom and volumes, and nothing else', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', envFrom: [{ secretRef: { name: 'warehouse' } }] },
          { name: 'b', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'warehouse', key: 'p' } } }] },
        ],
        volumes: [{ name: 'v', secret: { secretName: 'warehouse' } }],
      },
    };
    expect(secretUse(pod as never, 'warehouse')).toBe('envFrom and env and a volume');
    expect(secretUse(pod as never, 'other')).toBeUndefined();
  });

  it('says loudly when an intruder was admitted', () => {
    expect(intruderLine('warehouse', undefined)).toMatch(/^WARNING: /);
    expect(intruderLine('warehouse', 'denied')).toContain('was refused by the API server: denied');
  });
});
