// What integration tests use to reach the environment's cluster: typed API clients, a fresh namespace per
// test file, and polling for an outcome a user would observe.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { inject } from 'vitest';

const exec = promisify(execFile);

export function environment() {
  return inject('environment');
}

export function kubeConfig(): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(environment().kubeconfig);
  return config;
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
  const { kubeconfig, kubectl: binary } = environment();
  return exec(binary, ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 * 1024 * 1024 });
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
