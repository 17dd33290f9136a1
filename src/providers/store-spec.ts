// The parts of SecretStore / ClusterSecretStore that providers read, named the way the providers use them.
// src/api/types.ts is the source; this file only maps its names.
import type {
  AnySecretStore,
  AwsProvider,
  GcpProvider,
  ProviderName,
  SecretKeyRef,
  SecretStoreSpec,
  ServiceAccountRef,
  VaultProvider,
} from '../api/types.ts';

export type { ProviderName, SecretKeyRef, SecretStoreSpec, ServiceAccountRef };

export type AwsProviderSpec = AwsProvider;
export type GcpProviderSpec = GcpProvider;
export type VaultProviderSpec = VaultProvider;

export interface ProviderSpecs {
  aws: AwsProviderSpec;
  gcp: GcpProviderSpec;
  vault: VaultProviderSpec;
}

export type StoreKind = AnySecretStore['kind'];

/** A store object as read from the API server; only the fields the providers need. */
export type StoreObject = Pick<AnySecretStore, 'kind' | 'metadata' | 'spec'>;

/**
 * `SecretStore/<namespace>/<name>` or `ClusterSecretStore/<name>`: never mistaken for a reference's
 * `<namespace>/<name>`, and a SecretStore and a ClusterSecretStore of the same name stay apart.
 */
export function storeKey(store: Pick<AnySecretStore, 'kind' | 'metadata'>): string {
  const { namespace, name } = store.metadata;
  return store.kind === 'SecretStore' ? `SecretStore/${namespace}/${name}` : `ClusterSecretStore/${name}`;
}

/** Which store asks: its kind, namespace and name decide which credentials it may be handed. */
export interface StoreScope {
  kind: StoreKind;
  /** The namespace of a SecretStore; absent for a ClusterSecretStore. */
  namespace?: string;
  /** The store's name: credentials are handed only to a store their allowed-stores annotation names. */
  name?: string;
}
