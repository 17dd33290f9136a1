// The thin effect layer: every write a reconcile makes, each conditional on what the reconcile read
// (resourceVersion or uid preconditions), so a concurrent change makes the write fail and the key retry.
import * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../api/constants.ts';
import type { SecretReference, StoreStatus } from '../api/types.ts';
import { expiresAtAnnotation } from './managed-secret.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { type ClusterWriter, finalizer, RetryableError } from './reconciler.ts';
import type { ReferenceStatus } from './status.ts';
import type { StoreStatusWriter } from './store-status-reconciler.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const fieldManager = 'secretlink';

export function createClusterWriter(
  config: k8s.KubeConfig,
  limiter: RateLimiter,
): ClusterWriter & StoreStatusWriter {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const referenceApi = { group, version, plural: plurals.secretReference };

  /** Rate-limits the write, and turns conflicts into retries rather than failures. */
  async function write<T>(action: string, call: () => Promise<T>): Promise<T | undefined> {
    await limiter.take();
    try {
      return await call();
    } catch (error) {
      if (error instanceof k8s.ApiException && (error.code === 409 || error.code === 429)) {
        throw new RetryableError(
          `${action}: the object changed or the API server is busy (HTTP ${error.code})`,
        );
      }
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  return {
    async readSecret(namespace, name) {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (error) {
        if (error instanceof k8s.ApiException && error.code === 404) return undefined;
        throw error;
      }
    },
    async readJob(namespace, name) {
      try {
        return await batch.readNamespacedJob({ namespace, name });
      } catch (error) {
        if (error instanceof k8s.ApiException && error.code === 404) return undefined;
        throw error;
      }
    },
    async createSecret(secret) {
      const created = await write('create Secret', () =>
        core.createNamespacedSecret({ namespace: secret.metadata!.namespace!, body: secret, fieldManager }),
      );
      return created?.metadata?.uid;
    },
    async replaceSecret(secret) {
      const { namespace, name } = secret.metadata as { namespace: string; name: string };
      await write('replace Secret', () =>
        core.replaceNamespacedSecret({ namespace, name, body: secret, fieldManager }),
      );
    },
    async setSecretOwners(current, metadata, expiresAt) {
      const { namespace, name, resourceVersion } = current.metadata as Required<k8s.V1ObjectMeta>;
      const body = {
        metadata: {
          resourceVersion,
          ownerReferences: metadata?.ownerReferences ?? [],
          annotations: expiresAtAnnotation(expiresAt),
        },
      };
      await write('update Secret owners', () =>
        core.patchNamespacedSecret({ namespace, name, body, fieldManager }, mergePatch),
      );
    },
    async deleteSecret(current) {
      const { namespace, name, uid } = current.metadata as Required<k8s.V1ObjectMeta>;
      // The uid precondition makes sure only this very Secret goes, never a foreign one created since.
      const deleted = await write('delete Secret', () =>
        core.deleteNamespacedSecret({ namespace, name, body: { preconditions: { uid } } }),
      );
      return deleted !== undefined;
    },
    async addFinalizer(reference) {
      await patchFinalizers(reference, [...(reference.metadata.finalizers ?? []), finalizer]);
    },
    async removeFinalizer(reference) {
      await patchFinalizers(
        reference,
        (reference.metadata.finalizers ?? []).filter((item) => item !== finalizer),
      );
    },
    async writeStatus(reference, status) {
      const updated = await write('write status', () =>
        custom.patchNamespacedCustomObjectStatus(
          {
            ...referenceApi,
            namespace: reference.metadata.namespace!,
            name: reference.metadata.name!,
            body: { status: withExplicitNulls(status) },
            fieldManager,
          },
          mergePatch,
        ),
      );
      return (updated as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
    },
    async writeStoreStatus(store, status) {
      // Conditional on the version the status was derived from: lastTransitionTime is only right against it.
      const body = {
        metadata: { resourceVersion: store.metadata.resourceVersion },
        status: storeStatusPatch(status),
      };
      const name = store.metadata.name!;
      await write('write store status', () =>
        store.kind === 'SecretStore'
          ? custom.patchNamespacedCustomObjectStatus(
              {
                group,
                version,
                plural: plurals.secretStore,
                namespace: store.metadata.namespace!,
                name,
                body,
                fieldManager,
              },
              mergePatch,
            )
          : custom.patchClusterCustomObjectStatus(
              { group, version, plural: plurals.clusterSecretStore, name, body, fieldManager },
              mergePatch,
            ),
      );
    },
  };

  async function patchFinalizers(reference: SecretReference, finalizers: string[]) {
    await write('update finalizers', () =>
      custom.patchNamespacedCustomObject(
        {
          ...referenceApi,
          namespace: reference.metadata.namespace!,
          name: reference.metadata.name!,
          body: { metadata: { resourceVersion: reference.metadata.resourceVersion, finalizers } },
          fieldManager,
        },
        mergePatch,
      ),
    );
  }
}

/** The fields of a store's status the operator owns, absent ones as null so a merge patch removes them. */
function storeStatusPatch(status: StoreStatus): Record<string, unknown> {
  const keys: (keyof StoreStatus)[] = ['provider', 'observedGeneration', 'conditions'];
  return Object.fromEntries(keys.map((key) => [key, status[key] ?? null]));
}

/** A merge patch leaves absent fields alone, so a field that should disappear is sent as null. */
function withExplicitNulls(status: ReferenceStatus): Record<string, unknown> {
  const keys: (keyof ReferenceStatus)[] = [
    'observedGeneration',
    'conditions',
    'secretName',
    'consumingJobs',
    'consumingJobCount',
    'refusedJobs',
    'writtenAt',
    'expiresAt',
    'remoteVersions',
    'managedSecret',
    'jobStarts',
  ];
  return Object.fromEntries(keys.map((key) => [key, status[key] ?? null]));
}
