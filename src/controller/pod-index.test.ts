import { describe, expect, it } from 'vitest';
import { PodIndex, podUse, secretNamesUsedByPod, slimPod } from './pod-index.ts';

/** A pod as the API server sends it: plain JSON, with much more than the index keeps. */
function rawPod(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    metadata: {
      name,
      namespace: 'etl',
      uid: `uid-${name}`,
      resourceVersion: '42',
      labels: { app: 'dbt' },
      annotations: { note: 'x'.repeat(1_000) },
      managedFields: [{ manager: 'kubectl' }],
      ...metadata,
    },
    spec: { containers: [{ name: 'main', image: 'busybox' }], nodeName: 'node-1', ...spec },
    status: { phase: 'Running', podIP: '10.0.0.1' },
  };
}

describe('secretNamesUsedByPod', () => {
  it('finds every way a pod can refer to a Secret, including those the kubelet fetches for the node', () => {
    const ref = (name: string) => ({ name });
    const names = secretNamesUsedByPod({
      imagePullSecrets: [ref('pull')],
      containers: [
        {
          name: 'main',
          env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env', key: 'k', optional: true } } }],
          envFrom: [{ secretRef: ref('env-from') }],
        },
      ],
      initContainers: [{ name: 'init', envFrom: [{ secretRef: ref('init') }] }],
      volumes: [
        { name: 'a', secret: { secretName: 'volume', optional: true } },
        { name: 'b', projected: { sources: [{ secret: ref('projected') }] } },
        { name: 'c', csi: { driver: 'd', nodePublishSecretRef: ref('csi') } },
        { name: 'd', azureFile: { secretName: 'azure', shareName: 's' } },
        { name: 'e', cephfs: { monitors: ['m'], secretRef: ref('cephfs') } },
        { name: 'f', rbd: { monitors: ['m'], image: 'i', secretRef: ref('rbd') } },
        { name: 'g', iscsi: { targetPortal: 't', iqn: 'q', lun: 0, secretRef: ref('iscsi') } },
        { name: 'h', flexVolume: { driver: 'd', secretRef: ref('flex') } },
        { name: 'i', scaleIO: { gateway: 'g', system: 's', secretRef: ref('scaleio') } },
        { name: 'j', storageos: { secretRef: ref('storageos') } },
        { name: 'k', cinder: { volumeID: 'v', secretRef: ref('cinder') } },
      ],
    });
    expect([...names].sort()).toEqual(
      [
        'azure',
        'cephfs',
        'cinder',
        'csi',
        'env',
        'env-from',
        'flex',
        'init',
        'iscsi',
        'projected',
        'pull',
        'rbd',
        'scaleio',
        'storageos',
        'volume',
      ].sort(),
    );
  });
});

describe('slimPod', () => {
  it("keeps only the pod's identity, its controller and the Secrets it refers to", () => {
    const slim = slimPod(
      rawPod(
        'load-abcde',
        {
          volumes: [{ name: 'a', secret: { secretName: 'warehouse' } }],
          imagePullSecrets: [{ name: 'pull' }],
        },
        {
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'cm-uid' },
            { apiVersion: 'batch/v1', kind: 'Job', name: 'load', uid: 'job-uid', controller: true },
          ],
        },
      ),
    );
    expect(slim).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'load-abcde',
        namespace: 'etl',
        uid: 'uid-load-abcde',
        resourceVersion: '42',
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: 'load', uid: 'job-uid', controller: true },
        ],
      },
      secretNames: ['pull', 'warehouse'],
    });
    expect(podUse(slim)).toEqual({
      name: 'load-abcde',
      uid: 'uid-load-abcde',
      controllerJobUid: 'job-uid',
      controllerJobName: 'load',
    });
  });

  it('gives a pod whose controller is not a Job no controlling Job', () => {
    const slim = slimPod(
      rawPod(
        'web-1',
        {},
        {
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs', controller: true },
          ],
        },
      ),
    );
    expect(podUse(slim)).toEqual({ name: 'web-1', uid: 'uid-web-1' });
  });
});

describe('PodIndex', () => {
  const secretPod = (name: string, secretName: string, metadata: Record<string, unknown> = {}) =>
    slimPod(rawPod(name, { volumes: [{ name: 'a', secret: { secretName } }] }, metadata));

  it('finds the pods that refer to a Secret, per namespace, and holds none that refer to no Secret', () => {
    const index = new PodIndex();
    expect([...index.upsert(secretPod('reader', 'warehouse'))]).toEqual(['warehouse']);
    index.upsert(secretPod('other', 'warehouse', { namespace: 'other' }));
    expect([...index.upsert(slimPod(rawPod('plain', {})))]).toEqual([]);
    expect(index.podsReferencing('etl', 'warehouse')).toEqual([{ name: 'reader', uid: 'uid-reader' }]);
    expect(index.podsReferencing('etl', 'crm')).toEqual([]);
    expect(index.size).toBe(2);
  });

  it('follows a change of controller and forgets a removed pod', () => {
    const index = new PodIndex();
    index.upsert(secretPod('reader', 'warehouse'));
    const adopted = secretPod('reader', 'warehouse', {
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: 'load', uid: 'job-uid', controller: true },
      ],
    });
    expect([...index.upsert(adopted)]).toEqual(['warehouse']);
    expect(index.podsReferencing('etl', 'warehouse')).toEqual([
      { name: 'reader', uid: 'uid-reader', controllerJobUid: 'job-uid', controllerJobName: 'load' },
    ]);
    expect([...index.remove(adopted)]).toEqual(['warehouse']);
    expect(index.podsReferencing('etl', 'warehouse')).toEqual([]);
    expect(index.size).toBe(0);
  });
});
