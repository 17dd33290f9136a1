// secretlink side by side with External Secrets Operator (ESO), on one environment (control plane, kwok, moto):
// ESO's controller built from Go modules (hack/components/external-secrets), at its defaults and at settings a
// tuned user would pick, then secretlink as config/manager runs it and tuned alike. Each gets a namespace of
// its own, an AWS SecretStore on moto with static keys, and reaches the API server and moto through counting
// proxies of its own, so requests and store calls are counted per operator on the wire. Measured: the time from creating
// --objects ExternalSecrets (ESO) or consuming Jobs (secretlink, references synced beforehand) to all their
// Secrets present; RSS idle and at --scale objects; API requests and store calls over --rest seconds at rest.
// Usage: node bench/eso.ts [--objects=100] [--scale=10000] [--rest=180] [--refresh=1m]
//                          [--variants=eso-defaults,eso-tuned,secretlink] (or secretlink-tuned)
//                          [--eso-tuned-flags='--concurrent=10 --client-qps=200 --client-burst=400']
//                          [--write=docs/benchmarks.md]

import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import { group, plurals, defaults as specDefaults, version } from '../src/api/constants.ts';
import { loadConfig } from '../src/config.ts';
import { type ApiProxy, startApiProxy } from '../test/env/api-proxy.ts';
import { ensureComponent } from '../test/env/build.ts';
import { runCommand } from '../test/env/command.ts';
import { componentsDir, externalSecrets } from '../test/env/components.ts';
import { type EnvironmentInfo, startEnvironment } from '../test/env/environment.ts';
import { installCrds, operatorNamespace } from '../test/env/install.ts';
import { freePort } from '../test/env/ports.ts';
import { consoleProgress, formatDuration } from '../test/env/progress.ts';
import { motoClient } from '../test/env/stores/clients.ts';
import { createAwsStore } from './aws-store.ts';
import { type ContenderProcess, metricSum, startContender } from './contender-process.ts';
import { countRequests } from './proxy-requests.ts';
import {
  argument,
  describeMachine,
  formatMiB,
  formatMs,
  machineNow,
  markdown,
  numberArgument,
  percentile,
  waitForQuietMachine,
  writeSection,
} from './report.ts';
import { inParallel, retried } from './requests.ts';
import { compileOperator, imageNodeFlags } from './shipped-operator.ts';
import { startStoreCallCounter } from './store-call-counter.ts';
import { sleep, waitFor } from './wait.ts';
import { watchFrom } from './watch-from.ts';

const objectCount = numberArgument('objects', 100);
const scaleCount = numberArgument('scale', 10_000);
const restSeconds = numberArgument('rest', 180);
const tunedFlags = argument('eso-tuned-flags', '--concurrent=10 --client-qps=200 --client-burst=400')
  .split(' ')
  .filter(Boolean);
/** secretlink's counterpart of ESO's tuned flags: as many reconciles at once, the same client rates. */
const secretlinkTunedFlags = argument(
  'secretlink-tuned-flags',
  '--concurrency=10 --kube-qps=200 --kube-burst=400',
)
  .split(' ')
  .filter(Boolean);
const reportFile = argument('write', '');
const progress = consoleProgress('[bench]');
const root = path.resolve(import.meta.dirname, '..');
const operatorDefaults = loadConfig([], {});
/**
 * How often both operators re-read a synced value, set on every ExternalSecret and SecretReference alike:
 * shorter than both defaults (ESO 1h, secretlink 5m) so that the time at rest spans several refreshes.
 */
const refreshInterval = argument('refresh', '1m');
/** kwok runs each Job's pod this long: the Jobs stay active (and their Secrets present) for the whole run. */
const jobRunTime = '3600s';

const esoGroup = 'external-secrets.io';
const esoVersion = 'v1';

interface Variant {
  label: string;
  kind: 'eso' | 'secretlink';
  flags: string[];
}

