// Attacks on what the controller trusts: which reference owns a target Secret, which Secret it created, and
// how long a Job's access lasts. Each runs against the local control plane (kwok simulates the Jobs' pods)
// with a real AWS Secrets Manager (moto) and the operator in-process.
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotations, labels, managedBy } from '../../src/api/constants.ts';
import type { SecretReference, SecretStore } from '../../src/api/types.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import { referenceFacts } from '../../src/controller/reference-facts.ts';
import { awsStoreSpec } from '../env/stores/store-specs.ts';
import { createAwsStore, createAwsTenant } from '../support/aws-tenant.ts';
import {
  api,
  deleteNamespace,
  eventually,
  kubectl,
  readSecretIfPresent,
  statusCodeOf,
} from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret, stores } from '../support/stores.ts';

let namespace: string;
let operator: TestOperator;
const repo = path.resolve(import.meta.dirname, '../..');
const legitimateRemote = () => `${namespace}/warehouse`;
const intruderRemote = () => `${namespace}/intruder`;
let legitimateVersion: string;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('attack-refs', ['aws-late']);
  ({ versionId: legitimateVersion } = await seedAwsSecret(legitimateRemote(), 'legitimate-password'));
  await seedAwsSecret(intruderRemote(), 'intruder-password');
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

async function createReference(
  name: string,
  options: { target: string; remote: string; store?: string; ttl?: string; consumers?: object },
) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { name: options.store ?? 'aws' },
        data: [{ key: 'password', remote: { name: options.remote } }],
        target: { name: options.target },
        consumers: options.consumers ?? { matchLabels: { app: 'dbt' } },
        ...(options.ttl ? { ttl: options.ttl } : {}),
      },
    },
  });
}

async function createJob(name: string, secretName: string, options: { suspend?: boolean } = {}) {
  return api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        suspend: options.suspend,
        template: {
          metadata: {
            labels: { app: 'dbt' },
            annotations: { 'secretlink.dev/simulated-run-time': '10m' },
          },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'dbt',
                image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
                envFrom: [{ secretRef: { name: secretName } }],
              },
            ],
          },
        },
      },
    },
  });
}

const setSuspended = (name: string, suspend: boolean) =>
  api(k8s.BatchV1Api).patchNamespacedJob(
    { name, namespace, body: { spec: { suspend } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );

const readSecret = (name: string) => readSecretIfPresent(namespace, name);

const secretExists = (name: string, predicate: (secret: k8s.V1Secret) => boolean = () => true) =>
  eventually(`Secret ${name} to exist`, async () => {
    const secret = await readSecret(name);
    return secret && predicate(secret) ? secret : undefined;
  });

const secretGone = (name: string, timeoutMs = 30_000) =>
  eventually(`Secret ${name} to be deleted`, async () => ((await readSecret(name)) ? undefined : true), {
    timeoutMs,
  });

async function readReference(name: string) {
  return (await customApi().getNamespacedCustomObject({
    ...referenceApi,
    namespace,
    name,
  })) as SecretReference;
}

const readyOf = (reference: SecretReference) =>
  reference.status?.conditions?.find((condition) => condition.type === 'Ready');

const referenceReason = (name: string, reason: string) =>
  eventually(`SecretReference ${name} to report ${reason}`, async () => {
    const reference = await readReference(name);
    return readyOf(reference)?.reason === reason ? reference : undefined;
  });

const decoded = (secret: k8s.V1Secret, key: string) =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString();

const auditOf = (referenceName: string, action?: AuditRecord['action']) =>
  operator.audit.filter(
    (record) => record.reference.name === referenceName && (!action || record.action === action),
  );

describe('two references, one target', () => {
  it('lets only the oldest reference write a shared target, so a later one with looser consumers cannot swap in its values', async () => {
    // The legitimate reference exists first; its store is not there yet, so nothing is written when the Job
    // starts. The intruder's reference, created later with looser consumers and its own remote, is ready.
    await createReference('legitimate', {
      target: 'shared-target',
      remote: legitimateRemote(),
      store: 'aws-late',
    });
    // Creation times have a resolution of one second, and within one second the uid decides; the intruder
    // comes a second later so the test knows which of the two is older.
    const legitimate = await readReference('legitimate');
    const created = new Date(legitimate.metadata.creationTimestamp!).getTime();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, created + 1100 - Date.now())));
    await createReference('intruder', {
      target: 'shared-target',
      remote: intruderRemote(),
      consumers: { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
    });
    await createJob('victim', 'shared-target');

    const intruder = await referenceReason('intruder', 'TargetClaimed');
    expect(readyOf(intruder)?.status).toBe('False');
    expect(readyOf(intruder)?.message).toContain('legitimate');

    await createAwsStore(namespace, 'aws-late');
    const secret = await secretExists('shared-target');
    expect(decoded(secret, 'password')).toBe('legitimate-password');
    expect(secret.metadata?.labels?.[labels.reference]).toBe('legitimate');
    expect(auditOf('intruder', 'Materialized')).toEqual([]);
    await api(k8s.BatchV1Api).deleteNamespacedJob({
      name: 'victim',
      namespace,
      propagationPolicy: 'Background',
    });
    await secretGone('shared-target');
  });
});

