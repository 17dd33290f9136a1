// The end-to-end project's environment: the same control plane and stores as the integration project,
// plus the real node (containerd and a kubelet on this machine) with the operator's image, built from the
// Dockerfile, imported into it. The end-of-run checks are the same: the canary scan (which also reads the
// kubelet's, containerd's and every container's logs, all under <run folder>/logs) and the audit chains.
import type { TestProject } from 'vitest/node';
import { setupEnvironment } from '../env/global-setup.ts';
import { ensureOperatorImage } from '../env/image/operator-image.ts';
import { findHostPrograms } from '../env/node/host.ts';

export default function setup(project: TestProject) {
  return setupEnvironment(project, {
    realNode: true,
    nodeImages: async (progress) => [await ensureOperatorImage(findHostPrograms(), progress)],
  });
}
