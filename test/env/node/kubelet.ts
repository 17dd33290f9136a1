// The kubelet of the real node: joins the run's API server with its own client certificate, runs pods
// through the run's containerd, keeps its pods' cgroups under one cgroup of its own, and serves only on
// 127.0.0.1.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { apiClient } from '../controlplane.ts';
import { freePorts } from '../ports.ts';
import { type ProcessSupervisor, type ServerProcess, waitUntil } from '../processes.ts';
import { realNodeLabel, realNodeName } from './name.ts';

export interface KubeletOptions {
  kubelet: string;
  /** Admin kubeconfig: grants the node its role before it joins. */
  adminKubeconfig: string;
  kubeletKubeconfig: string;
  caCert: string;
  containerdSocket: string;
  runDir: string;
  /** The node's own cgroup (host-changes.ts), under which the kubelet puts every pod's. */
  cgroupName: string;
  /** Where the kubelet writes pods' container logs (inside the run's scanned logs folder). */
  podLogsDir: string;
}

export async function startKubelet(
  supervisor: ProcessSupervisor,
  options: KubeletOptions,
): Promise<ServerProcess> {
  const dir = path.join(options.runDir, 'node', 'kubelet');
  await mkdir(dir, { recursive: true });
  await mkdir(options.podLogsDir, { recursive: true });
  await grantNodeRole(options.adminKubeconfig);

  const [port, healthzPort] = (await freePorts(2)) as [number, number];
  const config = path.join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: '127.0.0.1',
      port,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: options.caCert },
      },
      authorization: { mode: 'Webhook' },
      containerRuntimeEndpoint: `unix://${options.containerdSocket}`,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: `/${options.cgroupName}`,
      // Machines with cgroup v1 (or hybrid) hierarchies are still supported when asked.
      failCgroupV1: false,
      // Leaves the host's iptables alone; nothing here needs the kubelet's chains.
      makeIPTablesUtilChains: false,
      failSwapOn: false,
      podLogsDir: options.podLogsDir,
      // The node's images cannot be pulled again, so the kubelet must never collect them, and a busy
      // shared disk must not evict the run's pods.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      registerNode: true,
      rotateCertificates: false,
      serializeImagePulls: false,
      resolvConf: '/etc/resolv.conf',
    }),
  );
  const server = supervisor.start({
    name: 'kubelet',
    command: options.kubelet,
    args: [
      `--config=${config}`,
      `--kubeconfig=${options.kubeletKubeconfig}`,
      `--root-dir=${dir}`,
      `--cert-dir=${path.join(dir, 'pki')}`,
      `--node-labels=${realNodeLabel.key}=${realNodeLabel.value}`,
      '--v=1',
    ],
  });
  await waitUntil(
    `the kubelet to register node ${realNodeName} as Ready`,
    () => nodeReady(options.adminKubeconfig),
    {
      timeoutMs: 90_000,
      server,
    },
  );
  return server;
}

/** Clusters bind system:node to their nodes through the Node authorizer; this one uses RBAC alone. */
async function grantNodeRole(adminKubeconfig: string): Promise<void> {
  const rbac = apiClient(adminKubeconfig, k8s.RbacAuthorizationV1Api);
  await rbac
    .createClusterRoleBinding({
      body: {
        metadata: { name: 'secretlink-test-nodes' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
      },
    })
    .catch((error: { code?: number }) => (error.code === 409 ? undefined : Promise.reject(error)));
}

async function nodeReady(adminKubeconfig: string): Promise<boolean> {
  const node = await apiClient(adminKubeconfig, k8s.CoreV1Api).readNode({ name: realNodeName });
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
