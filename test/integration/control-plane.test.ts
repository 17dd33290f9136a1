// Proves the local control plane is a real one: every behaviour secretlink relies on happens here as on
// a cluster, performed by the real kube-apiserver, controllers, scheduler and kwok.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createNamespace, deleteNamespace, eventually, statusCodeOf } from '../support/cluster.ts';

const jobControllerIdentity = 'system:serviceaccount:kube-system:job-controller';

let namespace: string;
beforeAll(async () => {
  namespace = await createNamespace('control-plane');
});
afterAll(() => deleteNamespace(namespace));

function sleeperJob(name: string, runTime = '1s'): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations: { 'secretlink.dev/simulated-run-time': runTime } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] },
      },
    },
  };
}

describe('local control plane', () => {
  it('serves a CustomResourceDefinition once it is applied', async () => {
    const extensions = api(k8s.ApiextensionsV1Api);
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.secretlink.dev' },
        spec: {
          group: 'example.secretlink.dev',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
                },
              },
            },
          ],
        },
      },
    });
    const custom = api(k8s.CustomObjectsApi);
    const created = await eventually('the Widget resource to be served', async () =>
      custom
        .createNamespacedCustomObject({
          group: 'example.secretlink.dev',
          version: 'v1',
          namespace,
          plural: 'widgets',
          body: {
            apiVersion: 'example.secretlink.dev/v1',
            kind: 'Widget',
            metadata: { name: 'w' },
            spec: { size: 3 },
          },
        })
        .catch((error) => (statusCodeOf(error) === 404 ? undefined : Promise.reject(error))),
    );
    expect(created.spec).toEqual({ size: 3 });
  });

  it('runs a Job to Complete: its pod is scheduled on a kwok node and succeeds', async () => {
    const batch = api(k8s.BatchV1Api);
    await batch.createNamespacedJob({ namespace, body: sleeperJob('runs-to-completion') });

    const job = await eventually('the Job to complete', async () => {
      const current = await batch.readNamespacedJob({ name: 'runs-to-completion', namespace });
      return current.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')
        ? current
        : undefined;
    });
    expect(job.status?.succeeded).toBe(1);

    const pods = await api(k8s.CoreV1Api).listNamespacedPod({
      namespace,
      labelSelector: 'batch.kubernetes.io/job-name=runs-to-completion',
    });
    expect(pods.items).toHaveLength(1);
    const nodes = await api(k8s.CoreV1Api).listNode();
    expect(nodes.items.map((node) => node.metadata?.name)).toContain(pods.items[0]!.spec?.nodeName);
    expect(pods.items[0]!.status?.phase).toBe('Succeeded');
  });

  it('garbage-collects an object whose owner was deleted', async () => {
    const core = api(k8s.CoreV1Api);
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! },
          ],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace });

    await eventually('the dependent to be garbage-collected', async () =>
      core
        .readNamespacedConfigMap({ name: 'dependent', namespace })
        .then(() => undefined)
        .catch((error) => (statusCodeOf(error) === 404 ? true : undefined)),
    );
  });

  it('enforces a ValidatingAdmissionPolicy, and Job pods are created by the job-controller identity', async () => {
    const policyName = `only-job-controller-${namespace}`;
    const admission = api(k8s.AdmissionregistrationV1Api);
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: policyName },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
            ],
          },
          validations: [
            {
              expression: `request.userInfo.username == '${jobControllerIdentity}'`,
              message: 'pods here may only be created by the Job controller',
            },
          ],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name: policyName },
        spec: {
          policyName,
          validationActions: ['Deny'],
          matchResources: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          },
        },
      },
    });

    try {
      const core = api(k8s.CoreV1Api);
      const bare: k8s.V1Pod = {
        metadata: { name: 'bare' },
        spec: { containers: [{ name: 'main', image: 'busybox' }] },
      };
      // The policy takes effect once the API server has loaded it; keep trying until the pod is refused.
      const refusal = await eventually('the policy to deny a bare pod', async () => {
        try {
          await core.createNamespacedPod({ namespace, body: bare });
          await core.deleteNamespacedPod({ name: 'bare', namespace, gracePeriodSeconds: 0 });
          return undefined;
        } catch (error) {
          return error as k8s.ApiException<string>;
        }
      });
      expect(refusal.code).toBe(422);
      expect(String(refusal.body)).toContain('pods here may only be created by the Job controller');

      await api(k8s.BatchV1Api).createNamespacedJob({ namespace, body: sleeperJob('admitted-job') });
      const pods = await eventually('the Job controller to create the pod', async () => {
        const list = await core.listNamespacedPod({
          namespace,
          labelSelector: 'batch.kubernetes.io/job-name=admitted-job',
        });
        return list.items.length > 0 ? list.items : undefined;
      });
      expect(pods[0]!.metadata?.ownerReferences?.[0]?.kind).toBe('Job');
    } finally {
      await admission.deleteValidatingAdmissionPolicyBinding({ name: policyName });
      await admission.deleteValidatingAdmissionPolicy({ name: policyName });
    }
  });
});
