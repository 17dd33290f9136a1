// The few things the end-to-end suite does differently on the real node and on kind (see target.ts): which
// node pods run on and with which Job image, how a container's log is read, and how the operator's audit
// folder is made and read back. The real node is this machine, so its folders are read directly; a kind node
// is a Docker container, reached through the API server or `docker exec`.
import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { inject } from 'vitest';
import { busyboxImage } from '../env/node/images.ts';
import { api, environment } from '../support/cluster.ts';
import { type E2eTarget, kindAuditDir } from './target.ts';

const exec = promisify(execFile);

/** The image's user (Dockerfile `USER 65532:65532`), who must be able to write the audit folder. */
export const imageUser = 65532;

export function target(): E2eTarget {
  return inject('e2eTarget');
}

export function targetNodeName(): string {
  const chosen = target();
  return chosen.name === 'kind' ? chosen.node : environment().realNode!.name;
}

export function jobImage(): string {
  const chosen = target();
  return chosen.name === 'kind' ? chosen.jobImage : busyboxImage;
}

/** A container's log so far, or undefined when there is none yet. */
export async function containerLog(pod: k8s.V1Pod, container: string): Promise<string | undefined> {
  const { namespace, name, uid } = pod.metadata!;
  if (target().name === 'kind') {
    return api(k8s.CoreV1Api).readNamespacedPodLog({ namespace: namespace!, name: name!, container });
  }
  // The real node's API server cannot reach its kubelet by the host name; the kubelet's folder is local.
  const dir = path.join(environment().realNode!.podLogsDir, `${namespace}_${name}_${uid}`, container);
  const files = await readdir(dir).catch(() => undefined);
  if (!files) return undefined;
  let log = '';
  for (const file of files.sort()) log += await readFile(path.join(dir, file), 'utf8');
  return log;
}

/** Makes the operator's audit folder on the node, writable by the image's user only. */
export async function prepareAuditDir(chosen: E2eTarget, auditDirOnHost: string): Promise<void> {
  await mkdir(auditDirOnHost, { recursive: true, mode: 0o700 });
  if (chosen.name === 'real-node') {
    await chown(auditDirOnHost, imageUser, imageUser);
    return;
  }
  const user = String(imageUser);
  await exec('docker', [
    'exec',
    chosen.node,
    'install',
    '-d',
    '-m',
    '0700',
    '-o',
    user,
    '-g',
    user,
    kindAuditDir,
  ]);
}

/**
 * Brings the audit file the operator wrote to where the host checks it: on kind, a copy in the run folder
 * (the end-of-run check verifies it there too); on the real node it is already there.
 */
export async function collectAuditFile(chosen: E2eTarget, auditFileOnHost: string): Promise<void> {
  if (chosen.name === 'real-node') return;
  const { stdout } = await exec(
    'docker',
    ['exec', chosen.node, 'cat', path.posix.join(kindAuditDir, path.basename(auditFileOnHost))],
    { maxBuffer: 64 << 20 },
  );
  await writeFile(auditFileOnHost, stdout, { mode: 0o600 });
}
