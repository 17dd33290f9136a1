// Assembles one running operator from its parts. main.ts gives it the process's config and signals; tests
// start it in-process against the local control plane the same way.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { HashChainedFileSink } from './audit/file-sink.ts';
import { LeaderAuditTrail } from './audit/leader-trail.ts';
import type { AuditSink } from './audit/types.ts';
import type { OperatorConfig } from './config.ts';
import { createClusterWriter } from './controller/cluster-writer.ts';
import {
  ControllerCaches,
  countManagedSecrets,
  routeEvents,
  routeStoreEvents,
  routeStoreForgetting,
  sweep,
  sweepStores,
} from './controller/controller.ts';
import { fenceWriter, NotLeadingError } from './controller/fenced-writer.ts';
import { Reconciler } from './controller/reconciler.ts';
import { StoreStatusReconciler } from './controller/store-status-reconciler.ts';
import { createStoreValues } from './controller/store-values.ts';
import { createControllerInformers } from './controller/watched-resources.ts';
import type { OperatorMetrics } from './observability/metrics.ts';
import { safeErrorMessage } from './observability/redact.ts';
import { KubeCredentialSource } from './providers/kube-credentials.ts';
import { StoreClients } from './providers/store-clients.ts';
import { configureDeniedStoreHosts } from './providers/store-hosts.ts';
import { systemClock } from './runtime/clock.ts';
import { storeNamespaceOf } from './runtime/fair-keys.ts';
import { reuseConnections } from './runtime/kube-connections.ts';
import { kubeLeaseStore, LeaderElector } from './runtime/leader.ts';
import { RateLimiter } from './runtime/rate-limiter.ts';
import { type RetryReport, WorkQueue } from './runtime/workqueue.ts';

export interface OperatorParts {
  config: OperatorConfig;
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  metrics: OperatorMetrics;
  /** Every sink but the file: the Event, log and any other sink. */
  audit: AuditSink;
  /** Opens the signed audit file; called only once this replica leads. */
  openAuditChain?: () => Promise<HashChainedFileSink>;
  fingerprint: (data: Record<string, Buffer>, namespace: string) => string;
  /** Keyed mark of each Secret write (`secretlink.dev/claim`), from the same key as the fingerprints. */
  claimMark?: (parts: readonly string[]) => string;
}

export interface RunningOperator {
  /**
   * Caches synced, and the audit file (once this replica leads) takes records: the replica can serve, whether
   * or not it leads.
   */
  ready(): boolean;
  leading(): boolean;
  /** Resolves when the operator stopped by itself (lost leadership) or after stop(). */
  done: Promise<void>;
  /** Graceful: stop taking work, finish reconciles in flight, release the Lease. */
  stop(): Promise<void>;
}

