// The install a user makes for per-Job Secrets on Kubernetes 1.36: config/admission with the per-Job component
// (config/components/per-job), and a wait until the API server rewrites the pods of a reference's Jobs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, kubectl } from './cluster.ts';
import { customApi, referenceApi } from './operator.ts';

const repo = path.resolve(import.meta.dirname, '../..');

/**
 * Applies config/admission with one of its kustomize components, through an overlay of the user's own (kustomize
 * only accepts relative paths there); returns the overlay's folder.
 */
export async function applyAdmissionWith(component: string): Promise<string> {
  const overlay = await mkdtemp(path.join(os.tmpdir(), 'secretlink-admission-'));
  const relative = (folder: string) => path.relative(overlay, path.join(repo, folder));
  await writeFile(
    path.join(overlay, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative('config/admission')}`,
      'components:',
      `  - ${relative(component)}`,
      '',
    ].join('\n'),
  );
  await kubectl('apply', '-k', overlay);
  return overlay;
}

/** Applies the admission policies with the per-Job component; the returned function removes them again. */
export async function installPerJobAdmission(): Promise<() => Promise<void>> {
  const overlay = await applyAdmissionWith('config/components/per-job');
  return async () => {
    await kubectl('delete', '--ignore-not-found', '-k', overlay);
    await rm(overlay, { recursive: true, force: true });
  };
}

/**
 * Waits until the operator has claimed the reference's target (pods are rewritten only for a claimed target)
 * and the API server, which loads admission policies and the SecretReferences they take as parameters on its
 * own schedule, rewrites a dry-run pod created as the Job controller to its Job's own Secret.
 */
export async function awaitPodRewrite(
  namespace: string,
  reference: string,
  podLabels: Record<string, string>,
): Promise<void> {
  await eventually('the target to be claimed', async () => {
    const current = (await customApi().getNamespacedCustomObject({
      ...referenceApi,
      namespace,
      name: reference,
    })) as { status?: { managedSecret?: { name: string } } };
    return current.status?.managedSecret?.name === reference ? true : undefined;
  });
  const folder = await mkdtemp(path.join(os.tmpdir(), 'secretlink-probe-'));
  const probe = path.join(folder, 'probe-pod.yaml');
  const probeJobUid = '00000000-0000-4000-8000-000000000001';
  await writeFile(
    probe,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'per-job-probe',
        namespace,
        labels: podLabels,
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: 'probe', uid: probeJobUid, controller: true },
        ],
      },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'busybox', envFrom: [{ secretRef: { name: reference } }] }],
      },
    }),
  );
  try {
    await eventually(
      'the per-Job mutating policy to rewrite a pod the Job controller creates',
      async () => {
        const { stdout } = await kubectl(
          'create',
          '--dry-run=server',
          '-o',
          'json',
          '-f',
          probe,
          '--as=system:serviceaccount:kube-system:job-controller',
        ).catch(() => ({ stdout: '' }));
        return stdout.includes(`${reference}-${probeJobUid}`) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
