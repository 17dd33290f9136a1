// What every user of the environment installs first: secretlink's CRDs, applied from crds/ and waited on
// until the API server serves them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from './components.ts';
import type { EnvironmentInfo } from './environment.ts';

const exec = promisify(execFile);

/** The operator's own namespace (its Lease, its fingerprint key), as the install manifests name it. */
export const operatorNamespace = 'secretlink-system';

/** Runs the environment's kubectl against its cluster, from the repository root. */
export function environmentKubectl(info: Pick<EnvironmentInfo, 'kubectl' | 'kubeconfig'>) {
  return (...args: string[]) =>
    exec(info.kubectl, ['--kubeconfig', info.kubeconfig, ...args], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
}

export async function installCrds(info: Pick<EnvironmentInfo, 'kubectl' | 'kubeconfig'>): Promise<void> {
  const kubectl = environmentKubectl(info);
  await kubectl('apply', '--server-side', '--force-conflicts', '-f', 'crds/');
  await kubectl(
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd',
    '-l',
    'app.kubernetes.io/part-of=secretlink',
  );
}
