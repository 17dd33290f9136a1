// What integration tests use to reach the environment's cluster: typed API clients, a fresh namespace per
// test file, and polling for an outcome a user would observe.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { EnvironmentInfo } from '../env/environment.ts';
import { environmentKubectl } from '../env/install.ts';

type ClusterInfo = Pick<EnvironmentInfo, 'kubeconfig' | 'server' | 'kubectl' | 'nodeNames'>;

let ownCluster: ClusterInfo | undefined;
let loaded: k8s.KubeConfig | undefined;

/** The run's environment; its cluster is this file's own control plane once `useOwnCluster` was called. */
export function environment(): EnvironmentInfo {
  const shared = inject('environment');
  return ownCluster ? { ...shared, ...ownCluster } : shared;
}

/**
 * Points every helper of this test file (each file runs in a fresh worker) at a control plane of its own
 * (test/env/environment.ts, startOwnControlPlane), for a test that stops its servers. The run folder, the
 * stores and the end-of-run checks stay the run's, so that operator's logs and audit files are checked too.
 */
export function useOwnCluster(cluster: ClusterInfo): void {
  ownCluster = cluster;
  loaded = undefined;
}

/** The environment's admin kubeconfig, read once per test worker (every api() call and poll uses it). */
export function kubeConfig(): k8s.KubeConfig {
  if (!loaded) {
    loaded = new k8s.KubeConfig();
    loaded.loadFromFile(environment().kubeconfig);
  }
  return loaded;
}

export function api<T extends k8s.ApiType>(type: k8s.ApiConstructor<T>): T {
  return kubeConfig().makeApiClient(type);
}

/** Creates a namespace with a unique name; tests in different files never share one. */
export async function createNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await api(k8s.CoreV1Api).createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await api(k8s.CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}

/** Runs the environment's kubectl against its cluster. */
export async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return environmentKubectl(environment())(...args);
}

/** Polls until `probe` returns a value other than undefined, or fails with the last observation. */
export async function eventually<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs}ms waiting for ${description}${last ? `: ${String(last)}` : ''}`,
  );
}

/** The status code of a failed API call, for asserting that the server refused something. */
export function statusCodeOf(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}

/** A Secret as the API server has it now, or undefined when there is none. */
export async function readSecretIfPresent(
  namespace: string,
  name: string,
): Promise<k8s.V1Secret | undefined> {
  try {
    return await api(k8s.CoreV1Api).readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
}
