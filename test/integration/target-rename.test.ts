// What a reference leaves behind when its target is renamed, and what it gives a Job whose pods another
// reference's policy refuses. The operator runs as its own ServiceAccount under the shipped RBAC and admission
// policies (config/rbac, config/admission), on the local control plane with kwok-simulated pods and moto.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig } from '../env/operator-identity.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import {
  api,
  deleteNamespace,
  environment,
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
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret } from '../support/stores.ts';

let namespace: string;
let operatorConfig: k8s.KubeConfig;
let operator: TestOperator | undefined;
const audit: AuditRecord[] = [];
/** The one Lease name the operator's identity may hold (config/admission/operator/leases-events.yaml). */
const leaseName = 'secretlink-operator';
const remote = () => `${namespace}/warehouse`;
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const start = () => {
  operator = startTestOperator({
    namespaces: [namespace],
    identity: 'rename-operator',
    leaseName,
    kubeConfig: operatorConfig,
    audit,
  });
};

beforeAll(async () => {
  await installCrds();
  await installOperatorRbac(environment());
  await kubectl('apply', '-k', 'config/admission');
  namespace = await createAwsTenant('rename');
  await seedAwsSecret(remote(), 'rename-password');
  operatorConfig = await operatorKubeConfig(environment());
  // A fresh start: no Lease left by an earlier test on this control plane.
  await api(k8s.CoordinationV1Api)
    .deleteNamespacedLease({ namespace: operatorNamespace, name: leaseName })
    .catch(() => undefined);
  start();
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors ?? []).toEqual([]);
  await deleteNamespace(namespace);
  // Other test files share the control plane and run their operators as the admin: leave it as it was found.
  await kubectl('delete', '--ignore-not-found', '-k', 'config/admission');
  await kubectl('delete', '--ignore-not-found', '-k', 'config/rbac');
});

async function createReference(name: string, target: string, consumers: object) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { name: 'aws' },
        data: [{ key: 'password', remote: { name: remote() } }],
        target: { name: target },
        consumers,
      },
    },
  });
}

interface ReferenceView {
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    managedSecret?: { name: string; uid?: string };
    retiredSecrets?: { name: string; uid: string }[];
    refusedJobs?: { name: string; reason: string }[];
    consumingJobs?: { name: string }[];
  };
}

const readReference = async (name: string) =>
  (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as ReferenceView;

function jobBody(name: string, labels: Record<string, string>, secretNames: string[]): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels, annotations: { 'secretlink.dev/simulated-run-time': '10m' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'dbt', image: 'dbt', envFrom: secretNames.map((n) => ({ secretRef: { name: n } })) },
          ],
        },
      },
    },
  };
}

const createJob = (name: string, labels: Record<string, string>, secretNames: string[]) =>
  api(k8s.BatchV1Api).createNamespacedJob({ namespace, body: jobBody(name, labels, secretNames) });

/** A bare pod (no Job behind it) that mounts `secretName`, tried as a dry run: the API server's answer. */
async function barePodAnswer(secretName: string): Promise<number> {
  const outcome = await api(k8s.CoreV1Api)
    .createNamespacedPod({
      namespace,
      dryRun: 'All',
      body: {
        metadata: { name: 'bare' },
        spec: {
          containers: [{ name: 'main', image: 'busybox' }],
          volumes: [{ name: 'credentials', secret: { secretName } }],
        },
      },
    })
    .then(
      () => 200,
      (error: unknown) => statusCodeOf(error) ?? 0,
    );
  return outcome;
}

const secretWithUid = async (name: string, uid: string) =>
  (await readSecretIfPresent(namespace, name))?.metadata?.uid === uid;