const allVariants: Record<string, Variant> = {
  'eso-defaults': { label: 'ESO, defaults', kind: 'eso', flags: [] },
  'eso-tuned': { label: 'ESO, tuned', kind: 'eso', flags: tunedFlags },
  secretlink: { label: 'secretlink, as shipped', kind: 'secretlink', flags: [] },
  'secretlink-tuned': { label: 'secretlink, tuned', kind: 'secretlink', flags: secretlinkTunedFlags },
};
// secretlink tuned is left out by default: secretlink's defaults (16 reconciles at once, no client-side pacing)
// already go past the tuned numbers ESO gets.
const variants = argument('variants', 'eso-defaults,eso-tuned,secretlink')
  .split(',')
  .map((name) => {
    const variant = allVariants[name];
    if (!variant) throw new Error(`--variants: unknown ${name} (${Object.keys(allVariants).join(', ')})`);
    return variant;
  });

interface Result {
  variant: Variant;
  load: number;
  /** Per object, ascending: create acknowledged → its Secret present. */
  latency: number[];
  creatingMs: number;
  /** First create sent → last Secret present. */
  burstMs: number;
  burstRequests: number;
  burstStoreCalls: number;
  rssBefore: number;
  rssIdle: number;
  heapIdle?: number;
  restRequests: [string, number][];
  restStoreCalls: number;
  /** First create of the objects past --objects sent → all --scale objects synced. */
  scaleMs: number;
  scaleRequests: number;
  scaleStoreCalls: number;
  rssScaled: number;
  heapScaled?: number;
}

const eso = variants.some((variant) => variant.kind === 'eso')
  ? await ensureComponent(externalSecrets, progress)
  : {};
const goVersion = (await runCommand('go', ['version'])).output.trim().split(' ')[2] ?? 'go';
const commit = (await runCommand('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })).output.trim();
const esoCrds = await esoCrdBundle();
await waitForQuietMachine(progress.note);
const started = machineNow();
const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-bench-eso-'));
// secretlink as the image runs it: the bundle `npm run build` makes, with the image's Node.js flags.
const secretlinkMain = variants.some((variant) => variant.kind === 'secretlink')
  ? await compileOperator(path.join(scratch, 'build'))
  : '';
const results: Result[] = [];
const environment = await startEnvironment(progress);
try {
  const { info } = environment;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfig);
  const token = await setUpShared(info, kubeConfig);
  for (const [index, variant] of variants.entries()) {
    progress.step(`run ${index + 1}/${variants.length}: ${variant.label}`);
    results.push(await measure(info, kubeConfig, token, variant, `bench-${index + 1}`));
  }
} finally {
  await environment.stop();
  await rm(scratch, { recursive: true, force: true });
}

const text = sectionText();
console.log(text);
if (reportFile) {
  await writeSection(reportFile, 'eso', text);
  progress.step(`wrote the eso section of ${reportFile}`);
}

/** ESO's CRDs as its release ships them, from the pinned module in the module cache. */
async function esoCrdBundle(): Promise<string> {
  const { code, output } = await runCommand(
    'go',
    ['list', '-m', '-f', '{{.Dir}}', 'github.com/external-secrets/external-secrets'],
    { cwd: path.join(componentsDir, externalSecrets.module), env: { ...process.env, GOFLAGS: '-mod=mod' } },
  );
  if (code !== 0) throw new Error(`cannot locate ESO's module: ${output}`);
  return path.join(output.trim().split('\n').at(-1)!, 'deploy', 'crds', 'bundle.yaml');
}

/**
 * Both operators' CRDs, the remote secrets, and a token both use (a ServiceAccount bound to cluster-admin, as
 * the admin kubeconfig's client certificate cannot pass through the proxies).
 */
async function setUpShared(info: EnvironmentInfo, kubeConfig: k8s.KubeConfig): Promise<string> {
  await installCrds(info);
  const { code, output } = await runCommand(info.kubectl, [
    `--kubeconfig=${info.kubeconfig}`,
    'apply',
    '--server-side',
    '-f',
    esoCrds,
  ]);
  if (code !== 0) throw new Error(`installing ESO's CRDs failed: ${output}`);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: operatorNamespace } } });
  await core.createNamespacedServiceAccount({
    namespace: operatorNamespace,
    body: { metadata: { name: 'bench-operator' } },
  });
  await kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api).createClusterRoleBinding({
    body: {
      metadata: { name: 'bench-operator' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'bench-operator', namespace: operatorNamespace }],
    },
  });
  const request = await core.createNamespacedServiceAccountToken({
    namespace: operatorNamespace,
    name: 'bench-operator',
    body: { spec: { audiences: [], expirationSeconds: 6 * 3600 } },
  });
  const sm = motoClient(info.stores.aws);
  progress.step(`creating ${objectCount} remote secrets`);
  for (let index = 0; index < objectCount; index++)
    await sm.send(
      new CreateSecretCommand({
        Name: `bench/remote-${index}`,
        SecretString: JSON.stringify({ password: `p${index}` }),
      }),
    );
  sm.destroy();
  const token = request.status?.token;
  if (!token) throw new Error('the API server returned no token for the benchmark ServiceAccount');
  return token;
}

