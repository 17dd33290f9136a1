// Everything a test run needs, built or verified in three lanes at once, so that one lane's downloads overlap
// another's compiling on a cold machine (measured in docs/testing.md, "A first run"). Within a lane the order
// matters: kwok, the kubelet and helm are pinned to the Kubernetes modules kube-apiserver builds with, so they
// follow it in one lane and find most of their packages already compiled in the Go build cache.
import { ensureComponent } from './build.ts';
import {
  argocdHealth,
  etcd,
  externalSecrets,
  helm,
  kstatus,
  kubeconform,
  kubelet,
  kubernetes,
  kwok,
} from './components.ts';
import { ensureOperatorImage } from './image/operator-image.ts';
import { findHostPrograms } from './node/host.ts';
import { formatDuration, type Progress } from './progress.ts';
import { buildGcpEmulator, installStoreServers } from './stores/start.ts';

export interface BuildScope {
  /** Also the real node's kubelet and the operator's image (the end-to-end project). */
  realNode: boolean;
  /** Also External Secrets Operator, for the side-by-side benchmark only (bench/eso.ts); never for tests. */
  externalSecrets?: boolean;
}

export async function buildEverything(progress: Progress, scope: BuildScope): Promise<void> {
  // Fails before any build starts when the machine cannot run a real node, naming what is missing.
  const hostPrograms = scope.realNode ? findHostPrograms() : undefined;
  const started = Date.now();
  const kubernetesLane = async () => {
    await ensureComponent(kubernetes, progress);
    if (scope.realNode) await ensureComponent(kubelet, progress);
    await ensureComponent(kwok, progress);
    await ensureComponent(helm, progress);
  };
  const toolsLane = async () => {
    // The unit project's offline CRD check uses kubeconform; the shipping tests the Argo CD health
    // interpreter and kstatus (test/integration/health).
    await ensureComponent(etcd, progress);
    await buildGcpEmulator(progress);
    for (const component of [kubeconform, argocdHealth, kstatus]) await ensureComponent(component, progress);
    if (scope.externalSecrets) await ensureComponent(externalSecrets, progress);
  };
  const downloadsLane = async () => {
    await installStoreServers(progress);
    if (hostPrograms) await ensureOperatorImage(hostPrograms, progress);
  };
  await allLanes([kubernetesLane(), toolsLane(), downloadsLane()]);
  progress.step(`everything is ready (${formatDuration(Date.now() - started)})`);
}

/** Waits for every lane, so no build is left running behind a failure, then reports the first failure. */
async function allLanes(lanes: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(lanes);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
