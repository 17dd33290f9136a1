// End to end on a real node (this machine's, or kind's with `make kind-e2e`; see target.ts): the operator
// installed from config/default (through test/e2e/overlay) runs from its own image as the StatefulSet's pod,
// with its ServiceAccount token and the shipped RBAC and admission policies; ELT Jobs run real containers
// that read the Secret it writes. The tests run in order and share the operator; every wait is a poll with
// a generous limit, because real containers on a shared machine take the time they take.
import { readFile, writeFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubernetesAnchors } from '../../src/audit/anchors.ts';
import { verifyAuditFile } from '../../src/audit/verify.ts';
import { operatorNamespace } from '../env/install.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  environment,
  eventually,
  kubeConfig,
  readSecretIfPresent,
  statusCodeOf,
} from '../support/cluster.ts';
import { customApi } from '../support/operator.ts';
import { seedAwsSecret, stores } from '../support/stores.ts';
import { eltPodTemplate, fingerprintOf } from './elt-job.ts';
import { eventsOf, jobsOfCronJobs, podOf, printedBySucceededPod, readyOperatorPod } from './observe.ts';
import { collectAuditFile, target, targetNodeName } from './on-target.ts';
import { type InstalledOperator, installOperator, operatorStatefulSet } from './operator-install.ts';
import { insecureHttpSetting } from './target.ts';

const canary = inject('canary');
const slow = { timeoutMs: 240_000, intervalMs: 1000 };
const group = 'secretlink.dev';
const version = 'v1alpha1';

let namespace: string;
let operator: InstalledOperator;
let storeName: string;
const remoteName = () => `${namespace}/warehouse-secretlink-canary`;