async function measure(
  info: EnvironmentInfo,
  kubeConfig: k8s.KubeConfig,
  token: string,
  variant: Variant,
  namespace: string,
): Promise<Result> {
  const load = os.loadavg()[0] ?? 0;
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitFor(
    'the default ServiceAccount of the namespace',
    () =>
      core.readNamespacedServiceAccount({ namespace, name: 'default' }).then(
        () => true,
        () => false,
      ),
    120_000,
  );
  const dir = path.join(scratch, namespace);
  await mkdir(dir, { recursive: true });
  const cluster = kubeConfig.getCurrentCluster()!;
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64') : readFileSync(cluster.caFile!);
  const api = await startApiProxy({ server: cluster.server, ca, token });
  const store = await startStoreCallCounter(info.stores.aws.endpoint);
  const storeCalls = () => [...store.counts().values()].reduce((sum, value) => sum + value, 0);
  const kubeconfigFile = path.join(dir, 'kubeconfig');
  await writeProxyKubeconfig(api, kubeconfigFile);
  const metricsPort = await freePort();
  let operator: ContenderProcess | undefined;
  const present = new Map<string, number>();
  let watchError: unknown;
  const secretWatch = await watchFrom(
    kubeConfig,
    `/api/v1/namespaces/${namespace}/secrets`,
    {},
    (await core.listNamespacedSecret({ namespace })).metadata!.resourceVersion!,
    (type, secret) => {
      const name = secret.metadata?.name ?? '';
      if (type !== 'DELETED' && name.startsWith('target-') && !present.has(name))
        present.set(name, performance.now());
    },
    (error) => {
      watchError ??= error;
    },
  );
  const watching = () => {
    operator?.check();
    if (watchError) throw new Error(`the Secret watch failed: ${String(watchError)}`);
  };
  try {
    if (variant.kind === 'eso') {
      await createEsoStore(info, core, custom, namespace);
      operator = startContender({
        command: (eso as Record<string, string>)['external-secrets']!,
        args: [`--metrics-addr=127.0.0.1:${metricsPort}`, `--namespace=${namespace}`, ...variant.flags],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KUBECONFIG: kubeconfigFile,
          AWS_SECRETSMANAGER_ENDPOINT: store.url,
          AWS_STS_ENDPOINT: store.url,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        cwd: dir,
        log: path.join(dir, 'operator.log'),
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      });
      await waitFor(
        'the SecretStore to be Ready (ESO has synced its caches)',
        async () => {
          watching();
          const store = (await custom.getNamespacedCustomObject({
            group: esoGroup,
            version: esoVersion,
            plural: 'secretstores',
            namespace,
            name: 'aws',
          })) as { status?: { conditions?: { type: string; status: string }[] } };
          return store.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
        },
        180_000,
        200,
      );
    } else {
      await createAwsStore(
        { ...info, stores: { ...info.stores, aws: { ...info.stores.aws, endpoint: store.url } } },
        core,
        custom,
        namespace,
      );
      await createReferences(custom, namespace, 0, objectCount);
      operator = await startSecretlink(dir, kubeconfigFile, metricsPort, namespace, variant.flags);
      await waitForReferences(custom, namespace, objectCount, 'NoConsumers', watching);
    }
    await sleep(5000);
    const rssBefore = operator.rss();

    progress.note(
      `${variant.label}: creating ${objectCount} ${variant.kind === 'eso' ? 'ExternalSecrets' : 'Jobs'}`,
    );
    const requestsAtStart = api.seen.length;
    const storeCallsAtStart = storeCalls();
    const acknowledged = new Map<string, number>();
    const burstStarted = performance.now();
    await Promise.all(
      Array.from({ length: objectCount }, async (_, index) => {
        await retried(() =>
          variant.kind === 'eso'
            ? createExternalSecret(custom, namespace, index)
            : batch.createNamespacedJob({ namespace, body: jobBody(index) }),
        );
        acknowledged.set(`target-${index}`, performance.now());
      }),
    );
    const creatingMs = performance.now() - burstStarted;
    await waitFor(
      `all ${objectCount} Secrets to be present`,
      async () => {
        watching();
        return present.size >= objectCount;
      },
      900_000,
      20,
    );
    const burstRequests = api.seen.length - requestsAtStart;
    const burstStoreCalls = storeCalls() - storeCallsAtStart;
    const burstMs = Math.max(...present.values()) - burstStarted;
    const latency = [...acknowledged].map(([name, at]) => present.get(name)! - at).sort((a, b) => a - b);
    await checkValues(core, namespace);
    progress.note(
      `${variant.label}: all present after ${formatMs(burstMs)} (median ${formatMs(percentile(latency, 0.5))}); ` +
        `${burstRequests} API requests, ${burstStoreCalls} store calls`,
    );

    await sleep(5000);
    const rssIdle = operator.rss();
    const heapIdle = heapInUse(variant, await operator.metrics());
    progress.note(`${variant.label}: RSS idle ${formatMiB(rssIdle)}; ${restSeconds} s at rest`);
    const requestsAtRest = api.seen.length;
    const storeCallsAtRest = storeCalls();
    await sleep(restSeconds * 1000);
    watching();
    const restRequests = countRequests(api.seen.slice(requestsAtRest));
    const restStoreCalls = storeCalls() - storeCallsAtRest;
    progress.note(
      `${variant.label}: at rest ${restRequests.map(([what, n]) => `${what} ${n}`).join(', ') || 'no requests'}; ` +
        `${restStoreCalls} store calls`,
    );

    progress.note(`${variant.label}: creating objects ${objectCount}..${scaleCount - 1}`);
    const requestsAtScale = api.seen.length;
    const storeCallsAtScale = storeCalls();
    const scaleStarted = performance.now();
    await inParallel(scaleCount - objectCount, 16, (offset) =>
      retried(() =>
        variant.kind === 'eso'
          ? createExternalSecret(custom, namespace, objectCount + offset)
          : createReference(custom, namespace, objectCount + offset),
      ),
    );
    if (variant.kind === 'eso')
      await waitFor(
        `all ${scaleCount} Secrets to be present`,
        async () => {
          watching();
          return present.size >= scaleCount;
        },
        3_600_000,
        200,
      );
    else await waitForReferences(custom, namespace, scaleCount, undefined, watching);
    const scaleMs = performance.now() - scaleStarted;
    const scaleRequests = api.seen.length - requestsAtScale;
    const scaleStoreCalls = storeCalls() - storeCallsAtScale;
    await sleep(5000);
    const rssScaled = operator.rss();
    const heapScaled = heapInUse(variant, await operator.metrics());
    progress.note(
      `${variant.label}: ${scaleCount} objects synced after ${formatDuration(scaleMs)}; RSS ${formatMiB(rssScaled)}`,
    );
    return {
      variant,
      load,
      latency,
      creatingMs,
      burstMs,
      burstRequests,
      burstStoreCalls,
      rssBefore,
      rssIdle,
      heapIdle,
      restRequests,
      restStoreCalls,
      scaleMs,
      scaleRequests,
      scaleStoreCalls,
      rssScaled,
      heapScaled,
    };
  } catch (error) {
    // The run folder goes with the environment: the end of the operator's log is kept here.
    const log = path.join(dir, 'operator.log');
    if (existsSync(log))
      progress.note(
        `${variant.label}, end of its log:\n${readFileSync(log, 'utf8').split('\n').slice(-30).join('\n')}`,
      );
    throw error;
  } finally {
    secretWatch.stop();
    await operator?.stop();
    await api.close();
    await store.close();
  }
}

