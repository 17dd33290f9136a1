// Where the end-to-end suite runs: the real node this machine starts (the default), or a kind cluster that
// `make kind-e2e` created on a Docker machine. Every test is the same on both; what differs between them is
// decided here, from the environment, once per run (the global setup hands the choice to the test files).
import { isIP } from 'node:net';
import { isLoopbackHost } from '../../src/providers/validation.ts';

export const targetVariable = 'SECRETLINK_E2E_TARGET';

/** What `make kind-e2e` sets for the suite (test/kind/cli.ts). */
export const kindVariables = {
  /** The kind cluster's admin kubeconfig; the environment uses it instead of starting a control plane. */
  kubeconfig: 'SECRETLINK_TEST_KUBECONFIG',
  cluster: 'SECRETLINK_KIND_CLUSTER',
  /** The kind program, for `kind export logs` before the end-of-run scan. */
  kind: 'SECRETLINK_KIND',
  /** An address of this machine that the kind node reaches: its Docker network's gateway. */
  storeAddress: 'SECRETLINK_KIND_STORE_ADDRESS',
  /** The image Job containers run (it needs sh, sha256sum, cut and sleep), loaded into the node. */
  jobImage: 'SECRETLINK_KIND_JOB_IMAGE',
} as const;

export type E2eTarget =
  | { name: 'real-node' }
  | {
      name: 'kind';
      cluster: string;
      kind: string;
      /** The node's name, which is also its Docker container's. */
      node: string;
      storeAddress: string;
      jobImage: string;
    };

declare module 'vitest' {
  export interface ProvidedContext {
    e2eTarget: E2eTarget;
  }
}

/** Inside a kind node, the API server listens here; a hostNetwork pod reaches it on 127.0.0.1. */
export const kindApiServerPort = 6443;
/** The operator's audit folder on the kind node (a hostPath, created for the image's user). */
export const kindAuditDir = '/var/lib/secretlink-e2e/audit';

export class E2eTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'E2eTargetError';
  }
}

/** Reads the choice; kind must be asked for by name and comes with every value it needs, or none is used. */
export function e2eTargetFrom(env: Record<string, string | undefined>): E2eTarget {
  const name = env[targetVariable] ?? 'real-node';
  if (name === 'real-node') return { name };
  if (name !== 'kind') {
    throw new E2eTargetError(
      `${targetVariable}=${name} is not a target: use real-node (the default) or kind`,
    );
  }
  const missing = Object.values(kindVariables).filter((variable) => !env[variable]);
  if (missing.length > 0) {
    throw new E2eTargetError(
      `${targetVariable}=kind needs ${missing.join(', ')}; ` +
        '`make kind-e2e` sets them for the cluster it creates',
    );
  }
  const storeAddress = env[kindVariables.storeAddress]!;
  // The stores listen here instead of loopback: one address the node reaches, never every interface.
  if (isIP(storeAddress) === 0 || /^(0\.0\.0\.0|::)$/.test(storeAddress) || isLoopbackHost(storeAddress)) {
    throw new E2eTargetError(
      `${kindVariables.storeAddress}=${storeAddress} must be one IP address of this machine that the kind ` +
        'node reaches (the gateway of its Docker network), not loopback and not every interface',
    );
  }
  const cluster = env[kindVariables.cluster]!;
  return {
    name: 'kind',
    cluster,
    kind: env[kindVariables.kind]!,
    node: `${cluster}-control-plane`,
    storeAddress,
    jobImage: env[kindVariables.jobImage]!,
  };
}

/**
 * Where the operator pod, on the node's host network, finds the API server and keeps its audit folder. The
 * real node shares this machine's loopback and folders; a kind node is a container with its own.
 */
export function operatorPlacement(
  target: E2eTarget,
  run: { server: string; auditDir: string },
): { apiServerPort: string; auditDirOnNode: string } {
  return target.name === 'kind'
    ? { apiServerPort: String(kindApiServerPort), auditDirOnNode: kindAuditDir }
    : { apiServerPort: new URL(run.server).port, auditDirOnNode: run.auditDir };
}

/** A store's http endpoint off loopback (kind's bridge) must be allowed explicitly, as a user's must. */
export function insecureHttpSetting(endpoint: string): { allowInsecureHttp?: true } {
  return isLoopbackHost(new URL(endpoint).hostname) ? {} : { allowInsecureHttp: true };
}
