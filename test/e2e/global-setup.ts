// The end-to-end project's environment. On the real node (the default): the same control plane and stores as
// the integration project, plus containerd and a kubelet on this machine with the operator's image, built
// from the Dockerfile, imported into it. On kind (`make kind-e2e`, see target.ts): the kind cluster instead
// of a control plane, with moto listening where the kind node reaches it. The end-of-run checks are the same:
// the canary scan (which also reads the kubelet's, containerd's and every container's logs, all under
// <run folder>/logs) and the audit chains.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { setupEnvironment } from '../env/global-setup.ts';
import { ensureOperatorImage } from '../env/image/operator-image.ts';
import { findHostPrograms } from '../env/node/host.ts';
import { e2eTargetFrom } from './target.ts';

const exec = promisify(execFile);

export default function setup(project: TestProject) {
  const target = e2eTargetFrom(process.env);
  project.provide('e2eTarget', target);
  if (target.name === 'real-node') {
    return setupEnvironment(project, {
      realNode: true,
      nodeImages: async (progress) => [await ensureOperatorImage(findHostPrograms(), progress)],
    });
  }
  return setupEnvironment(project, { awsHost: target.storeAddress }, (runDir) =>
    exportNodeLogs(target.kind, target.cluster, path.join(runDir, runLayout.logs, 'kind')),
  );
}

/** kind's node logs (kubelet, containerd, every container's) into the run folder, for the canary scan. */
async function exportNodeLogs(kind: string, cluster: string, dir: string): Promise<void> {
  await exec(kind, ['export', 'logs', dir, '--name', cluster], { maxBuffer: 16 << 20 });
}
