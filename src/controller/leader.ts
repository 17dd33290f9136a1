// Leader election with a coordination.k8s.io Lease, so several replicas can run and only one acts. Every
// write is conditional on the Lease's resourceVersion, so two replicas can never both believe they won.
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  logger: Logger;
}

/**
 * Resolves once this replica holds the Lease. After that it renews in the background; `lost` aborts if a
 * renewal cannot be made before the Lease would expire, and `release()` hands the Lease back on shutdown.
 */
export class LeaderElector {
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly options: LeaderElectionOptions;
  private readonly lostController = new AbortController();
  private renewing: Promise<void> | undefined;
  private stopped = false;

  constructor(config: k8s.KubeConfig, options: LeaderElectionOptions) {
    this.coordination = config.makeApiClient(k8s.CoordinationV1Api);
    this.options = options;
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
      await sleep(jitter(retry), undefined, { signal }).catch(() => undefined);
    }
    return false;
  }

  /** Gives the Lease up so a standby replica takes over at once instead of waiting for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    await this.renewing?.catch(() => undefined);
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      lease.spec.holderIdentity = undefined;
      lease.spec.leaseDurationSeconds = 1;
      lease.spec.acquireTime = undefined;
      lease.spec.renewTime = undefined;
      await this.coordination.replaceNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
        body: lease,
      });
      this.options.logger.info({ lease: this.options.name }, 'released leadership');
    } catch (error) {
      this.options.logger.warn({ err: describe(error) }, 'could not release the Lease; it will expire');
    }
  }

  private async renewLoop(): Promise<void> {
    const deadlineMs = (this.options.leaseDurationSeconds * 1000 * 2) / 3;
    let lastRenewal = Date.now();
    while (!this.stopped) {
      await sleep(this.retryPeriodMs());
      if (this.stopped) return;
      try {
        if (await this.tryAcquireOrRenew()) {
          lastRenewal = Date.now();
          continue;
        }
      } catch (error) {
        this.options.logger.warn({ err: describe(error) }, 'Lease renewal failed');
      }
      if (Date.now() - lastRenewal > deadlineMs || !(await this.stillHolder())) {
        this.options.logger.error({ lease: this.options.name }, 'lost leadership');
        this.lostController.abort(new Error('leadership lost'));
        return;
      }
    }
  }

  private async stillHolder(): Promise<boolean> {
    const lease = await this.read().catch(() => undefined);
    return lease?.spec?.holderIdentity === this.options.identity;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    // Lease times are MicroTime: the API server refuses the millisecond form a plain Date serialises to.
    const now = new k8s.V1MicroTime();
    const existing = await this.read();
    if (!existing) {
      await this.coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
      });
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
    // replace carries metadata.resourceVersion: if another replica wrote in between, this fails with 409.
    await this.coordination.replaceNamespacedLease({ name, namespace, body: existing });
    return true;
  }

  private async read(): Promise<k8s.V1Lease | undefined> {
    try {
      return await this.coordination.readNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
      });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  private retryPeriodMs(): number {
    return Math.max(500, (this.options.leaseDurationSeconds * 1000) / 4);
  }
}

function jitter(ms: number): number {
  return ms * (0.8 + Math.random() * 0.4);
}

function describe(error: unknown): string {
  if (error instanceof k8s.ApiException) return `HTTP ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}
