// The thin effects of leases held in increments (spec.dynamic.renewalIncrement): renews at the store each lease
// whose renewal is due (lease-renewal.ts decides), remembers what the store confirmed per reference, and hands
// back the renewals as lease effects, one per renewal, for their audit records. Memory only: a restarted
// operator renews each held lease at its first visit, which also tells it which have lapsed meanwhile.
import type { Logger } from 'pino';
import type { AnySecretStore } from '../api/types.ts';
import { isProviderError } from '../providers/errors.ts';
import type { HeldLease } from './dynamic-lease.ts';
import type { LeaseEffect } from './lease-records.ts';
import {
  afterFailure,
  afterLapse,
  afterRenewal,
  currentLease,
  incrementFor,
  nextRenewalMs,
  type RenewalMemory,
  renewalDue,
} from './lease-renewal.ts';
import type { ValueSource } from './ports.ts';

/** A lease a Secret holds while that Secret is entitled, and for whom. */
export interface LeaseHolding {
  lease: HeldLease;
  secret: { name: string; uid?: string };
  /** The Jobs whose access it serves (per-Job mode: its one Job). */
  jobs: { name: string; uid: string }[];
}

/** A lease still held after a reconcile: what its next visit and status need, never its handle. */
export interface LeaseHeld {
  lease: Pick<HeldLease, 'fingerprint' | 'expiresAt' | 'incrementSeconds'>;
  secret: { name: string; uid?: string };
  jobs: { name: string; uid: string }[];
}

/** The leases held after a reconcile: those held before and not revoked, and those it issued. */
export function leasesAfter(before: readonly LeaseHolding[], effects: readonly LeaseEffect[]): LeaseHeld[] {
  const revoked = new Set(effects.filter((e) => e.kind === 'revoked').map((e) => e.fingerprint));
  const issued = effects.flatMap((e) =>
    e.kind === 'issued' && e.expiresAt
      ? [
          {
            lease: { fingerprint: e.fingerprint, expiresAt: Date.parse(e.expiresAt) },
            secret: e.secret,
            jobs: e.jobs,
          },
        ]
      : [],
  );
  return [...before.filter(({ lease }) => !revoked.has(lease.fingerprint)), ...issued];
}

export interface RenewalContext {
  store: AnySecretStore | undefined;
  /** The reference's spec.dynamic.renewalIncrement in ms, if set. */
  incrementMs: number | undefined;
  now: number;
  signal: AbortSignal;
}

export class LeaseRenewer {
  readonly #values: Pick<ValueSource, 'renewLease'>;
  readonly #logger: Logger | undefined;
  /** By reference key, then lease fingerprint. */
  readonly #memory = new Map<string, Map<string, RenewalMemory>>();

  constructor(values: Pick<ValueSource, 'renewLease'>, logger?: Logger) {
    this.#values = values;
    this.#logger = logger;
  }

  /** The lease as this process knows it now: one that lapsed, or was not renewed in time, has ended. */
  current(key: string, lease: HeldLease, now: number): HeldLease {
    return currentLease(lease, this.#memory.get(key)?.get(lease.fingerprint), now);
  }

  /** Learns from what the store confirmed in a reconcile: leases issued in increments, leases revoked. */
  observe(key: string, effects: readonly LeaseEffect[]): void {
    for (const effect of effects) {
      if (effect.kind === 'revoked') this.#memory.get(key)?.delete(effect.fingerprint);
      if (effect.kind === 'issued' && effect.heldUntil) {
        this.#set(key, effect.fingerprint, { heldUntil: Date.parse(effect.heldUntil), failures: 0 });
      }
    }
  }

  /**
   * Renews each held lease whose renewal is due and returns what the store confirmed. A lease the store no
   * longer holds is remembered as ended (its Secret gets a new credential); any other failure is remembered
   * for status and retried with backoff, the lease standing until it was last held.
   */
  async renewDue(
    key: string,
    holdings: readonly LeaseHolding[],
    context: RenewalContext,
  ): Promise<LeaseEffect[]> {
    const { store, now } = context;
    const effects: LeaseEffect[] = [];
    if (!store) return effects;
    for (const { lease, secret, jobs } of holdings) {
      const memory = this.#memory.get(key)?.get(lease.fingerprint);
      const seconds = renewalDue(lease, memory, incrementFor(lease, context.incrementMs), now);
      if (seconds === undefined || seconds < 1) continue;
      let granted: number;
      try {
        granted = await this.#values.renewLease(store, lease.handle, seconds, context.signal);
      } catch (error) {
        const { reason, message } = safeError(error);
        if (reason === 'NotFound') {
          this.#logger?.warn(
            { secret: secret.name, lease: lease.fingerprint },
            'a dynamic credential held in increments lapsed at the store; its Secret gets a new one',
          );
          this.#set(key, lease.fingerprint, afterLapse(now));
        } else {
          this.#logger?.warn(
            { secret: secret.name, lease: lease.fingerprint, reason },
            'renewing a dynamic credential failed; retrying with backoff',
          );
          this.#set(key, lease.fingerprint, afterFailure(memory, { reason, message }));
        }
        continue;
      }
      const renewed = afterRenewal(lease, seconds, granted, now);
      this.#set(key, lease.fingerprint, renewed);
      effects.push({
        kind: 'renewed',
        fingerprint: lease.fingerprint,
        expiresAt: new Date(renewed.heldUntil!).toISOString(),
        source: lease.source,
        secret,
        jobs,
        reason: 'Renewed',
      });
    }
    return effects;
  }

  /** When the first of these leases is due for renewal (ms from now), if any is. */
  nextVisitMs(key: string, holdings: readonly LeaseHeld[], incrementMs: number | undefined, now: number) {
    const due = holdings.flatMap(({ lease }) => {
      const memory = this.#memory.get(key)?.get(lease.fingerprint);
      const ms = nextRenewalMs(lease, memory, incrementFor(lease, incrementMs), now);
      return ms === undefined ? [] : [ms];
    });
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /** The holdings whose last renewal failed, with the store's reason (never a lease id or token). */
  failing(key: string, holdings: readonly LeaseHeld[]) {
    return holdings.flatMap(({ lease, jobs, secret }) => {
      const memory = this.#memory.get(key)?.get(lease.fingerprint);
      const failure = memory?.failure;
      if (!failure || !memory.failures) return [];
      const holder =
        jobs.length > 0 ? jobs.map((job) => `Job ${job.name}`).join(', ') : `Secret ${secret.name}`;
      return [{ holder, ...failure }];
    });
  }

  /** Keeps only the leases still held (by fingerprint); all of a reference's once it is gone. */
  retain(key: string, fingerprints: ReadonlySet<string> | undefined): void {
    const memory = this.#memory.get(key);
    if (!memory) return;
    if (!fingerprints) {
      this.#memory.delete(key);
      return;
    }
    for (const fingerprint of memory.keys()) if (!fingerprints.has(fingerprint)) memory.delete(fingerprint);
    if (memory.size === 0) this.#memory.delete(key);
  }

  #set(key: string, fingerprint: string, memory: RenewalMemory): void {
    const leases = this.#memory.get(key) ?? new Map<string, RenewalMemory>();
    leases.set(fingerprint, memory);
    this.#memory.set(key, leases);
  }
}

/** A provider error's reason and message (ours, never the store's text); anything else, generically. */
function safeError(error: unknown): { reason: string; message: string } {
  if (isProviderError(error)) return { reason: error.reason, message: error.message };
  return { reason: 'Unavailable', message: 'the store did not answer the renewal' };
}
