// Stores that fail: down for a while, slow, throttling. Each store is the environment's real one (moto, the
// Vault dev server, the GCP emulator) behind a fault proxy on loopback that the test controls and that counts
// the calls reaching it (test/env/fault-proxy.ts); the stores themselves are never stopped, since they keep
// their data in memory only. Every bound below comes from the operator's own policy: the work queue's backoff
// (src/runtime/backoff.ts) and the read deadlines (--reconcile-timeout-ms).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitingRetryBackoff } from '../../src/controller/reconciler.ts';
import { backoffDelay, defaultBackoff } from '../../src/runtime/backoff.ts';
import { awsThrottle, type FaultProxy, startHttpFaultProxy, vaultThrottle } from '../env/fault-proxy.ts';
import { startGrpcFaultProxy } from '../env/fault-proxy-grpc.ts';
import { createNamespace, deleteNamespace, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  callsBetween,
  createJob,
  createReference,
  createStore,
  createStoreCredentials,
  type Provider,
  readyWith,
  secretGone,
  secretHolds,
  secretValue,
  storeSpecThrough,
  suspendJob,
} from '../support/fault-scenes.ts';
import { installCrds, startTestOperator, type TestOperator } from '../support/operator.ts';
import {
  rotateAwsSecret,
  rotateGcpSecret,
  rotateVaultSecret,
  seedAwsSecret,
  seedGcpSecret,
  seedVaultSecret,
  stores,
  uniqueSecretName,
} from '../support/stores.ts';

const proxiedStores = ['throttled-aws', 'throttled-vault', 'throttled-gcp', 'refusing-vault', 'refusing-gcp'];

/** The read deadline this file's operator runs with: short, so a stalled read is abandoned within seconds. */
const reconcileTimeoutMs = 8_000;

let namespace: string;
let operator: TestOperator;
const proxies = {} as Record<Provider, FaultProxy>;

beforeAll(async () => {
  await installCrds();
  proxies.aws = await startHttpFaultProxy(stores().aws.endpoint, awsThrottle);
  proxies.vault = await startHttpFaultProxy(stores().vault.address, vaultThrottle);
  proxies.gcp = await startGrpcFaultProxy(stores().gcp.endpoint);
  namespace = await createNamespace('faults-stores');
  await createStoreCredentials(namespace, [
    'aws',
    'aws-served',
    'vault',
    'gcp',
    'aws-direct',
    ...proxiedStores,
  ]);
  for (const provider of ['aws', 'vault', 'gcp'] as const) {
    await createStore(namespace, provider, storeSpecThrough(provider, proxies[provider]));
  }
  await createStore(namespace, 'aws-direct', storeSpecThrough('aws'));
  operator = startTestOperator({
    namespaces: [namespace],
    flags: [`--reconcile-timeout-ms=${reconcileTimeoutMs}`, '--store-timeout-ms=20000'],
  });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  for (const proxy of Object.values(proxies)) await proxy.close();
  await deleteNamespace(namespace);
});

/** A remote secret holding `value` in `provider`'s store, and how to give it a new version. */
async function seedRemote(provider: Provider, value: string) {
  const name = uniqueSecretName('faults');
  switch (provider) {
    case 'aws':
      await seedAwsSecret(name, value);
      return { remote: name, rotate: (next: string) => rotateAwsSecret(name, next) };
    case 'vault':
      await seedVaultSecret(`faults/${name}`, { value });
      return {
        remote: `faults/${name}`,
        property: 'value',
        rotate: (next: string) => rotateVaultSecret(`faults/${name}`, { value: next }),
      };
    case 'gcp':
      await seedGcpSecret(name, value);
      return { remote: name, rotate: (next: string) => rotateGcpSecret(name, next) };
  }
}

/**
 * The most reconciles one key can make within `windowMs` by backoff alone: each delay is at least the
 * jittered minimum, half the exponential ceiling (defaultBackoff: 100 ms doubling, jitter 0.5).
 */
function backoffAttemptsWithin(windowMs: number): number {
  let attempts = 1;
  let elapsed = 0;
  for (let failures = 1; ; failures++) {
    elapsed += backoffDelay(failures, defaultBackoff, () => 1);
    if (elapsed > windowMs) return attempts;
    attempts++;
  }
}

