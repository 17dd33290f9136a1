// The leases of per-Job Secrets are remembered, so that one whose Secret garbage collection deleted (its Job was
// deleted) is still revoked; one the operator revoked and deleted itself is never revoked twice.
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { HeldLease } from './dynamic-lease.ts';
import type { StepOutcome } from './per-job-effects.ts';
import { JobLeaseMemory } from './per-job-lease-memory.ts';

const lease = (n: number): HeldLease => ({
  handle: { leaseId: `database/creds/elt-reader/lease-${n}`, tokenAccessor: `accessor-${n}` },
  expiresAt: Date.parse('2026-11-23T13:00:00Z'),
  fingerprint: `hmac-sha256:${n}`,
  source: 'database/creds/elt-reader',
});

function secretOf(job: string, n: number): V1Secret {
  return {
    metadata: {
      name: `warehouse-uid-${job}`,
      uid: `uid-secret-${n}`,
      labels: { 'secretlink.dev/job-uid': `uid-${job}` },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid: `uid-${job}` }],
      annotations: { n: String(n) },
    },
  };
}

const now = Date.parse('2026-11-23T12:00:00Z');
const trust = (secret: V1Secret) => lease(Number(secret.metadata?.annotations?.n));

describe('JobLeaseMemory', () => {
  it("names the lease of a per-Job Secret that vanished without the operator's delete", () => {
    const memory = new JobLeaseMemory();
    const [a, b] = [secretOf('load-a', 1), secretOf('load-b', 2)];
    memory.remember('etl/warehouse', [a, b], [], trust, now);
    // Job load-a was deleted: garbage collection took its Secret before the reconcile saw either go.
    const gone = memory.vanished('etl/warehouse', [b], []);
    expect(gone).toEqual([
      {
        lease: lease(1),
        job: { name: 'load-a', uid: 'uid-load-a' },
        secret: { name: 'warehouse-uid-load-a', uid: 'uid-secret-1' },
        seen: true,
      },
    ]);
    memory.markRevoked('etl/warehouse', lease(1).fingerprint);
    memory.remember('etl/warehouse', [b], [], trust, now);
    expect(memory.vanished('etl/warehouse', [b], [])).toEqual([]);
  });

  it('does not name a lease its own delete revoked, even while the cache still shows that Secret', () => {
    const memory = new JobLeaseMemory();
    const a = secretOf('load-a', 1);
    memory.remember('etl/warehouse', [a], [], trust, now);
    const deleted = {
      step: {
        action: 'delete',
        name: a.metadata!.name!,
        job: { name: 'load-a', uid: 'uid-load-a' },
        secret: a,
      },
      outcome: { kind: 'idle' },
      checked: false,
      leases: [
        {
          kind: 'revoked',
          fingerprint: lease(1).fingerprint,
          source: lease(1).source,
          secret: { name: a.metadata!.name! },
          jobs: [{ name: 'load-a', uid: 'uid-load-a' }],
          reason: 'AccessEnded',
        },
      ],
    } as unknown as StepOutcome;
    expect(memory.vanished('etl/warehouse', [], [deleted])).toEqual([]);
    memory.remember('etl/warehouse', [], [deleted], trust, now);
    // A lagging cache shows the deleted Secret once more, then not.
    memory.remember('etl/warehouse', [a], [], trust, now);
    expect(memory.vanished('etl/warehouse', [], [])).toEqual([]);
  });

  it('waits for a Secret it wrote to reach the cache before its absence counts as vanished', () => {
    const memory = new JobLeaseMemory();
    const a = secretOf('load-a', 1);
    const written = {
      step: { action: 'create', name: a.metadata!.name!, job: { name: 'load-a', uid: 'uid-load-a' } },
      outcome: { kind: 'written', effect: { secret: { name: a.metadata!.name!, uid: 'uid-secret-1' } } },
      checked: true,
      lease: lease(1),
    } as unknown as StepOutcome;
    memory.remember('etl/warehouse', [], [written], trust, now);
    // The next reconcile comes before the cache shows the new Secret: nothing vanished.
    expect(memory.vanished('etl/warehouse', [], [])).toEqual([]);
    memory.remember('etl/warehouse', [], [], trust, now + 1_000);
    memory.remember('etl/warehouse', [a], [], trust, now + 2_000);
    // Seen once, then gone (garbage collection): named.
    expect(memory.vanished('etl/warehouse', [], []).map((gone) => gone.lease.fingerprint)).toEqual([
      lease(1).fingerprint,
    ]);
  });

  it('forgets everything of a reference that is gone', () => {
    const memory = new JobLeaseMemory();
    memory.remember('etl/warehouse', [secretOf('load-a', 1)], [], trust, now);
    memory.forget('etl/warehouse');
    expect(memory.vanished('etl/warehouse', [], [])).toEqual([]);
  });
});
