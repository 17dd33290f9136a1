// `make run`: the operator itself (node src/main.ts, as its container runs it) on the local environment,
// with a data team's set-up to watch: a warehouse credential in AWS Secrets Manager (moto), a SecretStore,
// a SecretReference that only dbt Jobs may consume, a CronJob that runs dbt every two minutes, and the
// admission policy that refuses every other pod. The operator runs as its own ServiceAccount with the
// shipped RBAC, as in a cluster: the admission policies hold that identity, and nobody else, to its job.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import { repoRoot } from './components.ts';
import type { EnvironmentInfo } from './environment.ts';
import { environmentKubectl, installCrds, operatorNamespace } from './install.ts';
import { installOperatorRbac, operatorKubeConfig, writeKubeConfig } from './operator-identity.ts';
import { freePort } from './ports.ts';
import { ProcessSupervisor, waitUntil } from './processes.ts';
import type { Progress } from './progress.ts';
import { motoClient } from './stores/clients.ts';
import { allowedStores, awsStoreSpec } from './stores/store-specs.ts';
export const demoNamespace = 'analytics';

export interface Demo {
  operatorLog: string;
  auditFile: string;
  /** The audit file's verifying key (PEM), for `verify-cli.ts --public-key=`. */
  auditPublicKeyFile: string;
  probeAddress: string;
  stop(): Promise<void>;
}

export async function startDemo(info: EnvironmentInfo, progress: Progress): Promise<Demo> {
  await installCrds(info);
  await environmentKubectl(info)('apply', '--server-side', '-k', 'config/admission');
  progress.step('installed the CRDs and the admission policy');

  await seedWarehouseCredential(info);
  await applyObjects(info, demoObjects(info));
  progress.step(
    `created SecretStore aws, SecretReference warehouse and CronJob nightly-dbt in ${demoNamespace}`,
  );

  const supervisor = await ProcessSupervisor.create(path.join(info.runDir, 'operator'));
  await installOperatorRbac(info);
  // A day is longer than anyone watches the demo; a deployed operator gets a projected token, renewed.
  const kubeconfig = path.join(supervisor.runDir, 'operator.kubeconfig');
  await writeKubeConfig(await operatorKubeConfig(info, { expirationSeconds: 86_400 }), kubeconfig);
  progress.step('the operator runs as ServiceAccount secretlink-system/secretlink-operator (config/rbac)');
  const probeAddress = `127.0.0.1:${await freePort()}`;
  // The audit file and its signing key in separate folders, as on separate volumes in a cluster.
  const auditFile = path.join(supervisor.runDir, 'audit', 'audit.jsonl');
  const keyDir = path.join(supervisor.runDir, 'audit-key');
  for (const dir of [path.dirname(auditFile), keyDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = generateKeyPairSync('ed25519');
  const signingKeyFile = path.join(keyDir, 'private.pem');
  const auditPublicKeyFile = path.join(keyDir, 'public.pem');
  writeFileSync(signingKeyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(auditPublicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const operator = supervisor.start({
    name: 'secretlink',
    command: process.execPath,
    args: [
      path.join(repoRoot, 'src', 'main.ts'),
      `--namespaces=${demoNamespace}`,
      `--operator-namespace=${operatorNamespace}`,
      `--probe-address=${probeAddress}`,
      `--audit-file=${auditFile}`,
      `--audit-signing-key-file=${signingKeyFile}`,
      '--log-level=debug',
    ],
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  await waitUntil('the operator to be ready', async () => (await fetch(`http://${probeAddress}/readyz`)).ok, {
    timeoutMs: 30_000,
    server: operator,
  });
  progress.step('the operator is ready');
  return {
    operatorLog: operator.logFile,
    auditFile,
    auditPublicKeyFile,
    probeAddress,
    stop: () => supervisor.stopAll(),
  };
}

async function seedWarehouseCredential(info: EnvironmentInfo): Promise<void> {
  const client = motoClient(info.stores.aws);
  await client
    .send(
      new CreateSecretCommand({
        Name: 'analytics/warehouse',
        SecretString: JSON.stringify({ user: 'dbt_loader', password: 'demo-only-not-a-real-password' }),
      }),
    )
    .catch((error: { name?: string }) => {
      if (error.name !== 'ResourceExistsException') throw error;
    });
  client.destroy();
}

function demoObjects(info: EnvironmentInfo): k8s.KubernetesObject[] {
  const metadata = (name: string) => ({ name, namespace: demoNamespace });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: demoNamespace } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: operatorNamespace } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { ...metadata('aws-credentials'), annotations: allowedStores('aws') },
      stringData: { id: info.stores.aws.accessKeyId, secret: info.stores.aws.secretAccessKey },
    } as k8s.V1Secret,
    {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: metadata('aws'),
      spec: awsStoreSpec(info.stores.aws),
    } as k8s.KubernetesObject,
    {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: metadata('warehouse'),
      spec: {
        storeRef: { name: 'aws' },
        data: [
          { key: 'DBT_USER', remote: { name: 'analytics/warehouse', property: 'user' } },
          { key: 'DBT_PASSWORD', remote: { name: 'analytics/warehouse', property: 'password' } },
        ],
        consumers: { matchLabels: { app: 'dbt' } },
        ttl: '10m',
      },
    } as k8s.KubernetesObject,
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: metadata('nightly-dbt'),
      spec: {
        schedule: '*/2 * * * *',
        concurrencyPolicy: 'Forbid',
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            template: {
              metadata: {
                labels: { app: 'dbt' },
                // kwok plays the kubelet: the pod "runs" this long, then succeeds.
                annotations: { 'secretlink.dev/simulated-run-time': '30s' },
              },
              spec: {
                restartPolicy: 'Never',
                containers: [
                  {
                    name: 'dbt',
                    image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
                    args: ['build'],
                    envFrom: [{ secretRef: { name: 'warehouse' } }],
                  },
                ],
              },
            },
          },
        },
      },
    } as k8s.V1CronJob,
  ];
}

async function applyObjects(info: EnvironmentInfo, objects: k8s.KubernetesObject[]): Promise<void> {
  const config = new k8s.KubeConfig();
  config.loadFromFile(info.kubeconfig);
  const client = k8s.KubernetesObjectApi.makeApiClient(config);
  for (const object of objects) {
    await client.patch(
      object,
      undefined,
      undefined,
      'secretlink-demo',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
  }
}

/** `kubectl create job --from=cronjob/nightly-dbt first-run`: the story starts without waiting for the schedule. */
export async function startFirstRun(
  info: EnvironmentInfo,
  name = 'first-run',
  runTime?: string,
): Promise<void> {
  const config = new k8s.KubeConfig();
  config.loadFromFile(info.kubeconfig);
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const cronJob = await batch.readNamespacedCronJob({ name: 'nightly-dbt', namespace: demoNamespace });
  const spec = cronJob.spec!.jobTemplate.spec!;
  if (runTime) spec.template.metadata!.annotations!['secretlink.dev/simulated-run-time'] = runTime;
  await batch.createNamespacedJob({
    namespace: demoNamespace,
    body: {
      metadata: {
        name,
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: 'nightly-dbt',
            uid: cronJob.metadata!.uid!,
            controller: true,
          },
        ],
      },
      spec,
    },
  });
}