/** ESO's own credentials Secret (ESO needs no opt-in annotation) and a SecretStore on moto. */
async function createEsoStore(
  info: EnvironmentInfo,
  core: k8s.CoreV1Api,
  custom: k8s.CustomObjectsApi,
  namespace: string,
): Promise<void> {
  const aws = info.stores.aws;
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'aws-credentials' },
      stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey },
    },
  });
  await custom.createNamespacedCustomObject({
    group: esoGroup,
    version: esoVersion,
    plural: 'secretstores',
    namespace,
    body: {
      apiVersion: `${esoGroup}/${esoVersion}`,
      kind: 'SecretStore',
      metadata: { name: 'aws' },
      spec: {
        provider: {
          aws: {
            service: 'SecretsManager',
            region: aws.region,
            auth: {
              secretRef: {
                accessKeyIDSecretRef: { name: 'aws-credentials', key: 'id' },
                secretAccessKeySecretRef: { name: 'aws-credentials', key: 'secret' },
              },
            },
          },
        },
      },
    },
  });
}

/**
 * The first --objects objects refresh every --refresh, so that the time at rest spans several refreshes; the
 * objects added for scale keep each operator's default (ESO 1h, secretlink 5m): at 10,000 objects a 1-minute
 * refresh would ask ESO at its defaults for more syncs a second than it makes, and never let it settle.
 */
