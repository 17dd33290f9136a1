// One copy-pasteable line that points a terminal's kubectl at the environment: KUBECONFIG, and the
// environment's own kubectl first on PATH (the run folder's bin/), so no long paths are typed.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EnvironmentInfo } from './environment.ts';

export async function kubectlShortcut(
  info: Pick<EnvironmentInfo, 'kubectl' | 'kubeconfig' | 'runDir'>,
): Promise<string> {
  const bin = path.join(info.runDir, 'bin');
  await fs.mkdir(bin, { recursive: true });
  await fs.rm(path.join(bin, 'kubectl'), { force: true });
  await fs.symlink(info.kubectl, path.join(bin, 'kubectl'));
  return `export KUBECONFIG=${info.kubeconfig} PATH=${bin}:$PATH`;
}
