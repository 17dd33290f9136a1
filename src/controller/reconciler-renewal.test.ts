// Leases held in increments (spec.dynamic.renewalIncrement), per Job: the reconcile renews a running Job's
// lease at two thirds of the increment and comes back in time to do so, records each renewal once for its
// Job, reports a failed renewal in status and retries it soon, and gives the Job's Secret a new credential when
// the old one lapsed. Lease records made while the audit file is unavailable are owed and made once after.
import { createHash } from 'node:crypto';
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { job, reference, now as start, store, target } from '../../test/support/held-secret-cluster.ts';
import type { SecretReference } from '../api/types.ts';
import { AuditUnavailableError } from '../audit/leader-trail.ts';
import type { AuditRecord } from '../audit/types.ts';
import { NotFound, Unavailable } from '../providers/errors.ts';
import type { LeaseHandle, LeaseRequest } from '../providers/types.ts';
import type { ClusterView, ClusterWriter, ValueSource } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import type { ReferenceStatus } from './status.ts';

const jobSecret = `${target}-uid-dbt`;

/** A keyed fingerprint stand-in: deterministic over the bytes, as the real HMAC is. */
function fingerprint(data: Record<string, Buffer>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) hash.update(key).update(data[key]!);
  return `hmac-sha256:${hash.digest('hex').slice(0, 16)}`;
}

/** A reference asking for the test role's credential, held 15 s ahead. */
function dynamicReference(status: ReferenceStatus, isolation: 'Shared' | 'PerJob'): SecretReference {
  const base = reference(status);
  return {
    ...base,
    spec: {
      storeRef: base.spec.storeRef,
      consumers: base.spec.consumers,
      dynamic: { database: { role: 'elt-reader' }, renewalIncrement: '15s' },
      isolation,
      ttl: '10m',
    },
  };
}

type Renewal = 'grants' | 'unavailable' | 'lapsed';

function harness(isolation: 'Shared' | 'PerJob' = 'PerJob') {
  const secretName = isolation === 'PerJob' ? jobSecret : target;
  const clock = { now: start };
  const cluster: { status: ReferenceStatus; secrets: V1Secret[]; job: V1Job } = {
    status: {},
    secrets: [],
    job: job(false),
  };
  const vault = { renewal: 'grants' as Renewal, issued: [] as LeaseRequest[], revoked: [] as string[] };
  const renewals: [string, number][] = [];
  let auditWorks = true;
  const audit: AuditRecord[] = [];
  const statuses: ReferenceStatus[] = [];
  const view: ClusterView = {
    reference: () => dynamicReference(cluster.status, isolation),
    referencesTargeting: () => [dynamicReference(cluster.status, isolation)],
    referencesGuarding: () => [dynamicReference(cluster.status, isolation)],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: (_namespace, name) => cluster.secrets.find((s) => s.metadata?.name === name),
    managedSecretsOf: () => cluster.secrets,
    jobsReferencing: () => [cluster.job],
    podsReferencing: () => [],
  };
  const keep = (secret: V1Secret, uid: string, resourceVersion: string) => {
    const stored = { ...secret, metadata: { ...secret.metadata, uid, resourceVersion } };
    cluster.secrets = [...cluster.secrets.filter((s) => s.metadata?.name !== secret.metadata?.name), stored];
    return { name: secret.metadata!.name!, uid, resourceVersion };
  };
  const writer = {
    readSecret: async (_namespace: string, name: string) =>
      cluster.secrets.find((s) => s.metadata?.name === name),
    readJob: async () => undefined,
    createSecret: async (secret: V1Secret) => ({
      result: 'created',
      secret: keep(secret, 'uid-secret-1', '1'),
    }),
    replaceSecret: async (secret: V1Secret) => ({
      result: 'replaced',
      secret: keep(secret, secret.metadata!.uid!, `${Number(secret.metadata!.resourceVersion) + 1}`),
    }),
    deleteSecret: async (secret: V1Secret) => {
      cluster.secrets = cluster.secrets.filter((s) => s.metadata?.uid !== secret.metadata?.uid);
      return { result: 'deleted', secret: { name: secret.metadata!.name!, uid: secret.metadata!.uid! } };
    },
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async (_: SecretReference, status: ReferenceStatus) => {
      statuses.push(status);
      cluster.status = status;
      return `${20 + statuses.length}`;
    },
  } as unknown as ClusterWriter;
  const values: ValueSource = {
    read: async () => ({ data: {}, remoteVersions: {} }),
    versions: async () => ({}),
    issueLease: async (_store, request) => {
      vault.issued.push(request);
      const n = vault.issued.length;
      return {
        fields: { username: Buffer.from(`v-user-${n}`), password: Buffer.from(`pw-${n}`) },
        handle: { leaseId: `database/creds/elt-reader/lease-${n}`, tokenAccessor: `accessor-${n}` },
        expiresAt: clock.now + request.maxSeconds * 1000,
        heldUntil: clock.now + request.incrementSeconds! * 1000,
        renewed: true,
      };
    },
    revokeLease: async (_store, handle: LeaseHandle) => {
      vault.revoked.push(handle.leaseId);
    },
    renewLease: async (_store, handle, seconds) => {
      if (vault.renewal === 'unavailable') throw new Unavailable('Vault could not be reached (ECONNREFUSED)');
      if (vault.renewal === 'lapsed') throw new NotFound('Vault no longer holds the lease');
      renewals.push([handle.leaseId, seconds]);
      return seconds;
    },
  };
  // A new Reconciler is the operator restarted: the same cluster, store and audit file, no memory.
  const operator = () =>
    new Reconciler({
      view,
      writer,
      values,
      audit: {
        name: 'file',
        write: async (record) => {
          if (!auditWorks) throw new AuditUnavailableError('no space left on the audit volume');
          if (!audit.some((made) => made.id === record.id)) audit.push(record);
        },
      },
      grantsAudited: async () => auditWorks,
      fingerprint,
      clock: { now: () => clock.now, setTimer: () => ({ cancel() {} }) },
      logger: pino({ level: 'silent' }),
      refreshJitter: 0,
    });
  let reconciler = operator();
  return {
    /** Reconciles `atMs` after the start. */
    reconcileAt: (atMs: number) => {
      clock.now = start + atMs;
      return reconciler.reconcile('etl/warehouse', new AbortController().signal);
    },
    restart: () => {
      reconciler = operator();
    },
    cluster,
    vault,
    renewals,
    audit,
    setAudit: (works: boolean) => {
      auditWorks = works;
    },
    leaseTrail: () => audit.filter((r) => r.action.startsWith('Lease')).map((r) => [r.action, r.reason]),
    renewalCondition: () => cluster.status.conditions?.find((c) => c.type === 'CredentialsRenewed'),
    username: () =>
      Buffer.from(
        cluster.secrets.find((s) => s.metadata?.name === secretName)?.data?.username ?? '',
        'base64',
      ).toString('utf8'),
  };
}

