// An ELT Job's pod as a data team would write it, run by real containers on the real node: it reads its
// credential from a mounted file and from an environment variable and prints only a SHA-256 fingerprint of
// each, never the value, which the suite compares with the fingerprint of the value it put in the store.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { busyboxImage } from '../env/node/images.ts';
import { realNodeLabel } from '../env/node/name.ts';

export const eltLabels = { app: 'elt' };
export const eltContainer = 'elt';

const script = `set -eu
file=$(sha256sum < /credentials/password | cut -d' ' -f1)
env=$(printf '%s' "$WAREHOUSE_PASSWORD" | sha256sum | cut -d' ' -f1)
echo "credential fingerprint: file=$file env=$env"
sleep "\${HOLD_SECONDS:-0}"`;

/** The pod template; `holdSeconds` keeps the Job (and so its Secret) alive that long after it has read it. */
export function eltPodTemplate(secretName: string, holdSeconds = 0): k8s.V1PodTemplateSpec {
  return {
    metadata: { labels: eltLabels },
    spec: {
      restartPolicy: 'Never',
      // This node has no pod network: pods share the host's (see docs/testing.md).
      hostNetwork: true,
      nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
      containers: [
        {
          name: eltContainer,
          image: busyboxImage,
          imagePullPolicy: 'Never',
          command: ['/bin/sh', '-c', script],
          env: [
            { name: 'HOLD_SECONDS', value: String(holdSeconds) },
            {
              name: 'WAREHOUSE_PASSWORD',
              valueFrom: { secretKeyRef: { name: secretName, key: 'password' } },
            },
          ],
          volumeMounts: [{ name: 'credentials', mountPath: '/credentials', readOnly: true }],
        },
      ],
      volumes: [{ name: 'credentials', secret: { secretName } }],
    },
  };
}

export function fingerprintOf(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** What the container printed, read from the kubelet's log folder: `{ file, env }` fingerprints, if printed. */
export async function printedFingerprints(
  podLogsDir: string,
  pod: k8s.V1Pod,
): Promise<{ file: string; env: string; log: string } | undefined> {
  const prefix = `${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`;
  const folders = (await readdir(podLogsDir)).filter((name) => name === prefix);
  if (folders.length === 0) return undefined;
  const dir = path.join(podLogsDir, folders[0]!, eltContainer);
  let log = '';
  for (const file of (await readdir(dir)).sort()) log += await readFile(path.join(dir, file), 'utf8');
  const match = /credential fingerprint: file=([0-9a-f]{64}) env=([0-9a-f]{64})/.exec(log);
  return match ? { file: match[1]!, env: match[2]!, log } : undefined;
}