/** The longest the queue waits before retrying a key that failed `failures` times in a row. */
const longestRetryMs = (failures: number) => backoffDelay(failures, defaultBackoff, () => 0);
/** The same for a reference whose Job waits for a Secret it does not have: it is retried on its own schedule. */
const longestWaitingRetryMs = (failures: number) => backoffDelay(failures, waitingRetryBackoff, () => 0);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a store that is down for a while, then back', () => {
  // Bound: per failing reference, at most backoffAttemptsWithin(outage) store calls by backoff, plus one per
  // event that wakes it (its Job and pod starting, its own status write: at most `wakeups`); recovery within
  // the longest backoff delay its failures reached (each call is one failure), without a restart. Each
  // reference reaches the store through a proxy of its own, so its calls are counted apart.
  it('keeps served Secrets, refuses new ones with StoreUnavailable, makes no pile of calls and recovers by itself', async () => {
    const freshProxy = proxies.aws;
    const servedProxy = await startHttpFaultProxy(stores().aws.endpoint, awsThrottle);
    try {
      await createStore(namespace, 'aws-served', storeSpecThrough('aws', servedProxy));
      const served = await seedRemote('aws', 'served-v1');
      const fresh = await seedRemote('aws', 'fresh-v1');
      await createReference(namespace, 'served', {
        store: 'aws-served',
        remote: served.remote,
        refreshInterval: '10s',
      });
      await createReference(namespace, 'fresh', { store: 'aws', remote: fresh.remote });
      await createJob(namespace, 'served-job', 'served');
      await secretHolds(namespace, 'served', 'served-v1');

      const outageMs = 10_000;
      await Promise.all([freshProxy.set({ kind: 'down' }), servedProxy.set({ kind: 'down' })]);
      const downAt = Date.now();
      await served.rotate('served-v2');
      await createJob(namespace, 'fresh-job', 'fresh');

      // The new Job is refused with a reason a person can act on; the served one keeps its Secret and value.
      const refused = await readyWith(namespace, 'fresh', (ready) => ready.reason === 'StoreUnavailable');
      expect(refused.status).toBe('False');
      expect(await readSecretIfPresent(namespace, 'fresh')).toBeUndefined();
      // The refresh (every 10 s) meets the outage too, and says so, while the Secret stays for its Job.
      const kept = await readyWith(
        namespace,
        'served',
        (ready) => ready.reason === 'StoreUnavailable',
        20_000,
      );
      expect(kept.status).toBe('False');
      expect(secretValue(await readSecretIfPresent(namespace, 'served'))).toBe('served-v1');

      await pause(Math.max(0, downAt + outageMs - Date.now()));
      const endedAt = Date.now();
      expect(await readSecretIfPresent(namespace, 'fresh')).toBeUndefined();
      expect(secretValue(await readSecretIfPresent(namespace, 'served'))).toBe('served-v1');
      expect(operator.leading()).toBe(true);
      const wakeups = 5;
      const calls = {
        fresh: callsBetween(freshProxy, downAt, endedAt),
        served: callsBetween(servedProxy, downAt, endedAt),
      };
      for (const [reference, seen] of Object.entries(calls)) {
        const since = seen[0]?.at ?? endedAt;
        const bound = backoffAttemptsWithin(endedAt - since) + wakeups;
        const described = `${reference}: ${seen.length} calls in ${endedAt - since} ms (bound ${bound})`;
        console.log(`store outage: ${described}`);
        expect(seen.length, described).toBeGreaterThan(0);
        expect(seen.every((call) => call.fault === 'down')).toBe(true);
        expect(seen.length, described).toBeLessThanOrEqual(bound);
      }

      await Promise.all([freshProxy.set({ kind: 'pass' }), servedProxy.set({ kind: 'pass' })]);
      // The retry after the last failure comes within its backoff delay; then one reconcile and the watch.
      const slackMs = 10_000;
      await secretHolds(namespace, 'fresh', 'fresh-v1', longestWaitingRetryMs(calls.fresh.length) + slackMs);
      await secretHolds(namespace, 'served', 'served-v2', longestRetryMs(calls.served.length) + slackMs);
      await readyWith(namespace, 'fresh', (ready) => ready.reason === 'Materialized');
      await readyWith(namespace, 'served', (ready) => ready.reason === 'Materialized');

      // One grant for the waiting Job, once, and the failure recorded once per reference, not once per retry.
      const about = (reference: string) => operator.audit.filter((r) => r.reference.name === reference);
      expect(about('fresh').map((r) => r.action)).toEqual(['Failed', 'Materialized']);
      expect(about('served').map((r) => r.action)).toEqual(['Materialized', 'Failed', 'Refreshed']);
    } finally {
      await servedProxy.close();
    }
  }, 90_000);
});

