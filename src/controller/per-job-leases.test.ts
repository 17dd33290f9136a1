// Per-Job dynamic credentials: each Job's Secret gets a lease issued for that Job alone and bounded by its own
// expiry; deleting one Job's Secret revokes that Job's lease first, and no other; a lease the Secret names
// without the operator's keyed fingerprint is never revoked.
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import type { LeaseHandle, LeaseRequest } from '../providers/types.ts';
import { leaseAnnotation } from './dynamic-lease.ts';
import { buildSecret } from './managed-secret.ts';
import { carryOutSteps } from './per-job-effects.ts';
import { checksWithLeasesDue, nextJobLeaseVisitMs } from './per-job-leases.ts';
import type { JobSecretStep } from './per-job-plan.ts';
import type { ClusterWriter, ValueSource } from './ports.ts';

const now = Date.parse('2026-11-23T12:00:00Z');
const reference = {
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretReference',
  metadata: { name: 'warehouse', namespace: 'etl', uid: 'uid-warehouse' },
  spec: {
    storeRef: { name: 'vault' },
    dynamic: { database: { role: 'elt-reader' } },
    consumers: { matchLabels: { app: 'elt' } },
    isolation: 'PerJob',
    ttl: '10m',
  },
} as SecretReference;

/** A keyed fingerprint stand-in: deterministic over the bytes, as the real HMAC is. */
function fingerprint(data: Record<string, Buffer>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) hash.update(key).update(data[key]!);
  return `hmac-sha256:${hash.digest('hex').slice(0, 16)}`;
}

function step(action: JobSecretStep['action'], jobName: string, expiresInMs: number, secret?: V1Secret) {
  const job = { name: jobName, uid: `uid-${jobName}` };
  return {
    action,
    name: `warehouse-uid-${jobName}`,
    job,
    entitlement: {
      ...job,
      startTime: new Date(now).toISOString(),
      expiresAt: new Date(now + expiresInMs).toISOString(),
    },
    secret,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', ...job }],
    endsAccess: action === 'delete' ? true : undefined,
  } satisfies JobSecretStep;
}

/** A Vault stand-in that issues numbered leases (renewed to the bound, as the test role's 20s TTL makes it). */
function vault() {
  const issued: LeaseRequest[] = [];
  const revoked: LeaseHandle[] = [];
  const values: ValueSource = {
    read: async () => ({ data: {}, remoteVersions: {} }),
    versions: async () => ({}),
    issueLease: async (_store, request) => {
      issued.push(request);
      const n = issued.length;
      return {
        fields: { username: Buffer.from(`v-user-${n}`), password: Buffer.from(`pw-${n}`) },
        handle: { leaseId: `database/creds/elt-reader/lease-${n}`, tokenAccessor: `accessor-${n}` },
        expiresAt: now + request.maxSeconds * 1000,
        renewed: true,
      };
    },
    revokeLease: async (_store, handle) => {
      revoked.push(handle);
    },
    renewLease: async () => {
      throw new Error('these tests renew no lease');
    },
  };
  return { values, issued, revoked };
}

function writerOf(effects: string[], written: V1Secret[] = []) {
  return {
    readSecret: async (_namespace: string, name: string) => written.find((s) => s.metadata?.name === name),
    createSecret: async (secret: V1Secret) => {
      effects.push(`create ${secret.metadata?.name}`);
      written.push({ ...secret, metadata: { ...secret.metadata, uid: `uid-secret-${written.length + 1}` } });
      return {
        result: 'created',
        secret: { name: secret.metadata!.name!, uid: `uid-secret-${written.length}` },
      };
    },
    replaceSecret: async (secret: V1Secret) => {
      effects.push(`replace ${secret.metadata?.name}`);
      return {
        result: 'replaced',
        secret: { name: secret.metadata!.name!, uid: secret.metadata!.uid ?? 'uid' },
      };
    },
    deleteSecret: async (secret: V1Secret) => {
      effects.push(`delete ${secret.metadata?.name}`);
      return { result: 'deleted', secret: { name: secret.metadata!.name!, uid: secret.metadata!.uid! } };
    },
  } as unknown as ClusterWriter;
}

function context(extra: { endReasons?: Record<string, string> } = {}) {
  return {
    reference,
    namespace: 'etl',
    contentHash: 'hash-1',
    store: {} as AnySecretStore,
    scope: { kind: 'any' as const },
    signal: new AbortController().signal,
    now,
    ttlMs: 600_000,
    lastChecks: {},
    existing: [],
    ...extra,
  };
}

