// What the plan needs to know about a SecretReference, read off the API object once: names, parsed
// durations, consumers, the status it last recorded, and a digest of everything that shapes the content.
import { createHash } from 'node:crypto';
import { defaults } from '../api/constants.ts';
import { parseDuration } from '../api/duration.ts';
import type { AnySecretStore, SecretReference, SecretReferenceStatus } from '../api/types.ts';
import type { ReferenceFacts } from './plan.ts';

/** The Secret a reference materializes: `spec.target.name`, or the reference's own name. */
export function targetNameOf(reference: SecretReference): string {
  return reference.spec.target?.name ?? reference.metadata.name!;
}

export function referenceFacts(
  reference: SecretReference,
  store: AnySecretStore | undefined,
  deleting: boolean,
  /** The last recorded status: the cache's, or a newer one this process wrote. */
  status: Pick<
    SecretReferenceStatus,
    'consumingJobs' | 'managedSecret' | 'jobStarts' | 'retiredSecrets' | 'secretName'
  >,
): ReferenceFacts {
  return {
    namespace: reference.metadata.namespace!,
    name: reference.metadata.name!,
    deleting,
    targetName: targetNameOf(reference),
    ttlMs: parseDuration(reference.spec.ttl ?? defaults.ttl),
    refreshIntervalMs: parseDuration(reference.spec.refreshInterval ?? defaults.refreshInterval),
    consumers: reference.spec.consumers,
    contentHash: contentHash(reference, store),
    previouslyConsuming: (status.consumingJobs ?? []).map((job) => ({
      name: job.name,
      uid: job.uid,
      startTime: job.startTime ?? '',
      expiresAt: job.expiresAt ?? '',
    })),
    uid: reference.metadata.uid ?? '',
    createdAt: creationTimeOf(reference),
    managedSecret: status.managedSecret,
    jobStarts: Object.fromEntries(
      (status.jobStarts ?? [])
        .map((start) => [start.uid, Date.parse(start.firstStartTime)] as const)
        .filter(([, started]) => !Number.isNaN(started)),
    ),
    retiredSecrets: (status.retiredSecrets ?? []).map(({ name, uid }) => ({ name, uid })),
    secretName: status.secretName,
  };
}

/** As RFC 3339, whether the object came from a cache (a string) or from client-node (a Date). */
export function creationTimeOf(reference: SecretReference): string {
  const created = reference.metadata.creationTimestamp as Date | string | undefined;
  return created ? new Date(created).toISOString() : '';
}

/**
 * Changes when anything that decides the Secret's content changes: what is read, how it is shaped, and which
 * store (by uid and generation) it is read from. A changed digest makes the controller rewrite at once.
 */
function contentHash(reference: SecretReference, store: AnySecretStore | undefined): string {
  const { data, dataFrom, target, storeRef } = reference.spec;
  const shape = {
    data: data ?? [],
    dataFrom: dataFrom ?? [],
    type: target?.type ?? defaults.targetType,
    labels: target?.labels ?? {},
    annotations: target?.annotations ?? {},
    // Only when set, so adding the field left every digest of a reference without a template as it was.
    ...(target?.template ? { template: target.template } : {}),
    ...(reference.spec.dynamic ? { dynamic: reference.spec.dynamic } : {}),
    store: { kind: storeRef.kind ?? defaults.storeKind, name: storeRef.name },
    storeVersion: store ? `${store.metadata.uid}/${store.metadata.generation}` : '',
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 32);
}

export function storeIdentity(reference: SecretReference): string {
  return `${reference.spec.storeRef.kind ?? defaults.storeKind}/${reference.spec.storeRef.name}`;
}