describe('ownership by uid', () => {
  it('does not adopt a Secret planted with the managed labels and a matching content hash, and audits the conflict once', async () => {
    await createReference('planted', { target: 'planted-target', remote: legitimateRemote() });
    const reference = await readReference('planted');
    const store = (await customApi().getNamespacedCustomObject({
      ...storeApi,
      namespace,
      name: 'aws',
    })) as SecretStore;
    // Everything the operator used to check is computable by anyone who can read the reference and store.
    const { contentHash } = referenceFacts(reference, store, false, {});
    await api(k8s.CoreV1Api).createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: 'planted-target',
          labels: { [labels.managedBy]: managedBy, [labels.reference]: 'planted' },
          annotations: {
            'secretlink.dev/content-hash': contentHash,
            'secretlink.dev/fingerprint': 'hmac-sha256:forged',
            [annotations.remoteVersions]: JSON.stringify([
              { name: legitimateRemote(), version: legitimateVersion },
            ]),
          },
        },
        stringData: { password: 'planted-password' },
      },
    });
    await createJob('planted-victim', 'planted-target');

    const conflicted = await referenceReason('planted', 'Conflict');
    expect(readyOf(conflicted)?.status).toBe('False');
    const refusals = await eventually('the conflict to be audited', async () => {
      const records = auditOf('planted', 'Refused').filter((record) => record.reason === 'Conflict');
      return records.length > 0 ? records : undefined;
    });
    // Another reconcile of the same conflict (a spec edit the operator must acknowledge) records nothing new.
    await customApi().patchNamespacedCustomObject(
      { ...referenceApi, namespace, name: 'planted', body: { spec: { refreshInterval: '30m' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const acknowledged = await eventually('the edit to be reconciled', async () => {
      const current = await readReference('planted');
      return current.status?.observedGeneration === current.metadata.generation ? current : undefined;
    });
    expect(readyOf(acknowledged)?.reason).toBe('Conflict');
    expect(auditOf('planted', 'Refused').filter((record) => record.reason === 'Conflict')).toEqual(refusals);
    expect(refusals).toHaveLength(1);
    expect(auditOf('planted', 'Materialized')).toEqual([]);

    const untouched = await readSecret('planted-target');
    expect(decoded(untouched!, 'password')).toBe('planted-password');
    expect(untouched!.metadata?.ownerReferences).toBeUndefined();
    await api(k8s.BatchV1Api).deleteNamespacedJob({
      name: 'planted-victim',
      namespace,
      propagationPolicy: 'Background',
    });
  });
});

