// The thin effect layer: every write a reconcile makes, each conditional on what the reconcile read
// (resourceVersion or uid preconditions), so a concurrent change makes the write fail and the key retry.
import * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../api/constants.ts';
import type { SecretReference, StoreStatus } from '../api/types.ts';
import type { RateLimiter } from '../runtime/rate-limiter.ts';
import { retryAfterMs } from '../runtime/retry-after.ts';
import { RetryableError } from '../runtime/retryable-error.ts';
import { expiresAtAnnotation } from './managed-secret.ts';
import type { SecretIdentity, SecretWrite } from './outcome.ts';
import { type ClusterWriter, finalizer } from './ports.ts';
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

  /** Rate-limits the write, and turns conflicts and throttling into retries rather than failures. */
  async function write<T>(action: string, call: () => Promise<T>): Promise<T | undefined> {
    await limiter.take();
    try {
      return await call();
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 409) {
        throw new RetryableError(`${action}: the object changed (HTTP 409)`);
      }
      throwIfThrottled(action, error);
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  /** A live read: absent is undefined, throttled is retried after the wait the API server asked for. */
  async function read<T>(action: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throwIfThrottled(action, error);
      throw error;
    }
  }

  /**
   * A write to a Secret, reported as what the API server confirmed: `gone` for a 404 (nothing was written) and
   * `rejected` for a 422, whose body is not passed on because it may quote the object it refused.
   */
  async function writeSecret<T>(
    action: string,
    call: () => Promise<T>,
    done: (answer: T) => SecretWrite,
  ): Promise<SecretWrite> {
    try {
      const answer = await write(action, call);
      return answer === undefined ? { result: 'gone' } : done(answer);
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 422) {
        return { result: 'rejected', message: `${action}: the API server refused the Secret as invalid` };
      }
      throw error;
    }
  }

  return {
    readSecret(namespace, name) {
      return read('read Secret', () => core.readNamespacedSecret({ namespace, name }));
    },
    readJob(namespace, name) {
      return read('read Job', () => batch.readNamespacedJob({ namespace, name }));
    },
    createSecret(secret) {
      return writeSecret(
        'create Secret',
        () =>
          core.createNamespacedSecret({ namespace: secret.metadata!.namespace!, body: secret, fieldManager }),
        (created) => ({ result: 'created', secret: identityOf(created) }),
      );
    },
    replaceSecret(secret) {
      const { namespace, name } = secret.metadata as { namespace: string; name: string };
      return writeSecret(
        'replace Secret',
        () => core.replaceNamespacedSecret({ namespace, name, body: secret, fieldManager }),
        (replaced) => ({ result: 'replaced', secret: identityOf(replaced) }),
      );
    },
    setSecretOwners(current, metadata, expiresAt) {
      const { namespace, name, resourceVersion } = current.metadata as Required<k8s.V1ObjectMeta>;
      const body = {
        metadata: {
          resourceVersion,
          ownerReferences: metadata?.ownerReferences ?? [],
          annotations: { ...metadata?.annotations, ...expiresAtAnnotation(expiresAt) },
        },
      };
      return writeSecret(
        'update Secret owners',
        () => core.patchNamespacedSecret({ namespace, name, body, fieldManager }, mergePatch),
        (updated) => ({ result: 'updated', secret: identityOf(updated) }),
      );
    },
    deleteSecret(current) {
      const { namespace, name, uid, resourceVersion } = current.metadata as Required<k8s.V1ObjectMeta>;
      // The preconditions make sure only this very Secret goes, as it was read (never a foreign one created
      // since, nor one whose owners changed meanwhile): the audit names exactly the Secret deleted.
      return writeSecret(
        'delete Secret',
        () =>
          core.deleteNamespacedSecret({
            namespace,
            name,
            body: { preconditions: { uid, ...(resourceVersion ? { resourceVersion } : {}) } },
          }),
        () => ({ result: 'deleted', secret: { name, uid, resourceVersion } }),
      );
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

/**
 * API Priority and Fairness (or a proxy in front of the API server) refused the request for now: retried by
 * the work queue, no sooner than its Retry-After, with the key's backoff when that is longer.
 */
function throwIfThrottled(action: string, error: unknown): void {
  if (!(error instanceof k8s.ApiException) || error.code !== 429) return;
  throw new RetryableError(`${action}: the API server is busy (HTTP 429)`, {
    retryAfterMs: retryAfterMs(error.headers, Date.now()),
  });
}

/** The Secret's identity from the API server's answer to a write. */
function identityOf(secret: k8s.V1Secret): SecretIdentity {
  const { name, uid, resourceVersion } = secret.metadata ?? {};
  return { name: name ?? '', uid: uid ?? '', ...(resourceVersion ? { resourceVersion } : {}) };
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
    'retiredSecrets',
    'jobStarts',
  ];
  return Object.fromEntries(keys.map((key) => [key, status[key] ?? null]));
}
