// Installs the operator the way the README says, `kubectl apply -k`, from config/default through the test
// overlay (test/e2e/overlay), with this run's values filled in: the API server's port as the pod sees it
// on 127.0.0.1 (the real node's run port, or kind's 6443 inside its node), a free probe port on the host
// network, and the audit folder on the node, whose file the suite verifies with the public key written
// beside it.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../env/components.ts';
import type { EnvironmentInfo } from '../env/environment.ts';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { operatorNamespace } from '../env/install.ts';
import { freePort } from '../env/ports.ts';
import { prepareAuditDir } from './on-target.ts';
import { type E2eTarget, operatorPlacement } from './target.ts';

const exec = promisify(execFile);

export const operatorStatefulSet = 'secretlink-operator';

export interface InstalledOperator {
  /** The audit file as the host sees it (on kind: where the suite copies it), and the key that verifies it. */
  auditFile: string;
  auditPublicKey: KeyObject;
  probeAddress: string;
}

export async function installOperator(info: EnvironmentInfo, target: E2eTarget): Promise<InstalledOperator> {
  const kubectl = (...args: string[]) =>
    exec(info.kubectl, ['--kubeconfig', info.kubeconfig, ...args], { cwd: repoRoot, maxBuffer: 64 << 20 });
  const auditDir = path.join(info.runDir, runLayout.audit);
  await prepareAuditDir(target, auditDir);
  const placement = operatorPlacement(target, { server: info.server, auditDir });
  const probeAddress = `127.0.0.1:${await freePort()}`;

  const { stdout } = await kubectl('kustomize', 'test/e2e/overlay');
  const objects = parseAllDocuments(stdout).map((document) => document.toJS() as k8s.KubernetesObject);
  const statefulSet = objects.find((object) => object.kind === 'StatefulSet') as k8s.V1StatefulSet;
  fillRunValues(statefulSet, { ...placement, probeAddress });

  // The namespace and the audit signing key first: without the key the operator exits at start.
  const namespace = objects.filter((object) => object.kind === 'Namespace');
  await applyObjects(kubectl, info.runDir, 'namespace', namespace);
  const keys = generateKeyPairSync('ed25519');
  const auditFile = path.join(auditDir, 'audit.jsonl');
  await writeFile(`${auditFile}.pub.pem`, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(info.kubeconfig);
  await admin.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace: operatorNamespace,
    body: {
      metadata: { name: 'secretlink-audit-signing-key' },
      stringData: { 'private.pem': keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
    },
  });
  await applyObjects(kubectl, info.runDir, 'operator', objects);
  return { auditFile, auditPublicKey: keys.publicKey, probeAddress };
}

function fillRunValues(
  statefulSet: k8s.V1StatefulSet,
  values: { apiServerPort: string; probeAddress: string; auditDirOnNode: string },
): void {
  const pod = statefulSet.spec!.template.spec!;
  const container = pod.containers[0]!;
  for (const variable of container.env ?? [])
    if (variable.name === 'KUBERNETES_SERVICE_PORT') variable.value = values.apiServerPort;
  const port = Number(values.probeAddress.split(':')[1]);
  container.args = [...(container.args ?? []), `--probe-address=${values.probeAddress}`];
  container.ports = [{ name: 'probes', containerPort: port }];
  // On the host network the pod's IP is the host's; the operator listens on loopback only.
  for (const probe of [container.livenessProbe, container.readinessProbe])
    if (probe?.httpGet) probe.httpGet.host = '127.0.0.1';
  for (const volume of pod.volumes ?? []) if (volume.hostPath) volume.hostPath.path = values.auditDirOnNode;
}

async function applyObjects(
  kubectl: (...args: string[]) => Promise<unknown>,
  runDir: string,
  name: string,
  objects: k8s.KubernetesObject[],
): Promise<void> {
  const file = path.join(runDir, `e2e-${name}.yaml`);
  await writeFile(file, objects.map((object) => stringify(object)).join('---\n'));
  await kubectl('apply', '--server-side', '--force-conflicts', '-f', file);
}
