// The whole test environment: binaries ensured, servers started on loopback, and one stop() that removes
// everything. Used by the vitest global setup and by `make run`.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureComponent } from './build.ts';
import { controlPlaneComponents, kubernetes } from './components.ts';
import { startControlPlane } from './controlplane.ts';
import { ProcessSupervisor } from './processes.ts';
import { formatDuration, type Progress } from './progress.ts';

/** What tests receive (serialisable, so vitest can hand it to worker processes). */
export interface EnvironmentInfo {
  kubeconfig: string;
  server: string;
  /** Present when this run started the control plane; absent when pointed at an existing cluster. */
  runDir?: string;
  kubectl: string;
  nodeNames: string[];
}

export interface Environment {
  info: EnvironmentInfo;
  stop(): Promise<void>;
}

/** Builds (or finds) every binary the control plane needs, without starting anything. */
export async function buildControlPlane(progress: Progress) {
  const binaries = {};
  for (const component of controlPlaneComponents)
    Object.assign(binaries, await ensureComponent(component, progress));
  return binaries as Record<string, string>;
}

export async function startEnvironment(progress: Progress): Promise<Environment> {
  const started = Date.now();
  const existing = process.env.SECRETLINK_TEST_KUBECONFIG;
  if (existing) {
    // An existing cluster (kind, say): nothing to start, and kubectl comes from PATH or the cache.
    const kubectl = process.env.KUBECTL ?? (await ensureComponent(kubernetes, progress)).kubectl!;
    progress.step(`using the existing cluster in ${existing}`);
    return { info: { kubeconfig: existing, server: '', kubectl, nodeNames: [] }, stop: async () => {} };
  }

  const binaries = await buildControlPlane(progress);
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-env-'));
  const supervisor = await ProcessSupervisor.create(runDir);
  try {
    const controlPlane = await startControlPlane(supervisor, binaries, progress);
    progress.step(`control plane up in ${formatDuration(Date.now() - started)} (${controlPlane.server})`);
    return {
      info: {
        kubeconfig: controlPlane.kubeconfig,
        server: controlPlane.server,
        runDir,
        kubectl: binaries.kubectl!,
        nodeNames: controlPlane.nodeNames,
      },
      stop: () => supervisor.stopAll(),
    };
  } catch (error) {
    await supervisor.stopAll();
    throw error;
  }
}
