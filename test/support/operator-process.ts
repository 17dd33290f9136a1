// The operator as its container runs it (node src/main.ts with flags), as a child process a test can kill with
// any signal, acting as its own ServiceAccount (config/rbac) and reaching the API server through a proxy the
// test controls (test/env/api-proxy.ts). Its signed audit file goes into the run folder's audit folder with its
// public key beside it, so the end-of-run check verifies the chain; its log goes with the run's other logs.
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { type ApiProxy, startApiProxy } from '../env/api-proxy.ts';
import { repoRoot } from '../env/components.ts';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig, writeKubeConfig } from '../env/operator-identity.ts';
import { freePort } from '../env/ports.ts';
import { environment, kubeConfig } from './cluster.ts';

export interface OperatorProcess {
  pid: number;
  probeAddress: string;
  /** Resolves with the exit code or signal once the process ended. */
  exited: Promise<string>;
  signal(signal: NodeJS.Signals): void;
  /** /readyz answers 200. */
  ready(): Promise<boolean>;
}

/** One replica's identity, audit chain and route to the API server; each `start` runs it again. */
export interface Replica {
  identity: string;
  auditFile: string;
  auditPublicKey: KeyObject;
  proxy: ApiProxy;
  start(): Promise<OperatorProcess>;
  /** Ends every process this replica started that still runs (SIGKILL), and closes its proxy. */
  dispose(): Promise<void>;
}

/** Sets up a replica: RBAC, a token kubeconfig that points at a fresh proxy, signing keys, folders. */
export async function prepareReplica(options: {
  identity: string;
  namespaces: string[];
  leaseName: string;
  leaseDurationSeconds?: number;
}): Promise<Replica> {
  const info = environment();
  await installOperatorRbac(info);
  const admin = kubeConfig();
  const cluster = admin.getCurrentCluster()!;
  const ca = cluster.caData
    ? Buffer.from(cluster.caData, 'base64')
    : (await import('node:fs/promises')).readFile(cluster.caFile!);
  const proxy = await startApiProxy({ server: cluster.server, ca: await ca });
  const asOperator = await operatorKubeConfig(info, { expirationSeconds: 3600 });
  // Plain HTTP on loopback: the client accepts an http:// server only with skipTLSVerify set (no TLS to skip).
  const throughProxy = new k8s.KubeConfig();
  throughProxy.loadFromOptions({
    clusters: [{ name: 'proxy', server: proxy.url, skipTLSVerify: true }],
    users: [asOperator.getCurrentUser()!],
    contexts: [{ name: 'proxy', cluster: 'proxy', user: asOperator.getCurrentUser()!.name }],
    currentContext: 'proxy',
  });
  const folder = path.join(info.runDir, 'replicas', options.identity);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const kubeconfigFile = path.join(folder, 'kubeconfig');
  await writeKubeConfig(throughProxy, kubeconfigFile);
  const keys = generateKeyPairSync('ed25519');
  const signingKeyFile = path.join(folder, 'signing-key.pem');
  writeFileSync(signingKeyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const auditDir = path.join(info.runDir, runLayout.audit);
  mkdirSync(auditDir, { recursive: true });
  const auditFile = path.join(auditDir, `${options.identity}.jsonl`);
  writeFileSync(`${auditFile}.pub.pem`, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const logs = path.join(info.runDir, 'logs');
  mkdirSync(logs, { recursive: true });

  const children: ChildProcess[] = [];
  let runs = 0;
  return {
    identity: options.identity,
    auditFile,
    auditPublicKey: keys.publicKey,
    proxy,
    start: async () => {
      runs += 1;
      const probeAddress = `127.0.0.1:${await freePort()}`;
      const log = openSync(path.join(logs, `operator-${options.identity}-${runs}.log`), 'a');
      const child = spawn(
        process.execPath,
        [
          path.join(repoRoot, 'src', 'main.ts'),
          `--namespaces=${options.namespaces.join(',')}`,
          `--operator-namespace=${operatorNamespace}`,
          `--identity=${options.identity}`,
          `--lease-name=${options.leaseName}`,
          `--lease-duration=${options.leaseDurationSeconds ?? 4}`,
          `--probe-address=${probeAddress}`,
          `--audit-file=${auditFile}`,
          `--audit-signing-key-file=${signingKeyFile}`,
          '--refresh-jitter=0',
          '--log-level=debug',
        ],
        { cwd: repoRoot, env: { ...process.env, KUBECONFIG: kubeconfigFile }, stdio: ['ignore', log, log] },
      );
      children.push(child);
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(signal ?? String(code))),
      );
      return {
        pid: child.pid!,
        probeAddress,
        exited,
        signal: (signal) => void child.kill(signal),
        ready: async () =>
          fetch(`http://${probeAddress}/readyz`).then(
            (answer) => answer.ok,
            () => false,
          ),
      };
    },
    dispose: async () => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGCONT');
          child.kill('SIGKILL');
          await new Promise((resolve) => child.once('exit', resolve));
        }
      }
      await proxy.close();
    },
  };
}