describe('a per-Job lease held in increments', () => {
  it('is renewed by the increment while its Job runs, each renewal recorded once for the Job', async () => {
    const h = harness();
    const first = await h.reconcileAt(0);
    expect(h.username()).toBe('v-user-1');
    expect(h.vault.issued[0]).toMatchObject({ incrementSeconds: 15 });
    // Comes back in time for the renewal at two thirds of the increment.
    expect(first.requeueAfterMs).toBeLessThanOrEqual(10_000);

    await h.reconcileAt(5_000);
    expect(h.renewals).toEqual([]);
    const renewed = await h.reconcileAt(10_000);
    expect(h.renewals).toEqual([['database/creds/elt-reader/lease-1', 15]]);
    expect(renewed.requeueAfterMs).toBeLessThanOrEqual(10_000);
    await h.reconcileAt(20_000);
    expect(h.renewals).toHaveLength(2);

    expect(h.leaseTrail()).toEqual([
      ['LeaseIssued', 'DynamicCredentialIssued'],
      ['LeaseRenewed', 'RenewedToIncrement'],
      ['LeaseRenewed', 'Renewed'],
      ['LeaseRenewed', 'Renewed'],
    ]);
    const renewedRecords = h.audit.filter((r) => r.reason === 'Renewed');
    expect(renewedRecords.map((r) => r.job?.name)).toEqual(['dbt', 'dbt']);
    expect(renewedRecords.map((r) => r.lease?.expiresAt)).toEqual([
      new Date(start + 25_000).toISOString(),
      new Date(start + 35_000).toISOString(),
    ]);
    expect(h.renewalCondition()).toMatchObject({ status: 'True', reason: 'Renewed' });
    // Same credential throughout: a renewal never touches the Secret.
    expect(h.username()).toBe('v-user-1');
    expect(JSON.stringify(h.audit)).not.toContain('lease-1');
  });

  it('reports a failed renewal in status, retries it within seconds, and clears the report once renewed', async () => {
    const h = harness();
    await h.reconcileAt(0);
    h.vault.renewal = 'unavailable';
    const failed = await h.reconcileAt(10_000);
    expect(h.renewalCondition()).toMatchObject({ status: 'False', reason: 'RenewalFailed' });
    expect(h.renewalCondition()?.message).toContain('Job dbt');
    expect(h.renewalCondition()?.message).not.toContain('lease-1');
    expect(failed.requeueAfterMs).toBeLessThanOrEqual(5_000);
    expect(h.username()).toBe('v-user-1');

    h.vault.renewal = 'grants';
    await h.reconcileAt(11_000);
    expect(h.renewalCondition()).toMatchObject({ status: 'True', reason: 'Renewed' });
    expect(h.username()).toBe('v-user-1');
  });

  it("gives the Job's Secret a new credential when its lease lapsed, revoking the old one", async () => {
    const h = harness();
    await h.reconcileAt(0);
    h.vault.renewal = 'lapsed';
    await h.reconcileAt(10_000);
    expect(h.username()).toBe('v-user-2');
    expect(h.vault.revoked).toEqual(['database/creds/elt-reader/lease-1']);
    expect(h.leaseTrail().slice(2)).toEqual([
      ['LeaseIssued', 'DynamicCredentialIssued'],
      ['LeaseRenewed', 'RenewedToIncrement'],
      ['LeaseRevoked', 'CredentialReplaced'],
    ]);
  });

  it('keeps renewing while the audit file is unavailable, owes the records, and makes each once after', async () => {
    const h = harness();
    await h.reconcileAt(0);
    h.setAudit(false);
    await h.reconcileAt(10_000);
    await h.reconcileAt(20_000);
    // Access the Job is entitled to is kept: the lease is renewed, its records wait.
    expect(h.renewals).toHaveLength(2);
    expect(h.leaseTrail()).toHaveLength(2);

    // The Job completes meanwhile: its lease is still revoked at once, its record owed too.
    h.cluster.job = job(true);
    await h.reconcileAt(25_000);
    expect(h.vault.revoked).toEqual(['database/creds/elt-reader/lease-1']);
    expect(h.cluster.secrets).toEqual([]);
    expect(h.leaseTrail()).toHaveLength(2);

    h.setAudit(true);
    await h.reconcileAt(26_000);
    await h.reconcileAt(27_000);
    expect(h.leaseTrail()).toEqual([
      ['LeaseIssued', 'DynamicCredentialIssued'],
      ['LeaseRenewed', 'RenewedToIncrement'],
      ['LeaseRenewed', 'Renewed'],
      ['LeaseRenewed', 'Renewed'],
      ['LeaseRevoked', 'AccessEnded'],
    ]);
    expect(new Set(h.audit.map((r) => r.id)).size).toBe(h.audit.length);
  });
});

