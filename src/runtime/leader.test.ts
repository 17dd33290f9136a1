// Leader election against an in-memory Lease that, like the API server, refuses a write carrying a stale
// resourceVersion, and a fake clock: acquiring, standing by, renewing, losing and releasing the Lease.
import type { V1Lease } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, settle } from '../../test/support/fake-clock.ts';
import { LeaderElector, type LeaseStore } from './leader.ts';

const leaseSeconds = 12;
/** The election's retry period for a 12 s Lease: a quarter of it. */
const retryMs = 3_000;

class MemoryLease implements LeaseStore {
  lease: V1Lease | undefined;
  version = 0;
  reads = 0;
  writes = 0;
  /** While set, every write fails, as when the API server cannot be reached. */
  failWrites = false;

  async read() {
    this.reads++;
    return this.lease && structuredClone(this.lease);
  }

  async create(lease: V1Lease) {
    if (this.failWrites) throw new Error('connection refused');
    if (this.lease) throw new Error('AlreadyExists');
    return this.store(lease);
  }

  async replace(lease: V1Lease) {
    if (this.failWrites) throw new Error('connection refused');
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
      throw new Error('Conflict');
    return this.store(lease);
  }

  /** Another replica holding the Lease, renewed at `renewedAt`. */
  heldBy(identity: string, renewedAt: number) {
    this.store({
      metadata: { name: 'secretlink', namespace: 'secretlink-system' },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: new Date(renewedAt),
        renewTime: new Date(renewedAt),
        leaseTransitions: 0,
      },
    });
  }

  private store(lease: V1Lease): V1Lease {
    this.writes++;
    this.lease = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(++this.version) },
    });
    return structuredClone(this.lease);
  }
}

function elector(leases: LeaseStore, clock: FakeClock, identity = 'replica-a') {
  return new LeaderElector(leases, {
    namespace: 'secretlink-system',
    name: 'secretlink',
    identity,
    leaseDurationSeconds: leaseSeconds,
    logger: pino({ level: 'silent' }),
    clock,
    random: () => 0.5,
  });
}

const holderOf = (leases: MemoryLease) => leases.lease?.spec?.holderIdentity;
const renewedAt = (leases: MemoryLease) => new Date(leases.lease?.spec?.renewTime ?? 0).getTime();

