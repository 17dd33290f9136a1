// Runs the real operator in-process against the environment's cluster, watching only the test's namespace,
// and keeps every audit record it emits so tests can count them. Like a deployed operator, it also logs (at
// debug level) and writes a hash-chained audit file, both into the run folder, where the end-of-run check
// verifies the chains and looks for the canary value.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { group, plurals, version } from '../../src/api/constants.ts';
import { KubernetesEventSink } from '../../src/audit/event-sink.ts';
import { HashChainedFileSink } from '../../src/audit/file-sink.ts';
import { secretFingerprinter } from '../../src/audit/fingerprint.ts';
import { LogAuditSink } from '../../src/audit/log-sink.ts';
import { type AuditRecord, AuditTrail } from '../../src/audit/types.ts';
import { loadConfig } from '../../src/config.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { installCrds as installCrdsOn, operatorNamespace } from '../env/install.ts';
import { api, environment, kubeConfig, statusCodeOf } from './cluster.ts';

/** One key per test run, shared by restarted operators so their fingerprints stay comparable. */
const fingerprintKey = randomBytes(32);

export interface TestOperator extends RunningOperator {
  audit: AuditRecord[];
  identity: string;
  /** Failures of the Event sink; a test asserts there were none. */
  sinkErrors: string[];
}

export async function installCrds(): Promise<void> {
  await installCrdsOn(environment());
  await api(k8s.CoreV1Api)
    .createNamespace({ body: { metadata: { name: operatorNamespace } } })
    .catch((error) => (statusCodeOf(error) === 409 ? undefined : Promise.reject(error)));
}

export function startTestOperator(options: {
  namespaces: string[];
  identity?: string;
  leaseName?: string;
  flags?: string[];
  audit?: AuditRecord[];
  /** Whom the operator acts as; the admin by default. */
  kubeConfig?: k8s.KubeConfig;
}): TestOperator {
  const actingAs = options.kubeConfig ?? kubeConfig();
  const identity = options.identity ?? 'test-operator';
  const config = loadConfig(
    [
      `--namespaces=${options.namespaces.join(',')}`,
      `--identity=${identity}`,
      `--lease-name=${options.leaseName ?? `lease-${options.namespaces.join('-')}`}`,
      `--operator-namespace=${operatorNamespace}`,
      '--lease-duration=4',
      '--refresh-jitter=0',
      ...(options.flags ?? []),
    ],
    {},
  );
  const audit = options.audit ?? [];
  const sinkErrors: string[] = [];
  const instance = `${identity}-${randomBytes(3).toString('hex')}`;
  const logger = pino(
    { level: process.env.SECRETLINK_TEST_LOG ?? 'debug' },
    pino.destination({ dest: runFile(runLayout.logs, `operator-${instance}.log`), sync: true }),
  );
  const auditFile = HashChainedFileSink.open(runFile(runLayout.audit, `${instance}.jsonl`));
  const trail = new AuditTrail(
    [
      { name: 'collected', write: async (record) => void audit.push(record) },
      new KubernetesEventSink(actingAs.makeApiClient(k8s.EventsV1Api), identity),
      new LogAuditSink(logger),
      { name: 'file', write: async (record) => (await auditFile).write(record) },
    ],
    (sink, error) => sinkErrors.push(`${sink}: ${String(error)}`),
  );
  const running = startOperator({
    config,
    kubeConfig: actingAs,
    logger,
    metrics: createMetrics(),
    audit: trail,
    fingerprint: secretFingerprinter(fingerprintKey),
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= running.stop().then(async () => (await auditFile).close());
    return stopped;
  };
  return { ...running, stop, audit, identity, sinkErrors };
}

function runFile(folder: string, name: string): string {
  const dir = path.join(environment().runDir, folder);
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

export const referenceApi = { group, version, plural: plurals.secretReference };
export const storeApi = { group, version, plural: plurals.secretStore };

export function customApi() {
  return api(k8s.CustomObjectsApi);
}
