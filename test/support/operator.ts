// Runs the real operator in-process against the environment's cluster, watching only the test's namespace,
// and keeps every audit record it emits so tests can count them. Like a deployed operator, it also logs (at
// debug level) and, once it leads, writes a signed audit file, both into the run folder, with its anchors on a
// Lease and Events in the operator namespace. Next to each audit file go its public key (<file>.pub.pem) and
// the last anchor recorded (<file>.anchor.json): the end-of-run check verifies the chains with them and looks
// for the canary value.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { group, plurals, version } from '../../src/api/constants.ts';
import { type Anchor, KubernetesAnchors } from '../../src/audit/anchors.ts';
import { publicKeyText } from '../../src/audit/chain.ts';
import { KubernetesEventSink } from '../../src/audit/event-sink.ts';
import { HashChainedFileSink } from '../../src/audit/file-sink.ts';
import { claimMarker, secretFingerprinter } from '../../src/audit/fingerprint.ts';
import { LogAuditSink } from '../../src/audit/log-sink.ts';
import { type AuditRecord, AuditTrail } from '../../src/audit/types.ts';
import { loadConfig } from '../../src/config.ts';
import { createMetrics, type OperatorMetrics } from '../../src/observability/metrics.ts';
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
  /** Where this operator's signed audit file goes; it exists only once the operator led. */
  auditFile: string;
  auditPublicKey: KeyObject;
  /** The chain's signing key and name, for a later operator that continues the same file. */
  auditChain: { signingKey: KeyObject; name: string };
  /** The last anchor of its chain it recorded in the cluster. */
  lastAnchor(): Anchor | undefined;
  /** Its Prometheus metrics, as /metrics would serve them. */
  metrics: OperatorMetrics;
  /** Its JSON log (pino, written synchronously), to read what it said it would do. */
  logFile: string;
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
  /** Continue this earlier operator's signed audit file (same file, key and chain), as a restart would. */
  continueAuditOf?: TestOperator;
  /** While it answers true, appends to the audit file fail (nothing is written), as on a full disk. */
  failAuditFile?: () => boolean;
  /** Where the audit file goes (a volume the test controls); the run folder's audit folder by default. */
  auditDir?: string;
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
  const earlier = options.continueAuditOf;
  const instance = earlier?.auditChain.name ?? `${identity}-${randomBytes(3).toString('hex')}`;
  const logFile = runFile(runLayout.logs, `operator-${instance}${earlier ? '-continued' : ''}.log`);
  const logger = pino(
    { level: process.env.SECRETLINK_TEST_LOG ?? 'debug' },
    pino.destination({ dest: logFile, sync: true }),
  );
  const auditFile =
    earlier?.auditFile ??
    (options.auditDir
      ? path.join(options.auditDir, `${instance}.jsonl`)
      : runFile(runLayout.audit, `${instance}.jsonl`));
  const { privateKey, publicKey } = earlier
    ? { privateKey: earlier.auditChain.signingKey, publicKey: earlier.auditPublicKey }
    : generateKeyPairSync('ed25519');
  writeFileSync(`${auditFile}.pub.pem`, publicKey.export({ type: 'spki', format: 'pem' }));
  const clusterAnchors = new KubernetesAnchors(kubeConfig(), {
    namespace: operatorNamespace,
    chain: instance,
    publicKey: publicKeyText(publicKey),
  });
  let lastAnchor: Anchor | undefined;
  const anchors = {
    latest: () => clusterAnchors.latest(),
    record: async (anchor: Anchor) => {
      await clusterAnchors.record(anchor);
      lastAnchor = anchor;
      writeFileSync(`${auditFile}.anchor.json`, JSON.stringify(anchor));
    },
  };
  const trail = new AuditTrail(
    [
      { name: 'collected', write: async (record) => void audit.push(record) },
      new KubernetesEventSink(actingAs.makeApiClient(k8s.EventsV1Api), identity),
      new LogAuditSink(logger),
    ],
    (sink, error) => sinkErrors.push(`${sink}: ${String(error)}`),
  );
  const metrics = createMetrics();
  const running = startOperator({
    config,
    kubeConfig: actingAs,
    logger,
    metrics,
    audit: trail,
    openAuditChain: async () => {
      const chain = await HashChainedFileSink.open(auditFile, {
        signingKey: privateKey,
        chain: instance,
        anchors,
        onAnchorError: (error) => sinkErrors.push(`anchor: ${String(error)}`),
      });
      const failing = options.failAuditFile;
      if (failing) {
        const append = chain.append.bind(chain);
        chain.append = (entry) =>
          failing() ? Promise.reject(new Error('no space left on the audit volume')) : append(entry);
      }
      return chain;
    },
    fingerprint: secretFingerprinter(fingerprintKey),
    claimMark: claimMarker(fingerprintKey),
  });
  return {
    ...running,
    audit,
    identity,
    sinkErrors,
    auditFile,
    auditPublicKey: publicKey,
    auditChain: { signingKey: privateKey, name: instance },
    lastAnchor: () => lastAnchor,
    metrics,
    logFile,
  };
}

function runFile(folder: string, name: string): string {
  const dir = path.join(environment().runDir, folder);
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

export const referenceApi = { group, version, plural: plurals.secretReference };
export const storeApi = { group, version, plural: plurals.secretStore };
export const clusterStoreApi = { group, version, plural: plurals.clusterSecretStore };

export function customApi() {
  return api(k8s.CustomObjectsApi);
}
