// Wiring only: configuration, clients, audit sinks, the operator, the probe server and signals. Started by
// main.ts.
import * as k8s from '@kubernetes/client-node';
import { KubernetesAnchors } from './audit/anchors.ts';
import { publicKeyText } from './audit/chain.ts';
import { KubernetesEventSink } from './audit/event-sink.ts';
import { HashChainedFileSink } from './audit/file-sink.ts';
import { claimMarker, loadOrCreateFingerprintKey, secretFingerprinter } from './audit/fingerprint.ts';
import { LogAuditSink } from './audit/log-sink.ts';
import { defaultRetryDelaysMs, RetryingSink } from './audit/retrying-sink.ts';
import { loadSigningKey } from './audit/signing-key.ts';
import { type AuditSink, AuditTrail } from './audit/types.ts';
import { ConfigError, loadConfig, usage } from './config.ts';
import { startProbeServer } from './observability/health.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { safeErrorMessage } from './observability/redact.ts';
import { safeMessage, startOperator } from './operator.ts';
import { providerMetricsRegistry } from './providers/metrics.ts';
import { reuseConnections } from './runtime/kube-connections.ts';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`secretlink operator\n\nFlags (or environment variables):\n${usage()}`);
  process.exit(0);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(args, process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // Through the redacting logger, like every other line; the message names the setting, never its value.
  createLogger('info').fatal({ reason: error.message }, 'invalid configuration');
  process.exit(2);
}

const logger = createLogger(config.logLevel);
const metrics = createMetrics();
const kubeConfig = new k8s.KubeConfig();
kubeConfig.loadFromDefault();
reuseConnections(kubeConfig);

const sinkFailed = (sink: string, error: unknown) => {
  metrics.auditSinkFailures.inc({ sink });
  logger.error({ sink, err: safeMessage(error) }, 'an audit sink failed to record');
};
// An Event that fails while the API server is away is created once it answers again (by name, so once).
const events = new RetryingSink(
  new KubernetesEventSink(kubeConfig.makeApiClient(k8s.EventsV1Api), config.identity),
  {
    delaysMs: defaultRetryDelaysMs,
    maxPending: 10_000,
    onRetry: (error, attempt) =>
      logger.warn({ sink: 'events', err: safeMessage(error), attempt }, 'an audit Event failed; retrying'),
    onGiveUp: (error) => sinkFailed('events', error),
  },
);
const sinks: AuditSink[] = [new LogAuditSink(logger), events];
const audit = new AuditTrail(sinks, sinkFailed);

/** Start-up cannot go on; the reason names a setting, file or Secret, never a value. */
function refuseToStart(message: string, error: unknown): never {
  logger.fatal({ reason: safeErrorMessage(error) }, message);
  process.exit(2);
}

// The signed audit file: the key is loaded now (a bad key stops start-up), the file is opened only once this
// replica leads (operator.ts).
let openAuditChain: (() => Promise<HashChainedFileSink>) | undefined;
if (config.auditFile) {
  const signingKey = await loadSigningKey(config.auditSigningKeyFile).catch((error: unknown) =>
    refuseToStart('invalid audit signing key', error),
  );
  const publicKey = publicKeyText(signingKey);
  // Printed so it can be kept outside the cluster: verify needs it, and nothing else.
  logger.info({ chain: config.identity, auditPublicKey: publicKey }, 'audit file signing key loaded');
  const anchors = new KubernetesAnchors(kubeConfig, {
    namespace: config.operatorNamespace,
    chain: config.identity,
    publicKey,
  });
  openAuditChain = () =>
    HashChainedFileSink.open(config.auditFile, {
      signingKey,
      chain: config.identity,
      anchors,
      anchorIntervalMs: config.auditAnchorIntervalSeconds * 1000,
      onAnchorError: (error) =>
        logger.warn({ err: safeMessage(error) }, 'could not record the audit chain head as an anchor'),
    });
}

const key = await loadOrCreateFingerprintKey(
  kubeConfig.makeApiClient(k8s.CoreV1Api),
  config.operatorNamespace,
  config.fingerprintKeySecret,
).catch((error: unknown) => refuseToStart('unusable fingerprint key Secret', error));

const operator = startOperator({
  config,
  kubeConfig,
  logger,
  metrics,
  audit,
  openAuditChain,
  fingerprint: secretFingerprinter(key),
  claimMark: claimMarker(key),
});
const probes = await startProbeServer(config.probeAddress, { live: () => true, ready: operator.ready }, [
  metrics.registry,
  providerMetricsRegistry,
]);
logger.info({ probeAddress: config.probeAddress, namespaces: config.namespaces }, 'secretlink started');

let signalled = false;
const shutdown = async (signal: string) => {
  signalled = true;
  logger.info({ signal }, 'shutting down');
  await operator.stop();
};
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

await operator.done;
await audit.close();
probes.close();
// Ended without a signal: leadership was lost or start-up failed. Exit non-zero so Kubernetes restarts it.
process.exit(signalled ? 0 : 1);