function refreshOf(index: number): { refreshInterval?: string } {
  return index < objectCount ? { refreshInterval } : {};
}

function createExternalSecret(custom: k8s.CustomObjectsApi, namespace: string, index: number) {
  return custom.createNamespacedCustomObject({
    group: esoGroup,
    version: esoVersion,
    plural: 'externalsecrets',
    namespace,
    body: {
      apiVersion: `${esoGroup}/${esoVersion}`,
      kind: 'ExternalSecret',
      metadata: { name: `es-${index}` },
      spec: {
        ...refreshOf(index),
        secretStoreRef: { kind: 'SecretStore', name: 'aws' },
        target: { name: `target-${index}` },
        data: [
          {
            secretKey: 'password',
            remoteRef: { key: `bench/remote-${index % objectCount}`, property: 'password' },
          },
        ],
      },
    },
  });
}

function createReference(custom: k8s.CustomObjectsApi, namespace: string, index: number) {
  return custom.createNamespacedCustomObject({
    group,
    version,
    plural: plurals.secretReference,
    namespace,
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'SecretReference',
      metadata: { name: `ref-${index}` },
      spec: {
        storeRef: { name: 'aws' },
        data: [
          { key: 'password', remote: { name: `bench/remote-${index % objectCount}`, property: 'password' } },
        ],
        target: { name: `target-${index}` },
        consumers: { matchLabels: { reference: `ref-${index}` } },
        ...refreshOf(index),
      },
    },
  });
}

async function createReferences(custom: k8s.CustomObjectsApi, namespace: string, from: number, to: number) {
  await inParallel(to - from, 16, (offset) =>
    retried(() => createReference(custom, namespace, from + offset)),
  );
}

/** Job i consumes reference i through `envFrom`; kwok keeps its pod running for the whole benchmark. */
function jobBody(index: number): k8s.V1Job {
  return {
    metadata: { name: `job-${index}` },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {
          labels: { reference: `ref-${index}` },
          annotations: { 'secretlink.dev/simulated-run-time': jobRunTime },
        },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: `target-${index}` } }] },
          ],
        },
      },
    },
  };
}

/** secretlink as config/manager/statefulset.yaml runs it, plus its namespace, a probe port and a Lease. */
async function startSecretlink(
  dir: string,
  kubeconfigFile: string,
  probePort: number,
  namespace: string,
  flags: string[],
): Promise<ContenderProcess> {
  // The operator refuses a signing key beside the audit file it signs.
  await mkdir(path.join(dir, 'audit'), { recursive: true });
  await mkdir(path.join(dir, 'key'), { recursive: true });
  const keyFile = path.join(dir, 'key', 'private.pem');
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o400 });
  const operator = startContender({
    command: process.execPath,
    args: [
      ...imageNodeFlags(),
      secretlinkMain,
      `--operator-namespace=${operatorNamespace}`,
      `--identity=bench-${namespace}`,
      `--audit-file=${path.join(dir, 'audit', 'audit.jsonl')}`,
      `--audit-signing-key-file=${keyFile}`,
      `--namespaces=${namespace}`,
      `--probe-address=127.0.0.1:${probePort}`,
      `--lease-name=secretlink-${namespace}`,
      ...flags,
    ],
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SECRETLINK_'))),
      KUBECONFIG: kubeconfigFile,
    },
    cwd: root,
    log: path.join(dir, 'operator.log'),
    metricsUrl: `http://127.0.0.1:${probePort}/metrics`,
  });
  return operator;
}

