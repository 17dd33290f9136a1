// The whole test environment: binaries ensured, servers started on loopback, and one stop() that removes
// everything. Used by the vitest global setup and by `make run`.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureComponent } from './build.ts';
import { controlPlaneComponents, kubelet, kubernetes } from './components.ts';
import { type ControlPlane, startControlPlane } from './controlplane.ts';
import { findHostPrograms } from './node/host.ts';
import { type RealNode, startRealNode } from './node/start.ts';
import { ProcessSupervisor } from './processes.ts';
import { formatDuration, type Progress } from './progress.ts';
import type { StoreCoordinates } from './stores/coordinates.ts';
import { startStores } from './stores/start.ts';

/** What tests receive (serialisable, so vitest can hand it to worker processes). */
export interface EnvironmentInfo {
  kubeconfig: string;
  server: string;
  /** This run's folder: server logs, and what test operators write (logs, audit files). Removed at teardown. */
  runDir: string;
  kubectl: string;
  nodeNames: string[];
  /** AWS Secrets Manager (moto), GCP Secret Manager (emulator) and Vault, all on loopback. */
  stores: StoreCoordinates;
  /** Present when the run asked for a real node (containerd and a kubelet on this machine). */
  realNode?: RealNode;
  /** kube-apiserver's audit log (JSON lines), present when the run gave an audit policy. */
  apiServerAuditLog?: string;
}

export interface EnvironmentOptions {
  /** Also start the real node (test/env/node): for the end-to-end suite, not the kwok scenario tests. */
  realNode?: boolean;
  /** OCI archives to import into the real node (the operator's image), built while the rest starts. */
  nodeImages?: (progress: Progress) => Promise<string[]>;
  /**
   * The address moto listens on instead of 127.0.0.1, for an existing cluster whose pods cannot reach this
   * machine's loopback (kind: its Docker network's gateway). Only the kind end-to-end run sets it.
   */
  awsHost?: string;
  /**
   * An audit policy (YAML) for kube-apiserver: the benchmarks that count the operator's requests on the API
   * server's side set it; the test suites leave the audit log off.
   */
  apiServerAuditPolicy?: string;
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

export async function startEnvironment(
  progress: Progress,
  options: EnvironmentOptions = {},
): Promise<Environment> {
  const started = Date.now();
  // Checked before anything starts: a machine that cannot run the node is told what it lacks at once.
  if (options.realNode && process.env.SECRETLINK_TEST_KUBECONFIG) {
    throw new Error(
      'SECRETLINK_TEST_KUBECONFIG is set, but the end-to-end suite runs on a real node of its own; unset it',
    );
  }
  const hostPrograms = options.realNode ? findHostPrograms() : undefined;
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-env-'));
  const supervisor = await ProcessSupervisor.create(runDir);
  let images: Promise<string[]> | undefined;
  try {
    const existing = process.env.SECRETLINK_TEST_KUBECONFIG;
    if (existing) {
      // An existing cluster (kind, say): only the stores start, and kubectl comes from PATH or the cache.
      const [kubectl, stores] = await allStarted(
        process.env.KUBECTL ?? ensureComponent(kubernetes, progress).then((binaries) => binaries.kubectl!),
        startStores(supervisor, progress, Promise.resolve({ kubeconfig: existing }), options.awsHost),
      );
      progress.step(
        `using the existing cluster in ${existing}; stores up in ${formatDuration(Date.now() - started)}`,
      );
      return {
        info: { kubeconfig: existing, server: '', runDir, kubectl, nodeNames: [], stores },
        stop: () => supervisor.stopAll(),
      };
    }

    // The stores start while the control plane does; only Vault's Kubernetes auth waits for the API server.
    const cluster = buildControlPlane(progress).then(async (binaries) => {
      if (hostPrograms) Object.assign(binaries, await ensureComponent(kubelet, progress));
      const controlPlane = await startControlPlane(supervisor, binaries, progress, {
        ...(options.apiServerAuditPolicy ? { auditPolicy: options.apiServerAuditPolicy } : {}),
      });
      return { binaries, controlPlane };
    });
    images = hostPrograms ? (options.nodeImages?.(progress) ?? Promise.resolve([])) : undefined;
    images?.catch(() => undefined);
    const node = cluster.then(({ binaries, controlPlane }) =>
      hostPrograms && images
        ? startRealNode(supervisor, controlPlane, binaries, hostPrograms, images, progress)
        : undefined,
    );
    node.catch(() => undefined);
    const [{ binaries, controlPlane, realNode }, stores] = await allStarted(
      cluster.then(async ({ binaries, controlPlane }) => {
        progress.step(`control plane up in ${formatDuration(Date.now() - started)} (${controlPlane.server})`);
        return { binaries, controlPlane, realNode: await node };
      }),
      startStores(
        supervisor,
        progress,
        cluster.then(({ controlPlane }) => controlPlane),
      ),
    );
    progress.step(`environment up in ${formatDuration(Date.now() - started)}`);
    return {
      info: {
        kubeconfig: controlPlane.kubeconfig,
        server: controlPlane.server,
        runDir,
        kubectl: binaries.kubectl!,
        nodeNames: controlPlane.nodeNames,
        stores,
        ...(realNode ? { realNode } : {}),
        ...(controlPlane.auditLog ? { apiServerAuditLog: controlPlane.auditLog } : {}),
      },
      stop: () => supervisor.stopAll(),
    };
  } catch (error) {
    // A build of the operator's image still running would outlive the run; it cleans up after itself.
    await images?.catch(() => undefined);
    await supervisor.stopAll();
    throw error;
  }
}

/** A control plane of a test's own, apart from the run's: its kubectl, and a stop() that removes everything. */
export interface OwnControlPlane {
  controlPlane: ControlPlane;
  kubectl: string;
  stop(): Promise<void>;
}

/**
 * Starts a second control plane (etcd, kube-apiserver, controller manager, scheduler, kwok) the same way as
 * the run's, on free ports and in a run folder of its own, for a test that stops and restarts its servers
 * while the other tests keep the shared one. The reaper removes it too if the test process dies.
 */
export async function startOwnControlPlane(progress: Progress): Promise<OwnControlPlane> {
  const binaries = await buildControlPlane(progress);
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-plane-'));
  const supervisor = await ProcessSupervisor.create(runDir);
  try {
    const controlPlane = await startControlPlane(supervisor, binaries, progress);
    return { controlPlane, kubectl: binaries.kubectl!, stop: () => supervisor.stopAll() };
  } catch (error) {
    await supervisor.stopAll();
    throw error;
  }
}

/** Like Promise.all, but waits for every start to finish, so nothing is still starting servers at teardown. */
async function allStarted<A, B>(a: A | Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}
