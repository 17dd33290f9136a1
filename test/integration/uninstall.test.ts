// `make uninstall` removes a `kubectl apply -k config/default` install in the order that keeps the cluster
// working: the SecretReferences first (the operator revokes their Secrets while the pod policy still guards
// them, and releases their finalizers), then the policies, the operator and its RBAC, and the CRDs last, so
// the pod policy is never bound to a parameter kind that no longer exists (docs/operations.md, "Uninstall").
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../env/components.ts';
import { operatorNamespace } from '../env/install.ts';
import { operatorKubeConfig } from '../env/operator-identity.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  environment,
  eventually,
  kubectl,
  readSecretIfPresent,
  statusCodeOf,
} from '../support/cluster.ts';
import { installCrds, referenceApi, startTestOperator, type TestOperator } from '../support/operator.ts';
import { writeVaultSecret } from '../support/stores.ts';
import { createEtlJob, createEtlReference, createVaultStore } from '../support/vault-tenant.ts';

const exec = promisify(execFile);

let namespace: string;
let scratch: string | undefined;
let operator: TestOperator | undefined;

beforeAll(async () => {
  await installCrds();
  await kubectl('apply', '--server-side', '--force-conflicts', '-k', 'config/default');
  namespace = await createNamespace('uninstall');
  await createVaultStore(namespace);
  await writeVaultSecret(`${namespace}/warehouse`, { password: 'uninstall-test-password' });
  await createEtlReference(namespace, 'warehouse', { remote: `${namespace}/warehouse` });
  await createEtlJob(namespace, 'etl', 'warehouse');
  // The operator as the shipped manifests run it: its own ServiceAccount, under the shipped policies, which
  // let it hold only the Lease the manifests name (no other run's holder left on it).
  await api(k8s.CoordinationV1Api)
    .deleteNamespacedLease({ namespace: operatorNamespace, name: 'secretlink-operator' })
    .catch(() => undefined);
  operator = startTestOperator({
    namespaces: [namespace],
    leaseName: 'secretlink-operator',
    kubeConfig: await operatorKubeConfig(environment()),
  });
  await eventually('the Secret materialized for the Job', () => readSecretIfPresent(namespace, 'warehouse'));
});

afterAll(async () => {
  await operator?.stop();
  // Whatever the test reached, the shipped policies go (other files install the ones they test).
  await kubectl('delete', '--ignore-not-found', '-k', 'config/admission');
  await Promise.all([namespace, scratch].filter(Boolean).map((name) => deleteNamespace(name!)));
  // Other test files expect the CRDs; put them back as they were found.
  await installCrds();
});

const notFound = (read: () => Promise<unknown>) =>
  read().then(
    () => false,
    (error) => statusCodeOf(error) === 404,
  );

/**
 * SecretReferences other test files left behind in the shared environment keep the finalizer of an operator
 * that no longer runs, which would hold `delete --wait` forever; in a cluster the running operator releases
 * them. They are released here, so the uninstall meets only what a real install would have.
 */
async function releaseOtherReferences(): Promise<void> {
  const custom = api(k8s.CustomObjectsApi);
  const all = (await custom.listClusterCustomObject({ ...referenceApi })) as {
    items: { metadata: { namespace: string; name: string; finalizers?: string[] } }[];
  };
  for (const { metadata } of all.items) {
    if (metadata.namespace === namespace || !metadata.finalizers?.length) continue;
    await custom
      .patchNamespacedCustomObject(
        {
          ...referenceApi,
          namespace: metadata.namespace,
          name: metadata.name,
          body: { metadata: { finalizers: null } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )
      .catch(() => undefined);
  }
}

describe('make uninstall', () => {
  it('revokes every Secret first, removes the CRDs last, and leaves no pod refused', async () => {
    await releaseOtherReferences();
    const { kubectl: kubectlBinary, kubeconfig } = environment();
    await exec('make', ['-s', 'uninstall', `KUBECTL=${kubectlBinary} --kubeconfig ${kubeconfig}`], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    });

    // Revoked by the operator while the policy still guarded it, not left behind for any pod to mount.
    expect(await readSecretIfPresent(namespace, 'warehouse')).toBeUndefined();
    const admission = api(k8s.AdmissionregistrationV1Api);
    expect(
      await notFound(() =>
        admission.readValidatingAdmissionPolicyBinding({ name: 'secretlink-job-pods-only' }),
      ),
    ).toBe(true);
    expect(
      await notFound(() => admission.readValidatingAdmissionPolicy({ name: 'secretlink-job-pods-only' })),
    ).toBe(true);
    const extensions = api(k8s.ApiextensionsV1Api);
    expect(
      await notFound(() =>
        extensions.readCustomResourceDefinition({ name: 'secretreferences.secretlink.dev' }),
      ),
    ).toBe(true);
    expect(
      await notFound(() =>
        api(k8s.AppsV1Api).readNamespacedStatefulSet({
          name: 'secretlink-operator',
          namespace: operatorNamespace,
        }),
      ),
    ).toBe(true);
    // The namespace with the audit volumes and signing key stays for the user to archive.
    expect((await api(k8s.CoreV1Api).readNamespace({ name: operatorNamespace })).metadata?.name).toBe(
      operatorNamespace,
    );

    scratch = await createNamespace('after-make-uninstall');
    const pod = await api(k8s.CoreV1Api).createNamespacedPod({
      namespace: scratch,
      body: {
        metadata: { name: 'bare' },
        spec: {
          containers: [{ name: 'c', image: 'busybox' }],
          volumes: [{ name: 's', secret: { secretName: 'warehouse' } }],
        },
      },
    });
    expect(pod.metadata?.name).toBe('bare');
  });
});
