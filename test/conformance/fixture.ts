// What the shared conformance cases need from one provider's real server: a way to put values in it, and
// stores (as a user would write them) that reach it with good, refused or no credentials.
import type { CredentialSource } from '../../src/providers/credentials.ts';
import type { StoreObject } from '../../src/providers/store-spec.ts';
import type { ProviderName } from '../../src/providers/types.ts';

export interface StoredVersion {
  /** The version id the store gave the value, as a StoreClient reports it. */
  versionId: string;
  /** How a reference names this exact version (AWS version id, GCP or Vault version number). */
  version: string;
}

export interface ConformanceSupport {
  /** Whether values are bytes (AWS, GCP) rather than a JSON map of strings (Vault). */
  binary: boolean;
  /** Whether the server enforces permissions, so a refused read can be shown. */
  accessDenied: boolean;
  /** Whether the provider reads several secrets in one call. */
  batch: boolean;
  /** Whether secrets carry tags or labels that find can match (AWS, GCP; not Vault). */
  tags: boolean;
  /** Whether names may hold "/" (AWS names, Vault paths; not GCP secret ids). */
  folders: boolean;
}

export interface ConformanceFixture {
  provider: ProviderName;
  /** The credentials the stores below read (the real API server, in a namespace of this run). */
  credentials: CredentialSource;
  /** A store with working credentials. */
  store(): StoreObject;
  /** The same store, sent to another address (a closed port, a server that never answers). */
  storeAt(host: string, port: number): StoreObject;
  /** A store whose credentials the server accepts but which may not read `name`. */
  deniedStore?(name: string): Promise<StoreObject>;
  /** A store whose credentials are `credential` itself (for the leak test); it must be refused or unused. */
  storeWithCredential(credential: string): Promise<StoreObject>;
  /**
   * Creates the secret, or adds a new version to it. Where the store keeps a map of strings (Vault), a JSON
   * object is stored as that map and any other text under the key `value`.
   */
  put(
    name: string,
    value: string | Buffer,
    options?: { tags?: Record<string, string> },
  ): Promise<StoredVersion>;
  /** Runs `action` while the server enforces permissions, for servers that only do so on request. */
  enforcingPermissions?<T>(action: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
