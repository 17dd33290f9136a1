// Prometheus metrics of the operator. Labels carry kinds and outcomes, never names of secrets or values.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  reconcileSeconds: Histogram<'result'>;
  managedSecrets: Gauge;
  auditRecords: Counter<'action'>;
  auditSinkFailures: Counter<'sink'>;
  queueDepth: Gauge;
  queueRetries: Counter;
  isLeader: Gauge;
  auditAvailable: Gauge;
}

export function createMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'secretlink_process_' });
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({
      name: 'secretlink_reconciles_total',
      help: 'Reconciles of SecretReferences by result.',
      labelNames: ['result'],
      registers,
    }),
    reconcileSeconds: new Histogram({
      name: 'secretlink_reconcile_duration_seconds',
      help: 'Time to reconcile one SecretReference.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    managedSecrets: new Gauge({
      name: 'secretlink_managed_secrets',
      help: 'Secrets secretlink manages that the API server confirmed exist (in the watched namespaces).',
      registers,
    }),
    auditRecords: new Counter({
      name: 'secretlink_audit_records_total',
      help: 'Audit records emitted by action.',
      labelNames: ['action'],
      registers,
    }),
    // Alerted on (config/prometheus): a record a sink failed to keep is evidence missing from that sink.
    auditSinkFailures: new Counter({
      name: 'secretlink_audit_sink_failures_total',
      help: 'Audit records a sink (file, event, log) failed to record.',
      labelNames: ['sink'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'secretlink_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      registers,
    }),
    queueRetries: new Counter({
      name: 'secretlink_workqueue_retries_total',
      help: 'Keys requeued with backoff after an error.',
      registers,
    }),
    isLeader: new Gauge({
      name: 'secretlink_leader',
      help: '1 while this replica holds the Lease.',
      registers,
    }),
    auditAvailable: new Gauge({
      name: 'secretlink_audit_file_available',
      help: '0 while the signed audit file cannot take records (no access is granted meanwhile), else 1.',
      registers,
    }),
  };
}