describe('a store that refuses connections, then listens again (Vault, GCP)', () => {
  // Bound: refused with StoreUnavailable meanwhile; once the store listens again, the Secret is written
  // within the longest backoff delay the failures can have reached (backoff alone, plus `wakeups`). Nothing
  // listens, so the proxy cannot count the calls; the AWS case above counts them.
  it('refuses the new Job meanwhile and serves it once the store listens again, without a restart', async () => {
    const own = {
      vault: await startHttpFaultProxy(stores().vault.address, vaultThrottle),
      gcp: await startGrpcFaultProxy(stores().gcp.endpoint),
    };
    try {
      await Promise.all((['vault', 'gcp'] as const).map((provider) => refusing(provider, own[provider])));
    } finally {
      for (const proxy of Object.values(own)) await proxy.close();
    }
  }, 60_000);
});

async function refusing(provider: Provider, proxy: FaultProxy): Promise<void> {
  const name = `refusing-${provider}`;
  await createStore(namespace, name, storeSpecThrough(provider, proxy));
  const remote = await seedRemote(provider, `${provider}-refused-v1`);
  await createReference(namespace, name, { store: name, ...remote });
  await proxy.set({ kind: 'refuse' });
  const refusedAt = Date.now();
  await createJob(namespace, `${name}-job`, name);
  const ready = await readyWith(namespace, name, (r) => r.reason === 'StoreUnavailable');
  expect(ready.status, provider).toBe('False');
  await pause(Math.max(0, refusedAt + 6_000 - Date.now()));
  expect(await readSecretIfPresent(namespace, name), provider).toBeUndefined();
  await proxy.set({ kind: 'pass' });
  const failures = backoffAttemptsWithin(Date.now() - refusedAt) + 5;
  await secretHolds(namespace, name, `${provider}-refused-v1`, longestRetryMs(failures) + 10_000);
  await readyWith(namespace, name, (r) => r.reason === 'Materialized');
  expect(operator.leading()).toBe(true);
}

describe('a slow store', () => {
  // Bound: a read that stalls is abandoned after --reconcile-timeout-ms and reported. Meanwhile other
  // references are served and revoked before the stalled read ends, and a revocation of the very reference
  // whose read stalls does not wait for it: the read is given up at once (no failure recorded).
  it('serves and revokes while a read stalls, gives the read up for a revocation, and abandons it at its deadline', async () => {
    const proxy = proxies.vault;
    const slow = await seedRemote('vault', 'slow-v1');
    const slowServed = await seedRemote('vault', 'slow-served-v1');
    const healthy = await seedRemote('aws', 'healthy-v1');
    await createReference(namespace, 'slow', { store: 'vault', ...slow });
    await createReference(namespace, 'slow-served', {
      store: 'vault',
      ...slowServed,
      refreshInterval: '10s',
    });
    await createReference(namespace, 'healthy', { store: 'aws-direct', remote: healthy.remote });
    await createReference(namespace, 'revoked', { store: 'aws-direct', remote: healthy.remote });
    await createJob(namespace, 'revoked-job', 'revoked');
    await createJob(namespace, 'slow-served-job', 'slow-served');
    await secretHolds(namespace, 'revoked', 'healthy-v1');
    await secretHolds(namespace, 'slow-served', 'slow-served-v1');

    await proxy.set({ kind: 'hold' });
    const holds = (remote: string) => proxy.held().some((what) => what.includes(remote));
    await createJob(namespace, 'slow-job', 'slow');
    await eventually('the read for slow-job to be held', async () => (holds(slow.remote) ? true : undefined));
    const stalledAt = Date.now();

    await createJob(namespace, 'healthy-job', 'healthy');
    await secretHolds(namespace, 'healthy', 'healthy-v1');
    await suspendJob(namespace, 'revoked-job');
    await secretGone(namespace, 'revoked');
    // Both happened while the read for slow-job was still unanswered.
    expect(holds(slow.remote)).toBe(true);
    expect(Date.now() - stalledAt).toBeLessThan(reconcileTimeoutMs);
    const actionsOf = (job: string) => operator.audit.filter((r) => r.job?.name === job).map((r) => r.action);
    // The record follows the delete the API server confirmed, so it may land just after the Secret is gone.
    const audited = (job: string) =>
      eventually(`the revocation of ${job} to be audited`, async () =>
        actionsOf(job).includes('Revoked') ? true : undefined,
      );
    await audited('revoked-job');
    expect(actionsOf('revoked-job')).toEqual(['Materialized', 'Revoked']);

    // The refresh of slow-served (every 10 s) stalls too; its Job is suspended meanwhile.
    await eventually(
      'the refresh of slow-served to be held',
      async () => (holds(slowServed.remote) ? true : undefined),
      { timeoutMs: 20_000 },
    );
    const refreshStalledAt = Date.now();
    await suspendJob(namespace, 'slow-served-job');
    await secretGone(namespace, 'slow-served');
    expect(Date.now() - refreshStalledAt).toBeLessThan(reconcileTimeoutMs);
    // Given up, not timed out: the operator dropped the held request and recorded no failure.
    expect(holds(slowServed.remote)).toBe(false);
    await audited('slow-served-job');
    expect(actionsOf('slow-served-job')).toEqual(['Materialized', 'Revoked']);

    // The deadline ends the stalled read: reported, nothing half-written, the held request given up.
    const ready = await readyWith(namespace, 'slow', (condition) => condition.reason === 'StoreUnavailable');
    expect(ready.message).toContain('--reconcile-timeout-ms');
    expect(await readSecretIfPresent(namespace, 'slow')).toBeUndefined();

    // Slow but inside the deadline: served.
    await proxy.set({ kind: 'delay', ms: 1_500 });
    await secretHolds(namespace, 'slow', 'slow-v1');
    await readyWith(namespace, 'slow', (condition) => condition.reason === 'Materialized');
    await proxy.set({ kind: 'pass' });
  }, 90_000);
});