describe('renaming the target of a reference a Job consumes', () => {
  it('deletes the old Secret by uid, writes the new one for the entitled Job, and guards the old name until then', async () => {
    await createReference('renamed', 'renamed-v1', { matchLabels: { app: 'dbt' } });
    const oldRun = await createJob('old-run', { app: 'dbt' }, ['renamed-v1']);
    const old = await eventually('the Secret under the first name', () =>
      readSecretIfPresent(namespace, 'renamed-v1'),
    );
    const oldUid = old.metadata!.uid!;
    expect(old.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([oldRun.metadata!.uid]);
    await eventually('the pod policy to guard the first name', async () =>
      (await barePodAnswer('renamed-v1')) === 403 ? true : undefined,
    );

    // Renamed while the operator is down: the old Secret is still there, and the policy still guards it.
    await operator?.stop();
    operator = undefined;
    await customApi().patchNamespacedCustomObject(
      { ...referenceApi, namespace, name: 'renamed', body: { spec: { target: { name: 'renamed-v2' } } } },
      mergePatch,
    );
    const newRun = await createJob('new-run', { app: 'dbt' }, ['renamed-v2']);
    expect(await secretWithUid('renamed-v1', oldUid)).toBe(true);
    expect(await barePodAnswer('renamed-v1')).toBe(403);

    start();
    await eventually('the old Secret, by uid, to be deleted', async () =>
      (await secretWithUid('renamed-v1', oldUid)) ? undefined : true,
    );
    const written = await eventually('the Secret under the new name', () =>
      readSecretIfPresent(namespace, 'renamed-v2'),
    );
    expect(written.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([newRun.metadata!.uid]);
    const status = await eventually('status to track only the new Secret', async () => {
      const { status } = await readReference('renamed');
      return status?.managedSecret?.uid === written.metadata!.uid && !status?.retiredSecrets
        ? status
        : undefined;
    });
    expect(status.managedSecret).toEqual({ name: 'renamed-v2', uid: written.metadata!.uid });
    expect(status.consumingJobs?.map((job) => job.name)).toEqual(['new-run']);
    // No Secret is left under the old name for a bare pod to mount; the new name is guarded.
    expect(await readSecretIfPresent(namespace, 'renamed-v1')).toBeUndefined();
    await eventually('the pod policy to guard the new name', async () =>
      (await barePodAnswer('renamed-v2')) === 403 ? true : undefined,
    );

    // The revocation names the Secret that was deleted, not the new target.
    const revoked = await eventually('the old Job to be recorded as revoked', async () =>
      audit.find((record) => record.job?.name === 'old-run' && record.action === 'Revoked'),
    );
    expect(revoked.targetSecret).toEqual({ namespace, name: 'renamed-v1', uid: oldUid });
    const granted = audit.find(
      (record) => record.job?.name === 'new-run' && record.action === 'Materialized',
    );
    expect(granted?.targetSecret).toEqual({ namespace, name: 'renamed-v2', uid: written.metadata!.uid });
  });
});

describe('a Job whose pods another reference refuses', () => {
  it("gets neither reference's Secret, and the first reference says why in status and audit", async () => {
    await createReference('warehouse', 'warehouse-secret', { matchLabels: { app: 'dbt' } });
    await createReference('billing', 'billing-secret', { matchLabels: { team: 'finance' } });
    // Both claims in place (the policy guards a target only once claimed).
    for (const name of ['warehouse', 'billing']) {
      await eventually(`${name} to claim its target`, async () =>
        (await readReference(name)).status?.managedSecret?.name ? true : undefined,
      );
    }
    await eventually('the pod policy to guard the billing Secret', async () =>
      (await barePodAnswer('billing-secret')) === 403 ? true : undefined,
    );

    await createJob('mixed', { app: 'dbt' }, ['warehouse-secret', 'billing-secret']);
    const refused = await eventually('warehouse to refuse the Job', async () =>
      (await readReference('warehouse')).status?.refusedJobs?.find((job) => job.name === 'mixed'),
    );
    expect(refused.reason).toContain('billing-secret of SecretReference billing');
    expect(refused.reason).toContain('pod admission policy refuses them');
    const { status } = await readReference('warehouse');
    expect(status?.consumingJobs ?? []).toEqual([]);
    expect(status?.conditions?.[0]).toMatchObject({ type: 'Ready', reason: 'NoConsumers' });

    // The Job controller cannot make its pods: the policy refuses them, naming the billing reference.
    await eventually('the Job controller to report the refused pod', async () => {
      const events = await api(k8s.CoreV1Api).listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.kind=Job,involvedObject.name=mixed',
      });
      return events.items.some(
        (event) => event.reason === 'FailedCreate' && event.message?.includes('billing'),
      )
        ? true
        : undefined;
    });
    const record = await eventually('a Refused audit record for the Job', async () =>
      audit.find(
        (r) => r.action === 'Refused' && r.job?.name === 'mixed' && r.reference.name === 'warehouse',
      ),
    );
    expect(record.message).toContain('billing-secret');
    expect(record.targetSecret).toEqual({ namespace, name: 'warehouse-secret' });
    // Nothing was ever written for it.
    expect(await readSecretIfPresent(namespace, 'warehouse-secret')).toBeUndefined();
    expect(audit.filter((r) => r.job?.name === 'mixed' && r.action === 'Materialized')).toEqual([]);
  });
});