/** Every reference reports a Ready condition (with `reason`, when given). */
async function waitForReferences(
  custom: k8s.CustomObjectsApi,
  namespace: string,
  count: number,
  reason: string | undefined,
  check: () => void,
): Promise<void> {
  await waitFor(
    `all ${count} references to report ${reason ?? 'a Ready condition'}`,
    async () => {
      check();
      const list = (await custom.listNamespacedCustomObject({
        group,
        version,
        plural: plurals.secretReference,
        namespace,
      })) as { items: { status?: { conditions?: { type: string; reason: string }[] } }[] };
      return (
        list.items.filter((item) =>
          item.status?.conditions?.some((c) => c.type === 'Ready' && (!reason || c.reason === reason)),
        ).length >= count
      );
    },
    3_600_000,
    // Each poll lists every reference: at 10,000 that is load on the API server both operators share.
    count > 1000 ? 2000 : 1000,
  );
}

/** Each of the first --objects Secrets holds the remote value it names (compared here, never printed). */
async function checkValues(core: k8s.CoreV1Api, namespace: string): Promise<void> {
  const secrets = await core.listNamespacedSecret({ namespace });
  let wrong = 0;
  for (let index = 0; index < objectCount; index++) {
    const secret = secrets.items.find((item) => item.metadata?.name === `target-${index}`);
    const value = Buffer.from(secret?.data?.password ?? '', 'base64').toString();
    if (value !== `p${index % objectCount}`) wrong++;
  }
  if (wrong > 0) throw new Error(`${wrong} of ${objectCount} Secrets do not hold their remote value`);
}

/** Go's heap in use (ESO) or V8's heap used (secretlink), from the process's own metrics. */
function heapInUse(variant: Variant, metrics: string): number | undefined {
  return metricSum(
    metrics,
    variant.kind === 'eso'
      ? 'go_memstats_heap_inuse_bytes'
      : 'secretlink_process_nodejs_heap_size_used_bytes',
  );
}

/** The proxy authenticates every request with the benchmark's token: client-go sent none to http://. */
async function writeProxyKubeconfig(api: ApiProxy, file: string): Promise<void> {
  const config = new k8s.KubeConfig();
  // Plain HTTP on loopback: clients accept an http:// server only with TLS verification off (there is none).
  config.loadFromOptions({
    clusters: [{ name: 'proxy', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'bench-operator' }],
    contexts: [{ name: 'proxy', cluster: 'proxy', user: 'bench-operator' }],
    currentContext: 'proxy',
  });
  await writeFile(file, config.exportConfig(), { mode: 0o600 });
}