describe('a store that throttles', () => {
  // Bound: retries spaced by the queue's backoff (each gap at least its jittered minimum, and no more calls
  // than backoff allows); the rotated value written within the longest retry delay of the store answering.
  // The three providers run side by side, each behind a proxy of its own so its calls are one key's.
  it('backs off while throttled and writes the rotated value once the store answers (AWS, Vault, GCP)', async () => {
    const own = {
      aws: await startHttpFaultProxy(stores().aws.endpoint, awsThrottle),
      vault: await startHttpFaultProxy(stores().vault.address, vaultThrottle),
      gcp: await startGrpcFaultProxy(stores().gcp.endpoint),
    };
    try {
      await Promise.all(
        (['aws', 'vault', 'gcp'] as const).map((provider) => throttled(provider, own[provider])),
      );
    } finally {
      for (const proxy of Object.values(own)) await proxy.close();
    }
  }, 60_000);
});

async function throttled(provider: Provider, proxy: FaultProxy): Promise<void> {
  const name = `throttled-${provider}`;
  await createStore(namespace, name, storeSpecThrough(provider, proxy));
  const remote = await seedRemote(provider, `${provider}-v1`);
  await createReference(namespace, name, { store: name, ...remote, refreshInterval: '10s' });
  await createJob(namespace, `${name}-job`, name);
  await secretHolds(namespace, name, `${provider}-v1`);

  await proxy.set({ kind: 'throttle' });
  const throttledAt = Date.now();
  await remote.rotate(`${provider}-v2`);
  // The next refresh (within 10 s) is throttled, then retried with backoff.
  const ready = await readyWith(namespace, name, (r) => r.reason === 'StoreUnavailable', 20_000);
  expect(ready.message.toLowerCase(), provider).toContain('throttl');
  const throttledCalls = () => callsBetween(proxy, throttledAt).filter((call) => call.fault === 'throttle');
  await eventually(`${provider}: a few retries to be throttled`, async () =>
    throttledCalls().length >= 4 ? true : undefined,
  );
  await proxy.set({ kind: 'pass' });
  const calls = throttledCalls();
  const window = Date.now() - calls[0]!.at;
  // Besides backoff, one wakeup: the reference's own status write when Ready turns StoreUnavailable.
  const wakeups = 1;
  expect(calls.length, provider).toBeLessThanOrEqual(backoffAttemptsWithin(window) + wakeups);
  // Each retry waited at least the shortest delay its failure count allows (a few ms of timer slack aside).
  // A wakeup breaks that twice: its own run comes early, and the retry scheduled before it still fires on
  // its original deadline, which may be sooner than the next step's minimum.
  const early = calls.slice(1).filter((call, index) => {
    const shortest = backoffDelay(index + 1, defaultBackoff, () => 1);
    return call.at - calls[index]!.at < shortest - 5;
  });
  expect(
    early.length,
    `${provider}: ${JSON.stringify(calls.map((c) => c.at - calls[0]!.at))}`,
  ).toBeLessThanOrEqual(2 * wakeups);

  await secretHolds(namespace, name, `${provider}-v2`, longestRetryMs(calls.length) + 15_000);
  await readyWith(namespace, name, (r) => r.reason === 'Materialized');
}
