// An ELT Job's pod as a data team would write it, run by real containers on the node: it reads its
// credential from a mounted file and from an environment variable and prints only a SHA-256 fingerprint of
// each, never the value, which the suite compares with the fingerprint of the value it put in the store.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { realNodeLabel } from '../env/node/name.ts';
import { jobImage } from './on-target.ts';

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
      // The real node has no pod network: pods share the host's (see docs/testing.md); so they do on kind.
      hostNetwork: true,
      nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
      containers: [
        {
          name: eltContainer,
          image: jobImage(),
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

/** The fingerprints a container printed, `{ file, env }`, if it printed them. */
export function printedFingerprints(log: string): { file: string; env: string; log: string } | undefined {
  const match = /credential fingerprint: file=([0-9a-f]{64}) env=([0-9a-f]{64})/.exec(log);
  return match ? { file: match[1]!, env: match[2]!, log } : undefined;
}