function sectionText(): string {
  const columns = results.map((result) => result.variant.label);
  const row = (name: string, cell: (result: Result) => string) =>
    `| ${name} | ${results.map(cell).join(' | ')} |`;
  const ms = (values: number[], fraction: number) => formatMs(percentile(values, fraction));
  const restTotal = (result: Result) => result.restRequests.reduce((sum, [, count]) => sum + count, 0);
  const perMinute = (count: number) => (count / (restSeconds / 60)).toFixed(1);
  const table = [
    `| ${objectCount} objects, then ${scaleCount} | ${columns.join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    row('**create → Secret present, median**', (r) => `**${ms(r.latency, 0.5)}**`),
    row('**create → Secret present, p99**', (r) => `**${ms(r.latency, 0.99)}**`),
    row('create → Secret present, max', (r) => ms(r.latency, 1)),
    row(
      `**all ${objectCount} Secrets present** (first create sent → last Secret)`,
      (r) => `**${formatMs(r.burstMs)}**`,
    ),
    row(`creating the ${objectCount} objects (first sent → last acknowledged)`, (r) =>
      formatMs(r.creatingMs),
    ),
    row(
      'API requests / store calls, from the first create to the last Secret',
      (r) => `${r.burstRequests} / ${r.burstStoreCalls}`,
    ),
    row(`RSS before the creates (secretlink: its ${objectCount} references synced)`, (r) =>
      formatMiB(r.rssBefore),
    ),
    row(`**RSS idle, ${objectCount} synced**`, (r) => `**${formatMiB(r.rssIdle)}**`),
    row(`**API requests at rest, per minute** (${restSeconds} s)`, (r) => `**${perMinute(restTotal(r))}**`),
    row(`store calls at rest (${restSeconds} s)`, (r) => String(r.restStoreCalls)),
    row(`time to sync ${scaleCount} objects (${scaleCount - objectCount} more created)`, (r) =>
      formatDuration(r.scaleMs),
    ),
    row('API requests / store calls, while syncing them', (r) => `${r.scaleRequests} / ${r.scaleStoreCalls}`),
    row(`**RSS, ${scaleCount} objects**`, (r) => `**${formatMiB(r.rssScaled)}**`),
    row(
      'heap in use: idle / at scale (Go heap in use; V8 heap used)',
      (r) =>
        `${r.heapIdle === undefined ? '–' : formatMiB(r.heapIdle)} / ${r.heapScaled === undefined ? '–' : formatMiB(r.heapScaled)}`,
    ),
    row('1-minute load average when the run started', (r) => r.load.toFixed(2)),
  ].join('\n');
  // secretlink against ESO at defaults, and each tuned against the other tuned.
  const find = (label: string) => results.find((result) => result.variant.label === label);
  const pairs = [
    [find(allVariants.secretlink!.label), find(allVariants['eso-defaults']!.label), 'both as shipped'],
    [
      find(allVariants.secretlink!.label),
      find(allVariants['eso-tuned']!.label),
      'secretlink as shipped, ESO tuned',
    ],
    [find(allVariants['secretlink-tuned']!.label), find(allVariants['eso-tuned']!.label), 'both tuned'],
  ].filter((pair): pair is [Result, Result, string] => pair[0] !== undefined && pair[1] !== undefined);
  const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? '–' : '∞') : `${(a / b).toFixed(2)}×`);
  const ratioRow = (name: string, value: (result: Result) => number) =>
    `| ${name} | ${pairs.map(([ours, theirs]) => ratio(value(ours), value(theirs))).join(' | ')} |`;
  const ratios = [
    `| secretlink ÷ ESO | ${pairs.map(([, , name]) => name).join(' | ')} |`,
    `| --- | ${pairs.map(() => '---:').join(' | ')} |`,
    ratioRow('create → Secret present, median', (r) => percentile(r.latency, 0.5)),
    ratioRow('create → Secret present, p99', (r) => percentile(r.latency, 0.99)),
    ratioRow(`all ${objectCount} Secrets present`, (r) => r.burstMs),
    ratioRow(`RSS idle, ${objectCount} synced`, (r) => r.rssIdle),
    ratioRow(`RSS, ${scaleCount} objects`, (r) => r.rssScaled),
    ratioRow('API requests at rest', restTotal),
    ratioRow('store calls at rest', (r) => r.restStoreCalls),
    ratioRow(`API requests, ${objectCount} Secrets`, (r) => r.burstRequests),
    ratioRow(`store calls, ${objectCount} Secrets`, (r) => r.burstStoreCalls),
  ].join('\n');
  const restDetail = results.map(
    (r) =>
      `${r.variant.label}: ${r.restRequests.map(([what, count]) => `${what} ${count}`).join(', ') || 'none'}.`,
  );
  return markdown([
    '## External Secrets Operator side by side',
    `What: one environment (control plane, kwok, moto); each operator gets a namespace of its own with an AWS ` +
      'SecretStore on moto (static keys in a Secret) and the same remote secrets. ESO: ' +
      `${objectCount} ExternalSecrets are created at once and timed until every target Secret exists. secretlink: ` +
      `${objectCount} SecretReferences are created and synced first (as a team would have them in place), then ` +
      `${objectCount} consuming Jobs are created at once (Job _i_ consumes reference _i_ through \`envFrom\`; ` +
      'kwok keeps their pods running) and timed until every target Secret exists. Then each operator is left at ' +
      `rest for ${restSeconds} s, and the objects are raised to ${scaleCount} (ExternalSecrets, or ` +
      'SecretReferences with no consuming Job). The operators run one after the other, each as a fresh process; ' +
      'ESO and secretlink never run at once.',
    [
      `ESO ${externalSecrets.version}, its controller built from Go modules by \`${goVersion}\` ` +
        '(hack/components/external-secrets, which pins the release and restates its one replace), its CRDs ' +
        'from the same module (deploy/crds/bundle.yaml). Flags: `--namespace=<its namespace> ' +
        '--metrics-addr=127.0.0.1:<port>`, and for the tuned run ' +
        `\`${tunedFlags.join(' ')}\`; everything else at its defaults (\`--concurrent=1 --client-qps=50 ` +
        '--client-burst=100`, leader election off, Secrets not cached). moto is reached through ' +
        '`AWS_SECRETSMANAGER_ENDPOINT` (and `AWS_STS_ENDPOINT`). Each ExternalSecret and each SecretReference ' +
        `reads one property of one remote secret and sets \`refreshInterval: ${refreshInterval}\` (defaults: ESO ` +
        `1h, secretlink ${specDefaults.refreshInterval}), so that the ${restSeconds} s at rest span several refreshes; ` +
        'the objects added for scale keep those defaults.',
      `secretlink at commit ${commit}: as the image runs it (\`node ${imageNodeFlags().join(' ')} dist/main.js\`, ` +
        "the bundle of `npm run build`) with config/manager/statefulset.yaml's flags " +
        '(leader election on, the signed audit file on; every other flag at its default: ' +
        `\`--concurrency=${operatorDefaults.concurrency} --kube-qps=${operatorDefaults.kubeQps} ` +
        `--kube-burst=${operatorDefaults.kubeBurst}\`), plus its namespace, a probe port and a Lease of its own; ` +
        `tuned, it adds \`${secretlinkTunedFlags.join(' ')}\` (ESO's tuned numbers).`,
      '**Create → Secret present** per object: from the API server acknowledging the create of the ' +
        'ExternalSecret (ESO) or of the Job (secretlink) to the first watch event of its target Secret. At the ' +
        'end of the burst each Secret is checked to hold its remote value.',
      '**API requests** are counted per operator on the wire: each reaches the API server only through a ' +
        'proxy of its own (test/env/api-proxy.ts, the one the fault tests use), which records every request ' +
        'it forwards, and which authenticates each with the same ServiceAccount token (bound to ' +
        'cluster-admin; a client certificate cannot pass through a proxy, and ESO, through client-go, sent no ' +
        'token to the plain http:// proxy). A watch counts once, when it is opened. **Store calls** are ' +
        'counted the same way in front of moto (bench/store-call-counter.ts, by `X-Amz-Target`). The ' +
        'proxies are in the benchmark process and add the same hop for both.',
      '**RSS** is `VmRSS` of the operator process, read 5 s after each state is reached. ESO is a 220 MB ' +
        "static Go binary, secretlink Node.js running its bundle; the heap figures are each one's own " +
        '(`go_memstats_heap_inuse_bytes`, `secretlink_process_nodejs_heap_size_used_bytes`). At scale ESO holds ' +
        `${scaleCount} ExternalSecrets and writes ${scaleCount} Secrets; secretlink holds ${scaleCount} ` +
        `SecretReferences and the ${objectCount} Jobs, pods and Secrets of the burst (it writes a Secret only ` +
        'for a running consumer).',
    ],
    `How: \`node bench/eso.ts --write=docs/benchmarks.md\` or \`make bench-eso\` (options \`--objects\`, \`--variants\`, ` +
      `\`--scale\`, \`--rest\` seconds, \`--refresh\`, \`--eso-tuned-flags='...'\`, \`--secretlink-tuned-flags='...'\`, \`--quiet-load\`). It builds ESO first if ` +
      'it is not in ~/.cache/secretlink (cold builds measured here: 7m07s with the Go module and build caches ' +
      'of the control plane in place and the machine otherwise quiet, 16m42s at a load average of 10 to 17), ' +
      'then starts and stops ' +
      `its own environment.${scaleCount < 10_000 ? ` Objects at scale: ${scaleCount}, fewer than the default 10,000 (\`--scale\`).` : ''}`,
    `${describeMachine(started)} ${started.load[0] >= 1.5 ? 'The machine was not quiet: other work ran on it during the whole run, so absolute times are inflated and noisy, and runs made one after the other met different loads (last row of the table).' : ''}`,
    table,
    ...(pairs.length > 0 ? [ratios] : []),
    `API requests at rest (${restSeconds} s), by verb and resource:`,
    restDetail,
  ]);
}
