// The resources the controller watches, and the informers that cache them: which kinds, which selectors,
// which caches hold metadata only. The informer itself (src/runtime/informers.ts) knows nothing of them.
import type { KubeConfig, KubernetesObject, V1Job } from '@kubernetes/client-node';
import { apiVersion, kinds, labels, managedBy, plurals } from '../api/constants.ts';
import type { ClusterSecretStore, SecretReference, SecretStore } from '../api/types.ts';
import { createInformer, type Informer, type InformerOptions } from '../runtime/informers.ts';
import type { ObjectMetadataOnly, ResourceKind } from '../runtime/resource-list.ts';
import { type PodSecretUse, slimPod } from './pod-index.ts';

export const resourceKinds = {
  secretReference: {
    apiVersion,
    kind: kinds.secretReference,
    plural: plurals.secretReference,
    namespaced: true,
  },
  secretStore: { apiVersion, kind: kinds.secretStore, plural: plurals.secretStore, namespaced: true },
  clusterSecretStore: {
    apiVersion,
    kind: kinds.clusterSecretStore,
    plural: plurals.clusterSecretStore,
    namespaced: false,
  },
  job: { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true, model: 'V1Job' },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, model: 'V1Secret' },
  configMap: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    model: 'V1ConfigMap',
  },
  namespace: {
    apiVersion: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    model: 'V1Namespace',
  },
  // No model: the cache holds pods cut down by slimPod (pod-index.ts), not V1Pods.
  pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
} as const satisfies Record<string, ResourceKind>;

/** The resources the controller watches. */
export interface ControllerInformers<
  Reference extends KubernetesObject = SecretReference,
  Store extends KubernetesObject = SecretStore,
  ClusterStore extends KubernetesObject = ClusterSecretStore,
> {
  secretReferences: Informer<Reference>;
  secretStores: Informer<Store>;
  clusterSecretStores: Informer<ClusterStore>;
  jobs: Informer<V1Job>;
  /** Secrets written by secretlink, metadata only: the operator never keeps values in a cache. */
  managedSecrets: Informer<ObjectMetadataOnly>;
  /** Namespaces, metadata only (their labels), for ClusterSecretStore namespace selectors. */
  namespaces: Informer<ObjectMetadataOnly>;
  /** Pods that have not finished, each cut down to its identity, controller and the Secrets it refers to. */
  pods: Informer<PodSecretUse>;
}

export const managedSecretSelector = `${labels.managedBy}=${managedBy}`;
export const unfinishedPodSelector = 'status.phase!=Succeeded,status.phase!=Failed';

export function createControllerInformers(
  config: KubeConfig,
  options: Pick<InformerOptions, 'namespaces' | 'observer' | 'clock'> = {},
): ControllerInformers {
  return {
    secretReferences: createInformer<SecretReference>(config, resourceKinds.secretReference, options),
    secretStores: createInformer<SecretStore>(config, resourceKinds.secretStore, options),
    clusterSecretStores: createInformer<ClusterSecretStore>(
      config,
      resourceKinds.clusterSecretStore,
      options,
    ),
    jobs: createInformer<V1Job>(config, resourceKinds.job, options),
    managedSecrets: createInformer<ObjectMetadataOnly>(config, resourceKinds.secret, {
      ...options,
      labelSelector: managedSecretSelector,
      metadataOnly: true,
    }),
    namespaces: createInformer<ObjectMetadataOnly>(config, resourceKinds.namespace, {
      ...options,
      metadataOnly: true,
    }),
    pods: createPodInformer(config, options),
  };
}

/** Unfinished pods, each cut down by slimPod as it arrives: the operator never holds a pod's spec. */
export function createPodInformer(
  config: KubeConfig,
  options: Omit<InformerOptions, 'fieldSelector' | 'project' | 'metadataOnly'> = {},
): Informer<PodSecretUse> {
  return createInformer<PodSecretUse>(config, resourceKinds.pod, {
    ...options,
    // A finished pod runs nothing again and gets no Secret; leaving the selector removes it from the cache.
    fieldSelector: unfinishedPodSelector,
    project: slimPod,
  });
}