describe('leader election', () => {
  it('acquires a Lease nobody holds, at once, stamped with the clock', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    const replica = elector(leases, clock);
    expect(await replica.acquire(new AbortController().signal)).toBe(true);
    expect(holderOf(leases)).toBe('replica-a');
    expect(renewedAt(leases)).toBe(1_000_000);
    expect(leases.lease?.spec?.leaseTransitions).toBe(0);
    await replica.release();
  });

  it('holds only while its last renewal is recent: a replica frozen past the deadline may not act on waking', async () => {
    const fake = new FakeClock(1_000_000);
    let frozenFor = 0;
    // A frozen process: time passes, but none of its timers (the renew loop) ran.
    const clock = { now: () => fake.now() + frozenFor, setTimer: fake.setTimer.bind(fake) };
    const leases = new MemoryLease();
    const replica = new LeaderElector(leases, {
      namespace: 'secretlink-system',
      name: 'secretlink',
      identity: 'replica-a',
      leaseDurationSeconds: leaseSeconds,
      logger: pino({ level: 'silent' }),
      clock,
      random: () => 0.5,
    });
    expect(replica.holds()).toBe(false);
    expect(await replica.acquire(new AbortController().signal)).toBe(true);
    expect(replica.holds()).toBe(true);
    frozenFor = (leaseSeconds * 1000 * 2) / 3;
    expect(replica.lost.aborted).toBe(false);
    expect(replica.holds()).toBe(false);
    await replica.release();
  });

  it('stands by while another replica holds a fresh Lease, and takes over once it expires', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    leases.heldBy('replica-b', clock.now());
    const replica = elector(leases, clock);
    let acquired = false;
    const acquiring = replica.acquire(new AbortController().signal).then((won) => {
      acquired = won;
    });
    await clock.advance(leaseSeconds * 1000 - 1);
    expect(acquired).toBe(false);
    expect(holderOf(leases)).toBe('replica-b');

    await clock.advance(2 * retryMs);
    await acquiring;
    expect(acquired).toBe(true);
    expect(holderOf(leases)).toBe('replica-a');
    expect(leases.lease?.spec?.leaseTransitions).toBe(1);
    await replica.release();
  });

  it('gives up standing by when asked to stop, without taking the Lease', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    leases.heldBy('replica-b', clock.now());
    const stop = new AbortController();
    const acquiring = elector(leases, clock).acquire(stop.signal);
    await clock.advance(retryMs);
    stop.abort();
    expect(await acquiring).toBe(false);
    expect(holderOf(leases)).toBe('replica-b');
  });

  it('renews the Lease it holds, so a standby never sees it expire', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    const leader = elector(leases, clock, 'replica-a');
    await leader.acquire(new AbortController().signal);
    const standby = elector(leases, clock, 'replica-b');
    let standbyWon = false;
    void standby.acquire(new AbortController().signal).then((won) => {
      standbyWon = won;
    });

    await clock.advance(5 * leaseSeconds * 1000);
    expect(renewedAt(leases)).toBeGreaterThan(clock.now() - leaseSeconds * 1000);
    expect(holderOf(leases)).toBe('replica-a');
    expect(leader.lost.aborted).toBe(false);
    expect(standbyWon).toBe(false);
    await leader.release();
    await clock.advance(2 * retryMs);
    expect(standbyWon).toBe(true);
    await standby.release();
  });

  it('renews with one write and no read while no one else writes the Lease', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    const leader = elector(leases, clock);
    await leader.acquire(new AbortController().signal);
    const [reads, writes] = [leases.reads, leases.writes];

    await clock.advance(10 * retryMs);
    expect(leases.writes - writes).toBe(10);
    expect(leases.reads).toBe(reads);
    expect(renewedAt(leases)).toBe(clock.now());
    expect(holderOf(leases)).toBe('replica-a');
    expect(leader.lost.aborted).toBe(false);
    await leader.release();
  });

  it('reports leadership lost when renewals fail, before the Lease it last renewed could expire', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    const leader = elector(leases, clock);
    await leader.acquire(new AbortController().signal);
    const lastRenewal = renewedAt(leases);
    leases.failWrites = true;

    // Within two thirds of the Lease a failed renewal is retried: it still leads.
    await clock.advance((leaseSeconds * 1000 * 2) / 3 - 1);
    expect(leader.lost.aborted).toBe(false);
    // It stops acting before a standby could take the expired Lease over.
    await clock.advance(leaseSeconds * 1000 - (clock.now() - lastRenewal) - 1);
    expect(leader.lost.aborted).toBe(true);
    expect(clock.now() - lastRenewal).toBeLessThan(leaseSeconds * 1000);
  });

  it('reports leadership lost at its next renewal when another replica took the Lease', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    const leader = elector(leases, clock);
    await leader.acquire(new AbortController().signal);
    leases.heldBy('replica-b', clock.now());

    await clock.advance(retryMs);
    expect(leader.lost.aborted).toBe(true);
    expect(holderOf(leases)).toBe('replica-b');
  });

  it('hands the Lease back on stop and writes nothing after', async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryLease();
    const leader = elector(leases, clock);
    await leader.acquire(new AbortController().signal);
    await clock.advance(retryMs);

    await leader.release();
    expect(holderOf(leases)).toBeUndefined();
    expect(leases.lease?.spec?.leaseDurationSeconds).toBe(1);
    const writes = leases.writes;
    await clock.advance(5 * leaseSeconds * 1000);
    await settle();
    expect(leases.writes).toBe(writes);
    expect(clock.pendingTimers).toBe(0);
  });
});
