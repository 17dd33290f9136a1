// `make kind-e2e`, decided without running anything: the pinned kind and node image, the cluster's config,
// what a machine lacks, which image the Dockerfile builds on, the address of this machine that the kind node
// reaches, and the variables that point the end-to-end suite at the cluster (test/e2e/target.ts).
import { stringify } from 'yaml';
import { kindVariables, targetVariable } from '../e2e/target.ts';
import { realNodeLabel } from '../env/node/name.ts';

/** kind's release, and the Kubernetes 1.36 node image built for it (its release notes list the digest). */
export const kindVersion = 'v0.33.0';
export const kindNodeImage =
  'kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed';
export const defaultClusterName = 'secretlink-e2e';
/** The Docker network kind puts its nodes on. */
export const kindNetwork = 'kind';

/**
 * One node that runs everything, labelled like the real node so the suite's pods select it. The control
 * plane needs nothing beyond kubeadm's defaults: the local one passes no feature gates or admission
 * configuration either, and both issue ServiceAccount tokens as https://kubernetes.default.svc.cluster.local.
 */
export function kindClusterConfig(): string {
  return stringify({
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    nodes: [{ role: 'control-plane', labels: { [realNodeLabel.key]: realNodeLabel.value } }],
  });
}

export interface ToolsFound {
  docker: boolean;
  /** `docker info` answered: the daemon runs and this user may use it. */
  dockerDaemon: boolean;
  kind: boolean;
  go: boolean;
}

/** Everything missing, in one message, with how to get it; undefined when the run can start. */
export function missingTools(found: ToolsFound): string | undefined {
  const missing: string[] = [];
  if (!found.docker) missing.push('docker is not on PATH (install Docker Engine or Docker Desktop)');
  else if (!found.dockerDaemon)
    missing.push(
      'docker is installed but `docker info` fails: start the daemon, or add yourself to the docker group',
    );
  if (!found.kind && !found.go)
    missing.push(
      'kind is not on PATH, and go is not either to build it ' +
        `(\`go install sigs.k8s.io/kind@${kindVersion}\`); ` +
        `install kind ${kindVersion} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) or Go`,
    );
  if (missing.length === 0) return undefined;
  return (
    `make kind-e2e cannot run on this machine:\n  ${missing.join('\n  ')}\n` +
    'The end-to-end suite without Docker: make test-e2e (a real node on this machine, as root).'
  );
}

/** The default of the Dockerfile's `ARG NODE_IMAGE`: the public base the operator's image builds on. */
export function dockerfileBaseImage(dockerfile: string): string {
  const match = /^ARG NODE_IMAGE=(\S+)\s*$/m.exec(dockerfile);
  if (!match) throw new Error('the Dockerfile has no `ARG NODE_IMAGE=<image>` line');
  return match[1]!;
}

/** The IPv4 gateway of kind's Docker network, from `docker network inspect kind -f '{{json .IPAM.Config}}'`. */
export function networkGateway(ipamConfigJson: string): string {
  const configs = JSON.parse(ipamConfigJson) as { Subnet?: string; Gateway?: string }[] | null;
  const gateway = (configs ?? []).map((config) => config.Gateway).find((address) => address?.includes('.'));
  if (!gateway) {
    throw new Error(
      `the Docker network "${kindNetwork}" has no IPv4 gateway, where the kind node would reach the stores`,
    );
  }
  return gateway;
}

/** The variables that select the kind target for the end-to-end suite. */
export function suiteVariables(run: {
  kubeconfig: string;
  cluster: string;
  kind: string;
  storeAddress: string;
  jobImage: string;
}): Record<string, string> {
  return {
    [targetVariable]: 'kind',
    [kindVariables.kubeconfig]: run.kubeconfig,
    [kindVariables.cluster]: run.cluster,
    [kindVariables.kind]: run.kind,
    [kindVariables.storeAddress]: run.storeAddress,
    [kindVariables.jobImage]: run.jobImage,
  };
}
