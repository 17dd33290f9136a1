// The operator's own identity as the install manifests make it: the ServiceAccount and RBAC of config/rbac,
// and a kubeconfig that authenticates with a token of that ServiceAccount instead of the admin's
// certificate, so whatever runs with it has exactly the shipped rights and admission bounds.
import { writeFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import type { EnvironmentInfo } from './environment.ts';
import { environmentKubectl, operatorNamespace } from './install.ts';

export const operatorServiceAccount = 'secretlink-operator';
export const operatorUsername = `system:serviceaccount:${operatorNamespace}:${operatorServiceAccount}`;

type Cluster = Pick<EnvironmentInfo, 'kubectl' | 'kubeconfig'>;

/** Applies config/rbac (its namespace must exist). */
export async function installOperatorRbac(info: Cluster): Promise<void> {
  await environmentKubectl(info)('apply', '--server-side', '--force-conflicts', '-k', 'config/rbac');
}

/** A kubeconfig for the environment's API server that acts as the operator's ServiceAccount. */
export async function operatorKubeConfig(
  info: Cluster,
  { expirationSeconds = 3600 }: { expirationSeconds?: number } = {},
): Promise<k8s.KubeConfig> {
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(info.kubeconfig);
  // Minted by the admin, with the API server's audience, as the kubelet would project it into the pod.
  const request = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    namespace: operatorNamespace,
    name: operatorServiceAccount,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`no token for ${operatorUsername}`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error(`${info.kubeconfig} has no current cluster`);
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: operatorServiceAccount, token }],
    contexts: [{ name: operatorServiceAccount, cluster: cluster.name, user: operatorServiceAccount }],
    currentContext: operatorServiceAccount,
  });
  return config;
}

/** Writes the kubeconfig where a separate process (`node src/main.ts`) can load it, readable by its owner only. */
export async function writeKubeConfig(config: k8s.KubeConfig, file: string): Promise<void> {
  await writeFile(file, config.exportConfig(), { mode: 0o600 });
}
