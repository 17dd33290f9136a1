// Brings up a real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, and kwok playing the kubelet for simulated nodes.
import fs from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { BinaryPaths } from './build.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { createClusterPki } from './pki.ts';
import { freePorts } from './ports.ts';
import { type ProcessSupervisor, type ServerProcess, waitUntil } from './processes.ts';
import type { Progress } from './progress.ts';

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin (system:masters) kubeconfig for tests and the demo. */
  kubeconfig: string;
  caCert: string;
  etcdUrl: string;
  serviceAccountIssuer: string;
  nodeNames: string[];
  /** For the real node's kubelet (system:node:<name>); used only when a run starts one. */
  kubeletKubeconfig: string;
  /** The API server's audit log (JSON lines), when it was started with an audit policy. */
  auditLog?: string;
  /**
   * Stops one server of the control plane (SIGTERM, as a node shutting it down would), keeping its data and
   * ports; the others keep running. Only for a control plane of a test's own: the shared one stays up.
   */
  stopServer(name: RestartableServer): Promise<void>;
  /** Starts a stopped server again with the same flags, data and port, and waits until it is ready. */
  startServer(name: RestartableServer): Promise<void>;
}

export type RestartableServer = 'etcd' | 'kube-apiserver';

export const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';
export const simulatedNodeCount = 2;
const kwokNodeAnnotation = 'kwok.x-k8s.io/node';

export interface ControlPlaneOptions {
  /**
   * An audit policy (YAML) for kube-apiserver, which then logs the requests it selects as JSON lines to
   * ControlPlane.auditLog. For benchmarks that count requests on the API server's side; tests run without.
   */
  auditPolicy?: string;
}