export function startOperator(parts: OperatorParts): RunningOperator {
  const { config, kubeConfig, logger, metrics } = parts;
  reuseConnections(kubeConfig);
  const shutdown = new AbortController();
  const caches = new ControllerCaches(
    createControllerInformers(kubeConfig, {
      namespaces: config.namespaces.length > 0 ? config.namespaces : undefined,
      observer: {
        failed: (kind, namespace, error, retryInMs) =>
          logger.warn({ kind, namespace, err: safeMessage(error), retryInMs }, 'watch failed; retrying'),
      },
    }),
  );
  countManagedSecrets(caches, (count) => metrics.managedSecrets.set(count));
  // The API server's Service address, as the pod sees it, is denied along with its names.
  const apiServerHost = process.env.KUBERNETES_SERVICE_HOST;
  configureDeniedStoreHosts([...config.deniedStoreHosts, ...(apiServerHost ? [apiServerHost] : [])]);
  const clients = new StoreClients({
    credentials: new KubeCredentialSource(kubeConfig),
    logger: logger.child({ part: 'providers' }),
    tuning: { timeoutMs: config.storeTimeoutMs, maxResponseBytes: config.maxResponseBytes },
  });
  routeStoreForgetting(caches, clients);
  const elector = config.leaderElection
    ? new LeaderElector(kubeLeaseStore(kubeConfig, config.operatorNamespace, config.leaseName), {
        namespace: config.operatorNamespace,
        name: config.leaseName,
        identity: config.identity,
        leaseDurationSeconds: config.leaseDurationSeconds,
        logger,
      })
    : undefined;
  /** Writes and records are made only while this replica surely holds the Lease. */
  const leading = () => (elector ? elector.holds() : true);
  // One writer, so reference and store writes share the API server rate limit.
  const writer = fenceWriter(
    createClusterWriter(kubeConfig, new RateLimiter(config.kubeQps, config.kubeBurst, systemClock)),
    leading,
  );
  // A record the file cannot take fails its reconcile (nothing moves on without evidence). A full or read-only
  // volume only makes the trail unavailable: grants are refused, revocations go on, and the records owed are
  // retried. A file left with a partly written line cannot be continued: stop, so the restart reopens it.
  const audit = new LeaderAuditTrail(parts.audit, {
    onChainError: (error) => {
      metrics.auditSinkFailures.inc({ sink: 'file' });
      logger.error({ sink: 'file', err: safeMessage(error) }, 'the audit file failed to record; stopping');
      void stop();
    },
    onAvailability: (error) => {
      metrics.auditAvailable.set(error ? 0 : 1);
      if (error) {
        metrics.auditSinkFailures.inc({ sink: 'file' });
        logger.error(
          { sink: 'file', err: safeMessage(error) },
          'the audit file cannot take records; no access is granted until it can',
        );
      } else logger.info({ sink: 'file' }, 'the audit file takes records again');
    },
  });
  metrics.auditAvailable.set(1);
  const reconciler = new Reconciler({
    view: caches.view(),
    writer,
    values: createStoreValues(clients, {
      maxReferenceBytes: config.maxReferenceBytes,
      concurrency: config.referenceReadConcurrency,
      readingReferences: config.storeReadConcurrency,
      timeoutMs: config.reconcileTimeoutMs,
      maxFindSecrets: config.maxFindSecrets,
    }),
    audit: {
      name: 'counted',
      write: async (record) => {
        // A replica that may no longer lead records nothing: the leader derives the record again.
        if (!leading())
          throw new NotLeadingError('this replica no longer holds the Lease; nothing is recorded');
        metrics.auditRecords.inc({ action: record.action });
        await audit.write(record);
      },
    },
    fingerprint: parts.fingerprint,
    grantsAudited: () => audit.admitsGrants(),
    identity: config.identity,
    claimMark: parts.claimMark,
    clock: systemClock,
    logger: logger.child({ part: 'reconciler' }),
    refreshJitter: config.refreshJitter,
  });
  const queue = new WorkQueue({
    metrics: {
      depth: (ready, delayed) => metrics.queueDepth.set(ready + delayed),
      retried: () => metrics.queueRetries.inc(),
    },
    onError: (key, error, retry) => logRetry(logger, { reference: key }, error, retry, 'reconcile'),
    // A change that takes a Job's access away cuts short a store read its reference is waiting on.
    whileBusy: (key) => reconciler.interruptIfRevoking(key),
  });
  const storeStatus = new StoreStatusReconciler({
    view: caches.view(),
    writer,
    clock: systemClock,
    logger: logger.child({ part: 'store-status' }),
  });
  // Stores have a queue of their own: a status write is one cheap call, and it never waits behind references.
  const storeQueue = new WorkQueue({
    partitionOf: storeNamespaceOf,
    onError: (key, error, retry) => logRetry(logger, { store: key }, error, retry, 'store status'),
  });
  let isLeader = false;
  let working: Promise<void> = Promise.resolve();
  caches.start();

  const run = async () => {
    await caches.waitForSync(shutdown.signal);
    logger.info('caches synced');
    if (elector && !(await elector.acquire(shutdown.signal))) return;
    if (shutdown.signal.aborted) return;
    isLeader = true;
    metrics.isLeader.set(1);
    if (parts.openAuditChain) {
      // Only the leader opens the audit file: a standby must not append to (or start) a chain.
      const chain = await parts.openAuditChain();
      audit.attach(chain);
      if (chain.started) logger.warn({ genesis: chain.started }, 'audit chain started with a genesis record');
      else logger.info({ auditHead: chain.chainHead() }, 'audit chain continued');
      if (shutdown.signal.aborted) return;
    }
    // Only the leader routes events into the queue; a standby keeps warm caches and does nothing else.
    routeEvents(caches, queue, logger);
    routeStoreEvents(caches, storeQueue);
    logger.info(
      { references: sweep(caches, queue), stores: sweepStores(caches, storeQueue) },
      'start-up sweep queued',
    );
    const storesDone = storeQueue.run(1, async (key) => {
      await storeStatus.reconcile(key);
      return undefined;
    });
    const referencesDone = queue.run(config.concurrency, async (key, signal) => {
      const started = process.hrtime.bigint();
      let result = 'success';
      try {
        return await reconciler.reconcile(key, signal);
      } catch (error) {
        result = 'error';
        throw error;
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.reconciles.inc({ result });
        metrics.reconcileSeconds.observe({ result }, seconds);
      }
    });
    working = Promise.all([referencesDone, storesDone]).then(() => undefined);
    elector?.lost.addEventListener('abort', () => {
      // Another replica may already act: stop at once rather than finish work it may be redoing.
      isLeader = false;
      metrics.isLeader.set(0);
      void queue.shutdown({ drain: false });
      void storeQueue.shutdown({ drain: false });
      void audit.detach();
    });
    await working;
  };

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shutdown.abort();
      await Promise.all([
        queue.shutdown({ drain: true, timeoutMs: 20_000 }),
        storeQueue.shutdown({ drain: true, timeoutMs: 20_000 }),
      ]);
      await working.catch(() => undefined);
      await audit
        .detach()
        .catch((error) =>
          logger.error({ sink: 'file', err: safeMessage(error) }, 'could not close the audit file'),
        );
      if (isLeader) await elector?.release();
      isLeader = false;
      metrics.isLeader.set(0);
      await caches.stop();
      await clients.close();
      logger.info('stopped');
    })();
    return stopping;
  };

  const done = run()
    .catch((error) => {
      if (!shutdown.signal.aborted) logger.error({ err: safeMessage(error) }, 'operator stopped on an error');
    })
    .then(() => stop());

  return { ready: () => caches.synced() && audit.available(), leading: () => isLeader, done, stop };
}

/**
 * Errors are logged by message only: an API or SDK error object can carry request and response bodies, and
 * an ApiException's message embeds them, so for it only the HTTP code is kept.
 */
export function safeMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${safeErrorMessage(error)}` : 'unknown error';
}

/** An expected retry (a conflict, throttling) is routine and logged at info; anything else is a warning. */
function logRetry(
  logger: Logger,
  subject: Record<string, string>,
  error: unknown,
  retry: RetryReport,
  what: string,
): void {
  const fields = { ...subject, err: safeMessage(error), failures: retry.failures, delayMs: retry.delayMs };
  if (retry.expected) logger.info(fields, `${what} will be retried`);
  else logger.warn(fields, `${what} failed; will retry`);
}
