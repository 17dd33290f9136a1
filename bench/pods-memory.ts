// What watching pods costs the operator's heap: N pods shaped like the Job pods kwok and a kubelet produce
// (metadata with managedFields, a spec with env, volumes and a service-account token, a status), held as a
// plain informer would hold them (decoded V1Pods) and as the operator does (cut down by slimPod, plus the
// PodIndex). In-process and without an API server: it measures what is kept, not the watch itself.
// Usage: node --expose-gc bench/pods-memory.ts [--pods=10000]
import type { KubernetesObject } from '@kubernetes/client-node';
import { PodIndex, type PodSecretUse, slimPod } from '../src/controller/pod-index.ts';
import { decodeObject, type ResourceKind } from '../src/runtime/resource-list.ts';

const count = Number(process.argv.find((a) => a.startsWith('--pods='))?.split('=')[1] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const fullKind: ResourceKind = {
  apiVersion: 'v1',
  kind: 'Pod',
  plural: 'pods',
  namespaced: true,
  model: 'V1Pod',
};
const slimKind: ResourceKind = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

function rawPod(i: number) {
  const job = `load-${Math.floor(i / 2)}`;
  const time = '2026-11-30T12:00:00Z';
  return {
    metadata: {
      name: `${job}-${i.toString(36).padStart(5, 'x')}`,
      generateName: `${job}-`,
      namespace: `team-${i % 20}`,
      uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      resourceVersion: String(100_000 + i),
      creationTimestamp: time,
      labels: {
        'batch.kubernetes.io/controller-uid': `c0ffee00-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
        'batch.kubernetes.io/job-name': job,
        'controller-uid': `c0ffee00-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
        'job-name': job,
        app: 'dbt',
      },
      annotations: { 'secretlink.dev/simulated-run-time': '600s' },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: job,
          uid: `c0ffee00-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      finalizers: ['batch.kubernetes.io/job-tracking'],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:job-name': {} } },
            'f:spec': {},
          },
        },
        {
          manager: 'kwok',
          operation: 'Update',
          apiVersion: 'v1',
          time,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:phase': {}, 'f:podIP': {} } },
        },
      ],
    },
    spec: {
      restartPolicy: 'Never',
      serviceAccountName: 'default',
      nodeName: 'kwok-node-0',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      containers: [
        {
          name: 'dbt',
          image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
          args: ['run', '--profiles-dir', '/etc/dbt', '--target', 'prod'],
          envFrom: [{ secretRef: { name: 'warehouse' } }],
          env: [{ name: 'DBT_THREADS', value: '4' }],
          resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
          volumeMounts: [
            { name: 'profiles', mountPath: '/etc/dbt' },
            {
              name: 'kube-api-access',
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
              readOnly: true,
            },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      volumes: [
        { name: 'profiles', configMap: { name: 'dbt-profiles', defaultMode: 420 } },
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
          },
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: `10.0.${(i >> 8) & 255}.${i & 255}`,
      hostIP: '10.0.0.1',
      startTime: time,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: time,
      })),
      containerStatuses: [
        {
          name: 'dbt',
          image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
          imageID: '',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: time } },
        },
      ],
    },
  };
}

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function measure(label: string, keep: () => unknown): number {
  const before = heapAfterGc();
  const kept = keep();
  const after = heapAfterGc();
  // Keep the result reachable until after the measurement.
  if (kept === undefined) throw new Error(label);
  return (after - before) / count;
}

const full = measure('decoded V1Pods', () => {
  const pods: KubernetesObject[] = [];
  for (let i = 0; i < count; i++) pods.push(decodeObject(fullKind, rawPod(i)));
  return pods;
});
const slim = measure('slim pods and index', () => {
  const pods: PodSecretUse[] = [];
  const index = new PodIndex();
  for (let i = 0; i < count; i++) {
    const pod = decodeObject<PodSecretUse>(slimKind, slimPod(rawPod(i)));
    pods.push(pod);
    index.upsert(pod);
  }
  return [pods, index];
});

const bytes = (n: number) => `${Math.round(n).toLocaleString('en')} B`;
const total = (n: number) => `${((n * count) / 1024 / 1024).toFixed(1)} MiB`;
console.log(`| pods held | per pod | for ${count.toLocaleString('en')} pods |`);
console.log('| --- | --- | --- |');
console.log(`| decoded V1Pod (a plain informer) | ${bytes(full)} | ${total(full)} |`);
console.log(`| slimPod + PodIndex (the operator) | ${bytes(slim)} | ${total(slim)} |`);