export async function startControlPlane(
  supervisor: ProcessSupervisor,
  binaries: BinaryPaths,
  progress: Progress,
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const dir = path.join(supervisor.runDir, 'control-plane');
  await fs.mkdir(dir, { recursive: true });
  const auditLog = options.auditPolicy ? path.join(dir, 'audit.log') : undefined;
  const auditArgs: string[] = [];
  if (options.auditPolicy && auditLog) {
    const policyFile = path.join(dir, 'audit-policy.yaml');
    await fs.writeFile(policyFile, options.auditPolicy);
    // Batching would let events of a window's last seconds land after it is read; rotation (100 MB by default)
    // would move its first ones to another file.
    auditArgs.push(
      `--audit-policy-file=${policyFile}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
      '--audit-log-maxsize=4096',
    );
  }
  const pki = await createClusterPki(path.join(dir, 'pki'));
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const server = `https://127.0.0.1:${apiPort}`;
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;

  let etcd = supervisor.start({
    name: 'etcd',
    command: binaries.etcd!,
    args: [
      '--name=secretlink-test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=secretlink-test=http://127.0.0.1:${etcdPeer}`,
      // A throwaway cluster: durability costs seconds per test run and buys nothing.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  });
  const etcdReady = () =>
    waitUntil('etcd to report healthy', async () => (await fetch(`${etcdUrl}/health`)).ok, {
      timeoutMs: 30_000,
      server: etcd,
    });
  await etcdReady();
  progress.note(`etcd ready on ${etcdUrl}`);

  let apiServer = supervisor.start({
    name: 'kube-apiserver',
    command: binaries['kube-apiserver']!,
    args: [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.apiServer.cert}`,
      `--tls-private-key-file=${pki.apiServer.key}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      `--service-account-issuer=${serviceAccountIssuer}`,
      `--api-audiences=${serviceAccountIssuer}`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--profiling=false',
      '--endpoint-reconciler-type=none',
      ...auditArgs,
    ],
  });
  const adminCredentials = pki.clients.admin!;
  const apiServerReady = () =>
    waitUntil('kube-apiserver /readyz', () => httpsOk(`${server}/readyz`, pki.caCert, adminCredentials), {
      timeoutMs: 60_000,
      server: apiServer,
    });
  await apiServerReady();
  progress.note(`kube-apiserver ready on ${server}`);

  const kubeconfigFor = async (identity: string) => {
    const file = path.join(dir, `${identity}.kubeconfig`);
    await writeKubeconfig(file, server, pki.caCert, identity, pki.clients[identity]!);
    return file;
  };
  const kubeconfig = await kubeconfigFor('admin');

  const controllerManager = supervisor.start({
    name: 'kube-controller-manager',
    command: binaries['kube-controller-manager']!,
    args: [
      `--kubeconfig=${await kubeconfigFor('kube-controller-manager')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${path.join(dir, 'kcm-certs')}`,
      // Each controller acts as its own ServiceAccount, so Job pods are created by
      // system:serviceaccount:kube-system:job-controller, as on a real cluster.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--leader-elect=false',
      '--controllers=*,-nodeipam,-service-lb-controller,-route,-cloud-node-lifecycle',
    ],
  });
  const scheduler = supervisor.start({
    name: 'kube-scheduler',
    command: binaries['kube-scheduler']!,
    args: [
      `--kubeconfig=${await kubeconfigFor('kube-scheduler')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      '--leader-elect=false',
    ],
  });
  const kwok = supervisor.start({
    name: 'kwok',
    command: binaries.kwok!,
    args: [
      `--kubeconfig=${await kubeconfigFor('kwok')}`,
      `--config=${path.join(import.meta.dirname, 'kwok', 'stages.yaml')}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
      '--cidr=10.244.0.0/16',
      '--node-ip=10.0.0.2',
    ],
    // kwok reads ~/.kwok when no config is given; keep it inside the run folder.
    env: { ...process.env, HOME: dir },
  });

  const nodeNames = await createSimulatedNodes(kubeconfig);
  await waitForClusterServices(kubeconfig, nodeNames, { controllerManager, scheduler, kwok });
  progress.note(`controller manager, scheduler and ${nodeNames.length} kwok nodes ready`);

  return {
    server,
    kubeconfig,
    caCert: pki.caCert,
    etcdUrl,
    serviceAccountIssuer,
    nodeNames,
    kubeletKubeconfig: await kubeconfigFor('kubelet'),
    ...(auditLog ? { auditLog } : {}),
    stopServer: (name) => supervisor.stop(name === 'etcd' ? etcd : apiServer),
    startServer: async (name) => {
      if (name === 'etcd') {
        etcd = supervisor.startAgain(etcd);
        await etcdReady();
      } else {
        apiServer = supervisor.startAgain(apiServer);
        await apiServerReady();
      }
    },
  };
}

async function createSimulatedNodes(kubeconfig: string): Promise<string[]> {
  const core = apiClient(kubeconfig, k8s.CoreV1Api);
  const names = Array.from({ length: simulatedNodeCount }, (_, index) => `kwok-node-${index}`);
  for (const name of names) {
    await core.createNode({
      body: {
        metadata: {
          name,
          annotations: { [kwokNodeAnnotation]: 'fake' },
          labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'kwok' },
        },
      },
    });
  }
  return names;
}

async function waitForClusterServices(
  kubeconfig: string,
  nodeNames: string[],
  servers: Record<'controllerManager' | 'scheduler' | 'kwok', ServerProcess>,
): Promise<void> {
  const core = apiClient(kubeconfig, k8s.CoreV1Api);
  const nodesReady = async () => {
    const nodes = await core.listNode();
    const ready = nodes.items.filter((node) =>
      node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'),
    );
    return ready.length === nodeNames.length;
  };
  // The ServiceAccount controller runs inside kube-controller-manager; pods cannot be admitted before it.
  const defaultServiceAccount = async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
    return true;
  };
  await Promise.all([
    waitUntil('kwok to mark the simulated nodes Ready', nodesReady, {
      timeoutMs: 60_000,
      server: servers.kwok,
    }),
    waitUntil('kube-controller-manager to create the default ServiceAccount', defaultServiceAccount, {
      timeoutMs: 60_000,
      server: servers.controllerManager,
    }),
  ]);
  // The scheduler has no readiness signal of its own worth waiting for; pods being bound proves it later.
  if (servers.scheduler.exitCode() !== undefined) {
    throw new Error(`kube-scheduler exited during start-up:\n${servers.scheduler.logTail()}`);
  }
}

export function apiClient<T extends k8s.ApiType>(kubeconfig: string, api: k8s.ApiConstructor<T>): T {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  return config.makeApiClient(api);
}

function httpsOk(url: string, caCert: string, client: { cert: string; key: string }): Promise<boolean> {
  return Promise.all([fs.readFile(caCert), fs.readFile(client.cert), fs.readFile(client.key)]).then(
    ([ca, cert, key]) =>
      new Promise((resolve, reject) => {
        https
          .get(url, { ca, cert, key, timeout: 2000 }, (response) => {
            response.resume();
            resolve(response.statusCode === 200);
          })
          .on('error', reject);
      }),
  );
}