describe('ttl as a hard cap', () => {
  it('does not give a Job created suspended the Secret until it starts', async () => {
    await createJob('queued', 'queued-target', { suspend: true });
    await createReference('queued', { target: 'queued-target', remote: legitimateRemote() });
    const waiting = await eventually('the reference to be reconciled', async () => {
      const reference = await readReference('queued');
      return readyOf(reference) && reference.metadata.finalizers?.length ? reference : undefined;
    });
    expect(readyOf(waiting)?.reason).toBe('NoConsumers');
    expect(await readSecret('queued-target')).toBeUndefined();

    const resumedAt = Date.now();
    await setSuspended('queued', false);
    const secret = await secretExists('queued-target');
    expect(decoded(secret, 'password')).toBe('legitimate-password');
    const running = await referenceReason('queued', 'Materialized');
    // The entitlement starts when the Job started, not when it was created (a queue may hold it for hours).
    expect(Date.parse(running.status!.consumingJobs![0]!.startTime!)).toBeGreaterThanOrEqual(
      Math.floor(resumedAt / 1000) * 1000,
    );
  });

  it('does not renew access when a Job is suspended and resumed, or its status.startTime is edited', async () => {
    await createReference('capped', { target: 'capped-target', remote: legitimateRemote(), ttl: '1m' });
    await createJob('renewer', 'capped-target');
    await secretExists('capped-target');
    const first = await referenceReason('capped', 'Materialized');
    const firstExpiry = first.status!.consumingJobs![0]!.expiresAt;

    // Suspending stops the Job's pods, so its access ends at once; resuming resets status.startTime.
    await setSuspended('renewer', true);
    await secretGone('capped-target');
    await setSuspended('renewer', false);
    const again = await secretExists('capped-target');
    expect(again.metadata?.annotations?.[annotations.expiresAt]).toBe(firstExpiry);
    const resumed = await referenceReason('capped', 'Materialized');
    expect(resumed.status!.consumingJobs![0]!.expiresAt).toBe(firstExpiry);

    // Someone who may write Job status moves the start time forward. The API server may refuse the edit
    // itself; if it does not, the recorded first start still counts.
    const job = await api(k8s.BatchV1Api).readNamespacedJob({ name: 'renewer', namespace });
    const edited = await api(k8s.BatchV1Api)
      .patchNamespacedJobStatus(
        {
          name: 'renewer',
          namespace,
          body: {
            metadata: { resourceVersion: job.metadata!.resourceVersion },
            status: { startTime: new Date(Date.now() + 3_600_000) },
          },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )
      .then(
        () => true,
        (error) => (statusCodeOf(error) === 422 ? false : Promise.reject(error)),
      );
    if (edited) {
      await eventually('the edit to reach the operator', async () => {
        const reference = await readReference('capped');
        return reference.status?.consumingJobs?.[0]?.expiresAt === firstExpiry ? reference : undefined;
      });
    }
    await secretGone('capped-target', 90_000);
    expect(auditOf('capped', 'Expired').map((record) => record.job?.name)).toEqual(['renewer']);
  }, 120_000);
});

describe('refusing duplicate targets at apply', () => {
  const policyFile = path.join(repo, 'config/admission/unique-targets.yaml');
  afterAll(async () => {
    await kubectl('delete', '--ignore-not-found', '-f', policyFile);
  });

  it('refuses a second SecretReference that names a target another reference in the namespace already has', async () => {
    await kubectl('apply', '-f', policyFile);
    await createReference('first-owner', { target: 'contested', remote: legitimateRemote() });
    const refusal = await eventually('the duplicate to be refused', async () => {
      try {
        await createReference('second-owner', { target: 'contested', remote: intruderRemote() });
        await customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace, name: 'second-owner' });
        return undefined;
      } catch (error) {
        return statusCodeOf(error) === 403 ? (error as k8s.ApiException<string>) : undefined;
      }
    });
    expect(String(refusal.body)).toContain('first-owner');
    // Updating the first reference itself is not a duplicate of its own old version.
    await customApi().patchNamespacedCustomObject(
      { ...referenceApi, namespace, name: 'first-owner', body: { spec: { ttl: '2h' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    // A reference whose own name is the contested target, without spec.target, is a duplicate too.
    await expect(
      customApi().createNamespacedCustomObject({
        ...referenceApi,
        namespace,
        body: {
          apiVersion: 'secretlink.dev/v1alpha1',
          kind: 'SecretReference',
          metadata: { name: 'contested' },
          spec: {
            storeRef: { name: 'aws' },
            data: [{ key: 'password', remote: { name: intruderRemote() } }],
            consumers: { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
          },
        },
      }),
    ).rejects.toMatchObject({ code: 403 });
  });
});

describe('kube-system', () => {
  const system = 'kube-system';
  let systemOperator: TestOperator;
  const core = () => api(k8s.CoreV1Api);

  beforeAll(async () => {
    systemOperator = startTestOperator({
      namespaces: [system],
      identity: 'kube-system-operator',
      leaseName: `lease-kube-system-${namespace}`,
    });
    await core().createNamespacedSecret({
      namespace: system,
      body: {
        metadata: {
          name: `aws-credentials-${namespace}`,
          annotations: { 'secretlink.dev/allowed-stores': `SecretStore/${namespace}` },
        },
        stringData: { id: 'testing', secret: 'testing' },
      },
    });
    const spec = awsStoreSpec(stores().aws);
    // The store's credential Secret is named after this run, so parallel runs on one cluster do not collide.
    const auth = JSON.parse(
      JSON.stringify(spec).replaceAll('"aws-credentials"', `"aws-credentials-${namespace}"`),
    );
    await customApi().createNamespacedCustomObject({
      ...storeApi,
      namespace: system,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: namespace },
        spec: auth,
      },
    });
  });

  afterAll(async () => {
    const batch = api(k8s.BatchV1Api);
    await batch.deleteNamespacedJob({ name: namespace, namespace: system, propagationPolicy: 'Background' });
    await customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace: system, name: namespace });
    await eventually('the kube-system reference to be gone', async () =>
      customApi()
        .getNamespacedCustomObject({ ...referenceApi, namespace: system, name: namespace })
        .then(
          () => undefined,
          (error) => (statusCodeOf(error) === 404 ? true : Promise.reject(error)),
        ),
    );
    await systemOperator?.stop();
    expect(systemOperator?.sinkErrors).toEqual([]);
    await customApi().deleteNamespacedCustomObject({ ...storeApi, namespace: system, name: namespace });
    await core().deleteNamespacedSecret({ namespace: system, name: `aws-credentials-${namespace}` });
    await core()
      .deleteNamespacedSecret({ namespace: system, name: `system-target-${namespace}` })
      .catch((error) => (statusCodeOf(error) === 404 ? undefined : Promise.reject(error)));
  });

  it('serves no Job from a SecretReference in kube-system, which the pod admission policy does not cover', async () => {
    const target = `system-target-${namespace}`;
    await customApi().createNamespacedCustomObject({
      ...referenceApi,
      namespace: system,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretReference',
        metadata: { name: namespace },
        spec: {
          storeRef: { name: namespace },
          data: [{ key: 'password', remote: { name: legitimateRemote() } }],
          target: { name: target },
          consumers: { matchLabels: { app: 'dbt' } },
        },
      },
    });
    await api(k8s.BatchV1Api).createNamespacedJob({
      namespace: system,
      body: {
        metadata: { name: namespace },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { app: 'dbt' }, annotations: { 'secretlink.dev/simulated-run-time': '10m' } },
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'dbt',
                  image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
                  envFrom: [{ secretRef: { name: target } }],
                },
              ],
            },
          },
        },
      },
    });
    const refused = await eventually('the kube-system reference to be refused', async () => {
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace: system,
        name: namespace,
      })) as SecretReference;
      return readyOf(reference)?.reason === 'NamespaceRefused' ? reference : undefined;
    });
    expect(readyOf(refused)?.status).toBe('False');
    expect(await readSecretIfPresent(system, target)).toBeUndefined();
    expect(systemOperator.audit.filter((record) => record.action === 'Materialized')).toEqual([]);
  });
});