describe('per-Job dynamic credentials', () => {
  it("issue each Job its own lease, bounded by that Job's expiry, into that Job's Secret", async () => {
    const { values, issued } = vault();
    const written: V1Secret[] = [];
    const effects: string[] = [];
    const { results } = await carryOutSteps(
      { writer: writerOf(effects, written), values, fingerprint },
      [step('create', 'load-a', 90_000), step('create', 'load-b', 300_000)],
      context(),
    );
    expect(issued.map((request) => [request.holder.job?.name, request.maxSeconds])).toEqual([
      ['load-a', 90],
      ['load-b', 300],
    ]);
    const users = written.map((s) => Buffer.from(s.data!.username!, 'base64').toString());
    expect(users).toEqual(['v-user-1', 'v-user-2']);
    const handles = written.map((s) => JSON.parse(s.metadata!.annotations![leaseAnnotation]!).leaseId);
    expect(handles).toEqual(['database/creds/elt-reader/lease-1', 'database/creds/elt-reader/lease-2']);
    expect(
      results.flatMap((r) => (r.leases ?? []).map((l) => [l.kind, l.jobs.map((j) => j.name), l.reason])),
    ).toEqual([
      ['issued', ['load-a'], 'DynamicCredentialIssued'],
      ['renewed', ['load-a'], 'RenewedToBound'],
      ['issued', ['load-b'], 'DynamicCredentialIssued'],
      ['renewed', ['load-b'], 'RenewedToBound'],
    ]);
    // Status and records name the lease by fingerprint only.
    expect(JSON.stringify(results.map((r) => r.leases))).not.toContain('lease-1');
  });

  it("revoke one Job's lease at the store before its Secret is deleted, and leave the other Job's", async () => {
    const { values, revoked } = vault();
    const written: V1Secret[] = [];
    const effects: string[] = [];
    const deps = { writer: writerOf(effects, written), values, fingerprint };
    await carryOutSteps(
      deps,
      [step('create', 'load-a', 90_000), step('create', 'load-b', 90_000)],
      context(),
    );
    const [secretA] = written;
    const wrappedValues: ValueSource = {
      ...values,
      revokeLease: async (store, handle, signal) => {
        effects.push(`revoke ${handle.leaseId}`);
        await values.revokeLease(store, handle, signal);
      },
    };
    const { results } = await carryOutSteps(
      { ...deps, values: wrappedValues },
      [step('delete', 'load-a', 90_000, secretA)],
      context({ endReasons: { 'uid-load-a': 'TtlPassed' } }),
    );
    expect(effects.slice(-2)).toEqual([
      'revoke database/creds/elt-reader/lease-1',
      'delete warehouse-uid-load-a',
    ]);
    expect(revoked.map((h) => h.leaseId)).toEqual(['database/creds/elt-reader/lease-1']);
    expect(results[0]!.leases).toMatchObject([
      { kind: 'revoked', reason: 'TtlPassed', jobs: [{ name: 'load-a' }] },
    ]);
  });

  it('keep the lease a Secret holds when it is refreshed, and never revoke a lease the operator did not vouch for', async () => {
    const { values, issued, revoked } = vault();
    const written: V1Secret[] = [];
    const deps = { writer: writerOf([], written), values, fingerprint };
    await carryOutSteps(deps, [step('create', 'load-a', 90_000)], context());
    const held = written[0]!;
    const refreshed = await carryOutSteps(deps, [step('refresh', 'load-a', 90_000, held)], context());
    expect(refreshed.results[0]!.outcome.kind).toBe('current');
    expect(issued).toHaveLength(1);

    // An annotation naming another lease, without the keyed fingerprint of that handle.
    const forged: V1Secret = {
      ...held,
      metadata: {
        ...held.metadata,
        annotations: {
          ...held.metadata!.annotations,
          [leaseAnnotation]: JSON.stringify({
            leaseId: 'database/creds/other/lease-9',
            tokenAccessor: 'accessor-9',
            fingerprint: 'hmac-sha256:0000',
            source: 'database/creds/elt-reader',
          }),
        },
      },
    };
    await carryOutSteps(deps, [step('delete', 'load-a', 90_000, forged)], context());
    expect(revoked).toEqual([]);
  });

  it('revoke a lease at once when the Secret that was to hold it is not written', async () => {
    const { values, revoked } = vault();
    const writer = {
      createSecret: async () => ({ result: 'gone' }),
    } as unknown as ClusterWriter;
    const { results } = await carryOutSteps(
      { writer, values, fingerprint },
      [step('create', 'load-a', 90_000)],
      context(),
    );
    expect(revoked.map((h) => h.leaseId)).toEqual(['database/creds/elt-reader/lease-1']);
    expect(results[0]!.leases).toEqual([]);
  });

  it('replace a lease that ends before its Secret (a role max TTL shorter than the ttl) a little before it ends', () => {
    const secretOf = (uid: string, leaseEndsInMs: number) => {
      const secret = buildSecret({
        namespace: 'etl',
        name: `warehouse-${uid}`,
        referenceName: 'warehouse',
        type: 'Opaque',
        labels: {},
        annotations: {},
        data: {},
        contentHash: 'hash-1',
        fingerprint: 'hmac-sha256:00',
        store: 'SecretStore/vault',
        remoteVersions: {},
        writtenAt: new Date(now).toISOString(),
        expiresAt: new Date(now + 600_000).toISOString(),
        ownerReferences: [],
        ownAnnotations: {
          [leaseAnnotation]: JSON.stringify({
            leaseId: `lease-${uid}`,
            tokenAccessor: `accessor-${uid}`,
            expiresAt: new Date(now + leaseEndsInMs).toISOString(),
            fingerprint: `hmac-sha256:${uid}`,
            source: 'database/creds/elt-reader',
          }),
        },
      });
      secret.metadata!.uid = uid;
      return secret;
    };
    // Covers its Secret; ends in a minute of a ten-minute Secret; ends in three seconds.
    const secrets = [secretOf('covers', 600_000), secretOf('short', 60_000), secretOf('due', 3_000)];
    expect(nextJobLeaseVisitMs(secrets, now)).toBe(0);
    expect(nextJobLeaseVisitMs(secrets.slice(0, 2), now)).toBe(55_000);
    expect(nextJobLeaseVisitMs(secrets.slice(0, 1), now)).toBeUndefined();
    const checks = { covers: now, short: now, due: now };
    // Only the Secret whose lease is about to end is refreshed at once.
    expect(checksWithLeasesDue(checks, secrets, reference, now)).toEqual({ covers: now, short: now });
  });
});
