// What a reconcile needs from the world and what it may throw back, apart from the reconciler so that the
// adapters that serve these seams (cluster-writer.ts, store-values.ts, the controller's cache view) depend on
// the seams alone, not on the reconciler that uses them.
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import type { IssuedLease, LeaseHandle, LeaseRequest } from '../providers/types.ts';
import type { SecretWrite } from './outcome.ts';
import type { PodUse } from './pod-index.ts';
import type { RemoteScope } from './remote-access.ts';
import type { ReferenceStatus } from './status.ts';

/** Keeps a reference until its Secret is revoked. */
export const finalizer = 'secretlink.dev/revoke-secret';

/** Read-only view of the cluster, served from informer caches. */
export interface ClusterView {
  reference(namespace: string, name: string): SecretReference | undefined;
  /** The SecretReferences of the namespace whose target Secret has this name (the reference itself included). */
  referencesTargeting(namespace: string, targetName: string): SecretReference[];
  /**
   * The SecretReferences of the namespace whose status has the pod admission policy guard the Secret name
   * `secretName` (their claim or a retired Secret).
   */
  referencesGuarding(namespace: string, secretName: string): SecretReference[];
  store(
    kind: 'SecretStore' | 'ClusterSecretStore',
    namespace: string,
    name: string,
  ): AnySecretStore | undefined;
  namespaceLabels(namespace: string): Record<string, string> | undefined;
  managedSecret(namespace: string, name: string): V1Secret | undefined;
  /** Managed Secrets labelled with this reference's name, whatever their own name. */
  managedSecretsOf(namespace: string, referenceName: string): V1Secret[];
  jobsReferencing(namespace: string, secretName: string): V1Job[];
  /** Unfinished pods that refer to the Secret `secretName` in any way a pod can. */
  podsReferencing(namespace: string, secretName: string): PodUse[];
}

/** The writes a reconcile makes to the API server. */
export interface ClusterWriter {
  /** A live read, used only before creating, to find a foreign Secret the managed-only cache cannot see. */
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** A live read of a Job that controls a pod but is not in the Job cache yet (the two watches race). */
  readJob(namespace: string, name: string): Promise<V1Job | undefined>;
  /** Each Secret write reports what the API server confirmed; a Secret that vanished first is `gone`. */
  createSecret(secret: V1Secret): Promise<SecretWrite>;
  replaceSecret(secret: V1Secret): Promise<SecretWrite>;
  setSecretOwners(current: V1Secret, owners: V1Secret['metadata'], expiresAt?: string): Promise<SecretWrite>;
  deleteSecret(current: V1Secret): Promise<SecretWrite>;
  addFinalizer(reference: SecretReference): Promise<void>;
  removeFinalizer(reference: SecretReference): Promise<void>;
  /** Returns the reference's resourceVersion after the write. */
  writeStatus(reference: SecretReference, status: ReferenceStatus): Promise<string | undefined>;
}

/**
 * Reads values from the store a reference names, only within `scope` (the remotes its namespace may reach
 * through that store). All or nothing: a failure throws a typed provider error.
 *
 * With isolation PerJob each Secret is read for one Job, named in `forJob`: a source whose values are issued
 * per consumer (a dynamic credential) issues one for that Job. Stored values are the same for every Job.
 */
export interface ValueSource {
  read(
    store: AnySecretStore,
    reference: SecretReference,
    scope: RemoteScope,
    signal: AbortSignal,
    forJob?: JobIdentity,
  ): Promise<ReadValues>;
  /** Current version id of each remote (found ones looked up again), reading no value where the store allows. */
  versions(
    store: AnySecretStore,
    reference: SecretReference,
    scope: RemoteScope,
    signal: AbortSignal,
    forJob?: JobIdentity,
  ): Promise<Record<string, string>>;
  /** A dynamic credential from the store (Vault's database engine); InvalidSpec from a store that has none. */
  issueLease(store: AnySecretStore, request: LeaseRequest, signal: AbortSignal): Promise<IssuedLease>;
  /** Revokes a dynamic credential at the store: its sessions end and it logs in no more. */
  revokeLease(store: AnySecretStore, handle: LeaseHandle, signal: AbortSignal): Promise<void>;
  /** Renews a dynamic credential's lease by `seconds` from now; returns the seconds granted (NotFound: lapsed). */
  renewLease(
    store: AnySecretStore,
    handle: LeaseHandle,
    seconds: number,
    signal: AbortSignal,
  ): Promise<number>;
}

/** The Job a per-Job Secret is read for. */
export interface JobIdentity {
  name: string;
  uid: string;
}

export interface ReadValues {
  data: Record<string, Buffer>;
  remoteVersions: Record<string, string>;
}