describe("a shared Secret's lease held in increments", () => {
  it('is renewed while its Jobs use the Secret, one record per Job per renewal, and not once they are gone', async () => {
    const h = harness('Shared');
    await h.reconcileAt(0);
    expect(h.username()).toBe('v-user-1');
    const renewed = await h.reconcileAt(10_000);
    expect(h.renewals).toEqual([['database/creds/elt-reader/lease-1', 15]]);
    expect(renewed.requeueAfterMs).toBeLessThanOrEqual(10_000);
    expect(h.leaseTrail().at(-1)).toEqual(['LeaseRenewed', 'Renewed']);
    expect(h.audit.at(-1)?.job?.name).toBe('dbt');
    expect(h.renewalCondition()).toMatchObject({ status: 'True', reason: 'Renewed' });

    h.cluster.job = job(true);
    await h.reconcileAt(20_000);
    expect(h.renewals).toHaveLength(1);
    expect(h.vault.revoked).toEqual(['database/creds/elt-reader/lease-1']);
    expect(h.leaseTrail().at(-1)).toEqual(['LeaseRevoked', 'AccessEnded']);
  });
});

describe('lease records owed across a reconcile that waits for the audit file', () => {
  it('keeps a renewal owed when the held write it must record first cannot be recorded, and makes it once after', async () => {
    const h = harness('Shared');
    await h.reconcileAt(0);
    // Restarted while the audit file is full: the held write's grant is not known to be recorded, and the
    // lease (seen renewed by no one in this process) is renewed at once.
    h.restart();
    h.setAudit(false);
    await h.reconcileAt(5_000);
    expect(h.renewals).toHaveLength(1);
    h.setAudit(true);
    await h.reconcileAt(6_000);
    expect(h.leaseTrail().filter(([, reason]) => reason === 'Renewed')).toHaveLength(1);
    expect(new Set(h.audit.map((r) => r.id)).size).toBe(h.audit.length);
  });
});
