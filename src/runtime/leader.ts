// Leader election with a coordination.k8s.io Lease, so several replicas can run and only one acts. Every
// write is conditional on the Lease's resourceVersion, so two replicas can never both believe they won.
// Time and randomness come from outside (Clock, random) and the Lease is reached through a three-call port,
// so the election is tested with a fake clock and an in-memory Lease.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from './clock.ts';

/**
 * The three Lease calls the election makes. `replace` must fail when the resourceVersion is stale; `create`
 * and `replace` answer with the Lease as written (its new resourceVersion).
 */
export interface LeaseStore {
  read(): Promise<k8s.V1Lease | undefined>;
  create(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
  replace(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
}

/** The Lease `namespace/name` on the API server. */
export function kubeLeaseStore(config: k8s.KubeConfig, namespace: string, name: string): LeaseStore {
  const coordination = config.makeApiClient(k8s.CoordinationV1Api);
  return {
    async read() {
      try {
        return await coordination.readNamespacedLease({ name, namespace });
      } catch (error) {
        if (error instanceof k8s.ApiException && error.code === 404) return undefined;
        throw error;
      }
    },
    create: (lease) => coordination.createNamespacedLease({ namespace, body: lease }),
    // replace carries metadata.resourceVersion: if another replica wrote in between, this fails with 409.
    replace: (lease) => coordination.replaceNamespacedLease({ name, namespace, body: lease }),
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  logger: Logger;
  clock?: Clock;
  /** Source of randomness for the jitter between attempts to acquire; tests pass a fixed one. */
  random?: () => number;
}

/**
 * Resolves once this replica holds the Lease. After that it renews in the background; `lost` aborts if a
 * renewal cannot be made before the Lease would expire, and `release()` hands the Lease back on shutdown.
 */
export class LeaderElector {
  private readonly leases: LeaseStore;
  private readonly options: LeaderElectionOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly lostController = new AbortController();
  /** Aborted by release(): the renew loop stops waiting at once. */
  private readonly stopController = new AbortController();
  private renewing: Promise<void> | undefined;
  /** Until when no other replica can hold the Lease: the start of the last successful acquire or renew + 2/3. */
  private validUntil = 0;
  /** The Lease as this replica last wrote it, while it holds it: the next renewal writes over it unread. */
  private written: k8s.V1Lease | undefined;

  constructor(leases: LeaseStore, options: LeaderElectionOptions) {
    this.leases = leases;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /**
   * Whether this replica may act now: it holds the Lease and renewed it recently enough that no other replica
   * can have taken it. Checked before each write, so a replica that was frozen (SIGSTOP, a paused VM) and
   * wakes before its renew loop notices writes nothing.
   */
  holds(): boolean {
    return !this.lostController.signal.aborted && this.clock.now() < this.validUntil;
  }

  /** Aborts when leadership is lost; everything that acts must stop then. */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  async acquire(signal: AbortSignal): Promise<boolean> {
    const retry = this.retryPeriodMs();
    let waitingLogged = false;
    while (!signal.aborted) {
      try {
        if (await this.tryAcquireOrRenew()) {
          this.options.logger.info({ lease: this.options.name }, 'became leader');
          this.renewing = this.renewLoop();
          return true;
        }
        if (!waitingLogged)
          this.options.logger.info({ lease: this.options.name }, 'another replica leads; standing by');
        waitingLogged = true;
      } catch (error) {
        this.options.logger.warn({ err: describe(error) }, 'leader election attempt failed; retrying');
      }
      // Jittered, so standbys that lost the same race do not all ask again at the same instant.
      await sleep(this.clock, retry * (0.8 + this.random() * 0.4), signal);
    }
    return false;
  }

  /** Gives the Lease up so a standby replica takes over at once instead of waiting for it to expire. */
  async release(): Promise<void> {
    this.stopController.abort();
    await this.renewing?.catch(() => undefined);
    this.written = undefined;
    try {
      const lease = await this.leases.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      lease.spec.holderIdentity = undefined;
      lease.spec.leaseDurationSeconds = 1;
      lease.spec.acquireTime = undefined;
      lease.spec.renewTime = undefined;
      await this.leases.replace(lease);
      this.options.logger.info({ lease: this.options.name }, 'released leadership');
    } catch (error) {
      this.options.logger.warn({ err: describe(error) }, 'could not release the Lease; it will expire');
    }
  }

  private async renewLoop(): Promise<void> {
    const deadlineMs = this.renewDeadlineMs();
    const stopped = this.stopController.signal;
    let lastRenewal = this.clock.now();
    while (!stopped.aborted) {
      await sleep(this.clock, this.retryPeriodMs(), stopped);
      if (stopped.aborted) return;
      try {
        if (await this.tryAcquireOrRenew()) {
          lastRenewal = this.clock.now();
          continue;
        }
      } catch (error) {
        this.options.logger.warn({ err: describe(error) }, 'Lease renewal failed');
      }
      if (this.clock.now() - lastRenewal > deadlineMs || !(await this.stillHolder())) {
        this.options.logger.error({ lease: this.options.name }, 'lost leadership');
        this.lostController.abort(new Error('leadership lost'));
        return;
      }
    }
  }

  private async stillHolder(): Promise<boolean> {
    const lease = await this.leases.read().catch(() => undefined);
    return lease?.spec?.holderIdentity === this.options.identity;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    // Lease times are MicroTime: the API server refuses the millisecond form a plain Date serialises to.
    const started = this.clock.now();
    const now = new k8s.V1MicroTime(started);
    if (await this.renewUnread(started, now)) return true;
    const existing = await this.leases.read();
    if (!existing) {
      this.written = await this.leases.create({
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      });
      this.renewed(started);
      return true;
    }
    const spec = existing.spec ?? {};
    const holder = spec.holderIdentity;
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder && holder !== identity && !expired) return false;

    const takingOver = holder !== identity;
    existing.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      acquireTime: takingOver || !spec.acquireTime ? now : new k8s.V1MicroTime(spec.acquireTime),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
    };
    this.written = await this.leases.replace(existing);
    this.renewed(started);
    return true;
  }

  /**
   * A renewal in one request, as client-go's leader election does it: the Lease this replica last wrote, with
   * a new renewTime, replaced on the condition that its resourceVersion is still the current one. A Lease
   * anyone else wrote meanwhile fails the write (409), as any other error does; the renewal then reads the
   * Lease and decides as it would have without this shortcut.
   */
  private async renewUnread(started: number, now: k8s.V1MicroTime): Promise<boolean> {
    const last = this.written;
    this.written = undefined;
    if (last?.spec?.holderIdentity !== this.options.identity) return false;
    try {
      const { acquireTime } = last.spec;
      this.written = await this.leases.replace({
        ...last,
        spec: {
          ...last.spec,
          renewTime: now,
          acquireTime: acquireTime ? new k8s.V1MicroTime(acquireTime) : now,
        },
      });
    } catch {
      return false;
    }
    this.renewed(started);
    return true;
  }

  /** A Lease written at `startedAt` (taken before the read, so the bound errs on the safe side). */
  private renewed(startedAt: number): void {
    this.validUntil = startedAt + this.renewDeadlineMs();
  }

  /** Give up well before the Lease expires, so this replica stops acting before another may take over. */
  private renewDeadlineMs(): number {
    return (this.options.leaseDurationSeconds * 1000 * 2) / 3;
  }

  private retryPeriodMs(): number {
    return Math.max(500, (this.options.leaseDurationSeconds * 1000) / 4);
  }
}

function describe(error: unknown): string {
  if (error instanceof k8s.ApiException) return `HTTP ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}
