// The leases of a reference's per-Job Secrets, remembered between reconciles. A per-Job Secret is owned by its
// Job, so deleting the Job lets garbage collection delete the Secret, often before the operator's reconcile
// sees the Job go: the handle the Secret carried goes with it. Remembered here, the lease of a Secret that
// vanished without the operator deleting it is still revoked at once. Only a Secret the cache has shown counts
// as vanished when the cache no longer shows it: one just written may not have reached the cache yet. Memory
// only: after a restart such a lease ends at its bound (the Job's ttl), as it would with the operator down.
import type { V1Secret } from '@kubernetes/client-node';
import type { HeldLease } from './dynamic-lease.ts';
import type { StepOutcome } from './per-job-effects.ts';
import { perJobSecretJob } from './per-job-plan.ts';

export interface RememberedLease {
  lease: HeldLease;
  job: { name: string; uid: string };
  secret: { name: string; uid: string };
  /** Whether the managed-Secret cache has shown this Secret (only then does its absence mean it is gone). */
  seen: boolean;
  /** Epoch ms it was written, while not seen yet. */
  writtenAt?: number;
}

/** How long a Secret written by this process is waited for in the cache before it is no longer remembered. */
const unseenKeptMs = 60_000;

/** Fingerprints of leases revoked, kept per reference so a cache that lags a delete does not revoke twice. */
const revokedKept = 256;

export class JobLeaseMemory {
  readonly #leases = new Map<string, Map<string, RememberedLease>>();
  readonly #revoked = new Map<string, string[]>();

  /**
   * The remembered leases whose Secret is no longer among `present` and was not deleted by this reconcile's
   * own steps (which revoked its lease first): each must be revoked now.
   */
  vanished(key: string, present: V1Secret[], results: StepOutcome[]): RememberedLease[] {
    const here = new Set(present.map((secret) => secret.metadata?.uid));
    const deleted = new Set(
      results.filter((r) => r.step.action === 'delete').map((r) => r.step.secret?.metadata?.uid),
    );
    return [...(this.#leases.get(key)?.values() ?? [])].filter(
      ({ secret, lease, seen }) =>
        seen && !here.has(secret.uid) && !deleted.has(secret.uid) && !this.wasRevoked(key, lease.fingerprint),
    );
  }

  /**
   * Remembers the leases the reference's per-Job Secrets hold after this reconcile: those `present` (whose
   * handle `trust` vouches for), those written now, and those written earlier that the cache has not shown
   * yet (for a minute), less any revoked.
   */
  remember(
    key: string,
    present: V1Secret[],
    results: StepOutcome[],
    trust: (secret: V1Secret) => HeldLease | undefined,
    now: number,
  ): void {
    for (const effect of results.flatMap((r) => r.leases ?? [])) {
      if (effect.kind === 'revoked') this.markRevoked(key, effect.fingerprint);
    }
    const deleted = new Set(
      results.filter((r) => r.step.action === 'delete').map((r) => r.step.secret?.metadata?.uid),
    );
    const next = new Map<string, RememberedLease>();
    for (const [uid, entry] of this.#leases.get(key) ?? []) {
      const waited = now - (entry.writtenAt ?? now);
      if (!entry.seen && !deleted.has(uid) && waited < unseenKeptMs) next.set(uid, entry);
    }
    for (const secret of present) {
      const uid = secret.metadata?.uid;
      const jobUid = perJobSecretJob(secret);
      const lease = trust(secret);
      if (!uid || !jobUid || !lease || deleted.has(uid)) continue;
      const job = secret.metadata?.ownerReferences?.find((owner) => owner.uid === jobUid);
      next.set(uid, {
        lease,
        job: { name: job?.name ?? '', uid: jobUid },
        secret: { name: secret.metadata?.name ?? '', uid },
        seen: true,
      });
    }
    for (const { step, outcome, lease } of results) {
      if (outcome.kind !== 'written' || !lease) continue;
      const { name, uid } = outcome.effect.secret;
      if (next.get(uid)?.seen) next.set(uid, { ...next.get(uid)!, lease });
      else next.set(uid, { lease, job: step.job, secret: { name, uid }, seen: false, writtenAt: now });
    }
    for (const [uid, entry] of next) {
      if (this.wasRevoked(key, entry.lease.fingerprint)) next.delete(uid);
    }
    if (next.size > 0) this.#leases.set(key, next);
    else this.#leases.delete(key);
  }

  markRevoked(key: string, fingerprint: string): void {
    this.#revoked.set(key, [...(this.#revoked.get(key) ?? []), fingerprint].slice(-revokedKept));
  }

  forget(key: string): void {
    this.#leases.delete(key);
    this.#revoked.delete(key);
  }

  private wasRevoked(key: string, fingerprint: string): boolean {
    return this.#revoked.get(key)?.includes(fingerprint) ?? false;
  }
}