describe('on a real node', () => {
  beforeAll(async () => {
    operator = await installOperator(environment(), target());
    await eventually('the operator pod to be Ready', () => readyOperatorPod(), slow);

    namespace = await createNamespace('elt');
    storeName = `e2e-aws-${namespace}`;
    // The run's canary is the credential: the end-of-run scan proves it reached no log, the kubelet's,
    // containerd's and the containers' included.
    await seedAwsSecret(remoteName(), canary);
    await api(k8s.CoreV1Api).createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: 'aws-credentials',
          annotations: { 'secretlink.dev/allowed-stores': `ClusterSecretStore/${storeName}` },
        },
        stringData: { id: stores().aws.accessKeyId, secret: stores().aws.secretAccessKey },
      },
    });
    // A ClusterSecretStore: the operator adds its API server's address (127.0.0.1 on the node) to the
    // hosts namespaced stores may not name, and moto listens there too (on kind, on the Docker gateway).
    await customApi().createClusterCustomObject({
      group,
      version,
      plural: 'clustersecretstores',
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'ClusterSecretStore',
        metadata: { name: storeName },
        spec: {
          allowedNamespaces: { names: [namespace] },
          provider: {
            aws: {
              region: stores().aws.region,
              endpoint: stores().aws.endpoint,
              ...insecureHttpSetting(stores().aws.endpoint),
              auth: {
                secretRef: {
                  accessKeyId: { name: 'aws-credentials', key: 'id', namespace },
                  secretAccessKey: { name: 'aws-credentials', key: 'secret', namespace },
                },
              },
            },
          },
        },
      },
    });
    await createReference('warehouse');
  });

  afterAll(async () => {
    if (namespace) await deleteNamespace(namespace);
    if (storeName)
      await customApi()
        .deleteClusterCustomObject({ group, version, plural: 'clustersecretstores', name: storeName })
        .catch(() => undefined);
  });

  it('a CronJob-spawned Job reads its credential from a file and an env var, and logs only its fingerprint', async () => {
    await api(k8s.BatchV1Api).createNamespacedCronJob({
      namespace,
      body: {
        metadata: { name: 'nightly-elt' },
        spec: {
          schedule: '* * * * *',
          concurrencyPolicy: 'Forbid',
          jobTemplate: { spec: { backoffLimit: 0, template: eltPodTemplate('warehouse') } },
        },
      },
    });
    const job = await eventually(
      'the CronJob to start a Job',
      () => jobsOfCronJobs(namespace).then((jobs) => jobs[0]),
      slow,
    );
    // One run is enough; later ones would only keep the Secret alive.
    await api(k8s.BatchV1Api).patchNamespacedCronJob(
      { namespace, name: 'nightly-elt', body: { spec: { suspend: true } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const printed = await eventually(
      'the Job to succeed and print its fingerprints',
      () => printedBySucceededPod(namespace, job.metadata!.name!),
      slow,
    );
    expect(printed).toMatchObject({ file: fingerprintOf(canary), env: fingerprintOf(canary) });
    expect(printed.log).not.toContain(canary);
  });

  it('the Secret is gone once the CronJob’s Jobs have ended', async () => {
    await eventually(
      'every Job of the CronJob to end and the Secret to be revoked',
      async () => {
        const jobs = await jobsOfCronJobs(namespace);
        const ended = jobs.every((job) => job.status?.succeeded || job.status?.failed);
        return ended && !(await readSecretIfPresent(namespace, 'warehouse')) ? true : undefined;
      },
      slow,
    );
  });

  it('a Job pod created before its Secret exists waits, then runs once the Secret is written', async () => {
    await createJob('early-elt', 'late-warehouse');
    const waiting = await eventually(
      'the Job’s pod to wait for its Secret',
      async () => {
        const pod = await podOf(namespace, 'early-elt');
        const reason = pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        const events = pod ? await eventsOf(pod) : [];
        // The kubelet cannot mount the volume (FailedMount) or set the env var (CreateContainerConfigError).
        const blocked =
          events.some((event) => event.reason === 'FailedMount') || reason === 'CreateContainerConfigError';
        return pod?.status?.phase === 'Pending' && blocked ? pod : undefined;
      },
      slow,
    );
    expect(waiting.spec?.nodeName).toBe(targetNodeName());

    await createReference('late-warehouse');
    const printed = await eventually(
      'the waiting pod to run and print its fingerprints',
      () => printedBySucceededPod(namespace, 'early-elt'),
      slow,
    );
    expect(printed).toMatchObject({ file: fingerprintOf(canary), env: fingerprintOf(canary) });
    await eventually(
      'the Secret to be revoked',
      async () => ((await readSecretIfPresent(namespace, 'late-warehouse')) ? undefined : true),
      slow,
    );
  });

  it('refuses a pod that is not the Job’s, and a replaced operator pod finishes the revocation', async () => {
    await createJob('long-elt', 'warehouse', 45);
    await eventually(
      'the Secret to be written for the running Job',
      () => readSecretIfPresent(namespace, 'warehouse'),
      slow,
    );

    const intruder = await api(k8s.CoreV1Api)
      .createNamespacedPod({
        namespace,
        body: { metadata: { name: 'intruder' }, spec: eltPodTemplate('warehouse').spec! },
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(statusCodeOf(intruder), 'the API server refuses the pod').toBeGreaterThanOrEqual(400);
    expect(String((intruder as { body?: unknown })?.body)).toContain('secretlink-job-pods-only');

    const before = await readyOperatorPod();
    await api(k8s.CoreV1Api).deleteNamespacedPod({
      namespace: operatorNamespace,
      name: before!.metadata!.name!,
    });
    const replacement = await eventually(
      'a new operator pod to be Ready',
      async () => {
        const pod = await readyOperatorPod();
        return pod && pod.metadata!.uid !== before!.metadata!.uid ? pod : undefined;
      },
      slow,
    );
    expect(replacement.spec?.nodeName).toBe(targetNodeName());

    const printed = await eventually(
      'the long Job to succeed',
      () => printedBySucceededPod(namespace, 'long-elt'),
      slow,
    );
    expect(printed).toMatchObject({ file: fingerprintOf(canary), env: fingerprintOf(canary) });
    await eventually(
      'the replacement to revoke the Secret',
      async () => ((await readSecretIfPresent(namespace, 'warehouse')) ? undefined : true),
      slow,
    );
  });

  it('the audit trail the operator pod wrote, across its restart, verifies up to its last anchor', async () => {
    // The chain is named after the StatefulSet's pod, so both incarnations continue one chain, anchored on
    // a Lease the operator keeps in its namespace.
    const chain = `${operatorStatefulSet}-0`;
    const anchor = await new KubernetesAnchors(kubeConfig(), {
      namespace: operatorNamespace,
      chain,
      publicKey: '',
    }).latest();
    expect(anchor, `an anchor of chain ${chain}`).toBeDefined();
    // The end-of-run check verifies the file against it too.
    await collectAuditFile(target(), operator.auditFile);
    await writeFile(`${operator.auditFile}.anchor.json`, JSON.stringify(anchor));
    const result = await verifyAuditFile(operator.auditFile, {
      publicKey: operator.auditPublicKey,
      anchors: [anchor!],
    });
    expect(result).toMatchObject({ ok: true });
    const lines = (await readFile(operator.auditFile, 'utf8')).split('\n');
    for (const [action, target] of [
      ['Materialized', 'warehouse'],
      ['Revoked', 'warehouse'],
      ['Materialized', 'late-warehouse'],
      ['Revoked', 'late-warehouse'],
    ])
      expect(
        lines.some((line) => line.includes(`"${action}"`) && line.includes(`"name":"${target}"`)),
        `${action} ${target}`,
      ).toBe(true);
  });
});

async function createReference(name: string): Promise<void> {
  await customApi().createNamespacedCustomObject({
    group,
    version,
    plural: 'secretreferences',
    namespace,
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { kind: 'ClusterSecretStore', name: storeName },
        data: [{ key: 'password', remote: { name: remoteName() } }],
        consumers: { matchLabels: { app: 'elt' } },
        ttl: '30m',
      },
    },
  });
}

async function createJob(name: string, secretName: string, holdSeconds = 0): Promise<void> {
  await api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: { backoffLimit: 0, template: eltPodTemplate(secretName, holdSeconds) },
    },
  });
}
