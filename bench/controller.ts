// Job-created to Secret-present latency for a burst of Jobs over many SecretReferences, and the operator's
// memory, measured with the real operator process against the local control plane and moto.
// Usage: node bench/controller.ts [--jobs=200] [--references=50]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../src/api/constants.ts';
import { startEnvironment } from '../test/env/environment.ts';
import { freePort } from '../test/env/ports.ts';
import { consoleProgress } from '../test/env/progress.ts';

const argument = (name: string, fallback: number) =>
  Number(process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const jobCount = argument('jobs', 200);
const referenceCount = argument('references', 50);
const namespace = 'bench';
const progress = consoleProgress('[bench]');
const root = path.resolve(import.meta.dirname, '..');

const environment = await startEnvironment(progress);
const info = environment.info as typeof environment.info & { stores?: { aws?: { endpoint: string } } };
const awsEndpoint = info.stores?.aws?.endpoint;
if (!awsEndpoint) throw new Error('the environment has no moto server');

const kubeConfig = new k8s.KubeConfig();
kubeConfig.loadFromFile(info.kubeconfig);
const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
const run = (args: string[]) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(info.kubectl, ['--kubeconfig', info.kubeconfig, ...args], { stdio: 'ignore' });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')} failed`)),
    );
  });

let operator: ReturnType<typeof spawn> | undefined;
try {
  await run(['apply', '--server-side', '-f', path.join(root, 'crds')]);
  await run(['wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=secretlink']);
  for (const name of [namespace, 'secretlink-system'])
    await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'aws-credentials' }, stringData: { id: 'testing', secret: 'testing' } },
  });
  await custom.createNamespacedCustomObject({
    group,
    version,
    plural: plurals.secretStore,
    namespace,
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'SecretStore',
      metadata: { name: 'aws' },
      spec: {
        provider: {
          aws: {
            region: 'us-east-1',
            endpoint: awsEndpoint,
            auth: {
              secretRef: {
                accessKeyId: { name: 'aws-credentials', key: 'id' },
                secretAccessKey: { name: 'aws-credentials', key: 'secret' },
              },
            },
          },
        },
      },
    },
  });
  const sm = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: awsEndpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  for (let index = 0; index < referenceCount; index++) {
    await sm.send(
      new CreateSecretCommand({ Name: `bench/remote-${index}`, SecretString: `{"password":"p${index}"}` }),
    );
    await custom.createNamespacedCustomObject({
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
          data: [{ key: 'password', remote: { name: `bench/remote-${index}`, property: 'password' } }],
          consumers: { matchLabels: { app: 'bench' } },
        },
      },
    });
  }

  const probePort = await freePort();
  operator = spawn(
    process.execPath,
    [
      path.join(root, 'src', 'main.ts'),
      `--namespaces=${namespace}`,
      `--probe-address=127.0.0.1:${probePort}`,
      '--leader-elect=false',
      '--log-level=warn',
      '--concurrency=8',
      '--kube-qps=100',
      '--kube-burst=200',
      '--operator-namespace=secretlink-system',
    ],
    { env: { ...process.env, KUBECONFIG: info.kubeconfig }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${operator!.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined))?.ok === true,
  );
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idleRss = rss();

  // The burst: every Job created as fast as the API server takes them.
  const created = new Map<string, number>();
  const present = new Map<string, number>();
  const watch = new k8s.Watch(kubeConfig);
  const request = await watch.watch(
    `/api/v1/namespaces/${namespace}/secrets`,
    { labelSelector: 'secretlink.dev/managed-by=secretlink' },
    (_type, secret: k8s.V1Secret) => {
      for (const owner of secret.metadata?.ownerReferences ?? []) {
        if (!present.has(owner.name)) present.set(owner.name, Date.now());
      }
    },
    () => undefined,
  );
  let peakRss = idleRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rss());
  }, 100);
  const burstStarted = Date.now();
  await Promise.all(
    Array.from({ length: jobCount }, async (_, index) => {
      const name = `job-${index}`;
      created.set(name, Date.now());
      await batch.createNamespacedJob({
        namespace,
        body: {
          metadata: { name },
          spec: {
            template: {
              metadata: {
                labels: { app: 'bench' },
                annotations: { 'secretlink.dev/simulated-run-time': '10m' },
              },
              spec: {
                restartPolicy: 'Never',
                containers: [
                  {
                    name: 'main',
                    image: 'busybox',
                    envFrom: [{ secretRef: { name: `ref-${index % referenceCount}` } }],
                  },
                ],
              },
            },
          },
        },
      });
    }),
  );
  await waitFor(async () => present.size >= jobCount, 120_000);
  clearInterval(sampler);
  const burstMs = Date.now() - burstStarted;
  request.abort();

  const latencies = [...created].map(([name, at]) => present.get(name)! - at).sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
  const metrics = await (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text();
  const providerCalls = [...metrics.matchAll(/^secretlink_provider_calls_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  console.log(
    [
      `| measurement (${jobCount} Jobs over ${referenceCount} references) | value |`,
      '| --- | --- |',
      `| Job created -> Secret present, median | ${percentile(50)} ms |`,
      `| Job created -> Secret present, p99 | ${percentile(99)} ms |`,
      `| Job created -> Secret present, max | ${latencies.at(-1)} ms |`,
      `| whole burst served in | ${burstMs} ms |`,
      `| provider calls during the burst | ${providerCalls} |`,
      `| operator RSS, idle after sync | ${mib(idleRss)} |`,
      `| operator RSS, peak during the burst | ${mib(peakRss)} |`,
    ].join('\n'),
  );
} finally {
  operator?.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await environment.stop();
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out');
}
