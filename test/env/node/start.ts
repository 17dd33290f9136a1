// The real node: containerd and a kubelet on this machine, joined to the run's control plane, with the
// local images imported, and the operator's image when asked. kwok's simulated nodes stay for fast scenario
// tests; this node is for what only real containers show (a Job's container reading its Secret, the
// operator running from its image with its ServiceAccount token). Everything it creates lives under the
// run folder or is recorded there, and the supervisor's teardown removes it.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BinaryPaths } from '../build.ts';
import type { ControlPlane } from '../controlplane.ts';
import type { ProcessSupervisor } from '../processes.ts';
import { formatDuration, type Progress } from '../progress.ts';
import { startContainerd } from './containerd.ts';
import type { HostPrograms } from './host.ts';
import { createCgroup, recordHostChanges } from './host-changes.ts';
import { writeNodeImages } from './images.ts';
import { startKubelet } from './kubelet.ts';
import { removeNodeLeftovers } from './leftovers.mjs';
import { realNodeName } from './name.ts';

export interface RealNode {
  name: string;
  /** Containers' logs, as the kubelet writes them (<namespace>_<pod>_<uid>/<container>/<n>.log). */
  podLogsDir: string;
}

export async function startRealNode(
  supervisor: ProcessSupervisor,
  controlPlane: ControlPlane,
  binaries: BinaryPaths,
  programs: HostPrograms,
  /** OCI archives to import besides the node's own images (the operator's image). */
  extraImages: Promise<string[]>,
  progress: Progress,
): Promise<RealNode> {
  const started = Date.now();
  const dir = path.join(supervisor.runDir, 'node');
  await mkdir(dir, { recursive: true });
  const changes = await recordHostChanges(supervisor.runDir);
  supervisor.afterStop(async () => removeNodeLeftovers(supervisor.runDir));
  await createCgroup(changes.cgroupName);

  const containerd = await startContainerd(supervisor, programs, path.join(dir, 'containerd'));
  for (const archive of await writeNodeImages(programs.busybox, path.join(dir, 'images')))
    await containerd.importImage(archive);
  progress.note(`containerd ready, pause and busybox images imported`);

  const podLogsDir = path.join(supervisor.runDir, 'logs', 'pods');
  await startKubelet(supervisor, {
    kubelet: binaries.kubelet!,
    adminKubeconfig: controlPlane.kubeconfig,
    kubeletKubeconfig: controlPlane.kubeletKubeconfig,
    caCert: controlPlane.caCert,
    containerdSocket: containerd.socket,
    runDir: supervisor.runDir,
    cgroupName: changes.cgroupName,
    podLogsDir,
  });
  progress.step(`real node ${realNodeName} Ready in ${formatDuration(Date.now() - started)}`);
  for (const archive of await extraImages) await containerd.importImage(archive);
  return { name: realNodeName, podLogsDir };
}
