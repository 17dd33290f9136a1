// The two interfaces every store implements: a Provider (validate a store spec, name its credentials, make
// a client) and a StoreClient (read one remote secret). Everything store-specific sits behind them.
import type { CredentialSource } from './credentials.ts';
import { defaultLimits } from './limits.ts';
import type { ProviderLogger } from './logger.ts';
import type { ProviderName, ProviderSpecs, StoreObject, StoreScope } from './store-spec.ts';

// StoreScope lives beside the store spec so that credentials.ts, which this file names, need not import it back.
export type { ProviderName, StoreScope } from './store-spec.ts';

/** Where one value lives in a store: data[].remote of a SecretReference. */
export interface RemoteRef {
  name: string;
  /** Provider-specific: AWS version id or stage, GCP version number or `latest`, Vault KV v2 version number. */
  version?: string;
  /**
   * A property of a JSON value; dots walk into nested objects and arrays (`db.password`, `hosts.1`), `\.` is a
   * dot inside a name. Non-string values come back as the exact JSON text stored.
   */
  property?: string;
}

/** A whole remote secret: dataFrom[].remote. */
export interface RemoteSecretRef {
  name: string;
  version?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ResolvedValue {
  value: Buffer;
  /** The store's id of the version that was read (never derived from the value). */
  versionId: string;
  /** Size of the whole remote secret the value was taken from, for the reference's read budget. */
  bytesRead: number;
}

export interface ResolvedProperties {
  /** Every top-level property; strings as their UTF-8 bytes, anything else as the JSON text stored. */
  values: Record<string, Buffer>;
  versionId: string;
  bytesRead: number;
}

/** What a listing asks the store for; the store may filter on its side, the shared layer checks again. */
export interface ListQuery {
  /** Only names that start with this. */
  prefix?: string;
  /** Tags (AWS) or labels (GCP) a secret must carry, each with exactly this value. */
  tags?: Record<string, string>;
}

/** One secret a listing found: its name as a reference would write it, and its tags where the store has them. */
export interface ListedSecret {
  name: string;
  tags?: Record<string, string>;
}

export interface Existence {
  exists: boolean;
  versionId?: string;
}

/** Who a dynamic credential is for: the reference's Secret (shared mode) or one Job (per-Job mode). */
export interface LeaseHolder {
  namespace: string;
  reference: string;
  /** Set when the credential is one Job's alone. */
  job?: { name: string; uid: string };
}

/** Where a dynamic credential comes from. */
export type LeaseSource =
  | { kind: 'database'; mount: string; role: string }
  | { kind: 'awsRole'; roleArn: string };

export interface LeaseRequest {
  source: LeaseSource;
  /** The credential's life at most, in seconds: it dies then, whether or not anyone revokes it. */
  maxSeconds: number;
  /**
   * Set: the lease is held only this many seconds ahead (renewed in such increments by the operator, never past
   * maxSeconds). Unset: renewed at issue to maxSeconds.
   */
  incrementSeconds?: number;
  holder: LeaseHolder;
}

/** What revokes a lease without being the credential: kept on the Secret that holds the credential. */
export interface LeaseHandle {
  /** Vault's lease id; for AWS, the temporary access key id (an identifier, not a secret). */
  leaseId: string;
  /** Accessor of the child token that holds the lease. */
  tokenAccessor: string;
}

export interface IssuedLease {
  /** The credential's parts: username and password (database), accessKeyId, secretAccessKey, sessionToken (AWS). */
  fields: Record<string, Buffer>;
  handle: LeaseHandle;
  /** Epoch ms: when the lease (and its token) end at the latest. */
  expiresAt: number;
  /** Whether the lease was renewed at issue (to expiresAt, or to heldUntil when held in increments). */
  renewed: boolean;
  /** Epoch ms, when held in increments: when the lease ends unless it is renewed again (expiresAt at most). */
  heldUntil?: number;
}

/** Credentials a store creates on demand and can take back (Vault's database engine). */
export interface DynamicCredentials {
  issue(request: LeaseRequest, options?: CallOptions): Promise<IssuedLease>;
  /**
   * Revokes the lease (the role's revocation statements run now) and its token; an unknown lease is no error.
   * STS sessions cannot be revoked one by one: for AWS this does nothing, and the session ends at its expiry.
   */
  revoke(handle: LeaseHandle, options?: CallOptions): Promise<void>;
  /**
   * Renews the lease by `seconds` from now and returns the seconds the store granted (it may grant less: the
   * token's explicit max TTL, the role's max TTL). NotFound when the store no longer knows the lease (it
   * lapsed or was revoked). Absent where a credential cannot be renewed (STS sessions).
   */
  renew?(handle: LeaseHandle, seconds: number, options?: CallOptions): Promise<number>;
}

export interface StoreClient {
  /** Present on stores that can issue dynamic credentials (Vault). */
  readonly leases?: DynamicCredentials;
  resolve(remote: RemoteRef, options?: CallOptions): Promise<ResolvedValue>;
  resolveAll(remote: RemoteSecretRef, options?: CallOptions): Promise<ResolvedProperties>;
  /** Several values at once; stores with a batch read (AWS) use it. One settled result per input, in order. */
  resolveMany(
    remotes: readonly RemoteRef[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<ResolvedValue>[]>;
  /** Whether the remote secret (and version) exists, without reading the value where the store allows it. */
  exists(remote: RemoteSecretRef, options?: CallOptions): Promise<Existence>;
  /**
   * The secrets that match `query`, every page of them, read without any value. Throws LimitExceeded past
   * maxListedSecrets names, and InvalidReference for what the store cannot list by (Vault has no tags).
   */
  list(query: ListQuery, options?: CallOptions): Promise<ListedSecret[]>;
  /** Drops cached values for one remote secret (or all); the next read goes to the store. */
  invalidate(name?: string): void;
  close(): Promise<void>;
}

/** One problem found by static validation; `path` is the field path from the store's root, e.g. spec.provider.aws.region. */
export interface ValidationProblem {
  path: string;
  message: string;
}

export interface ClientTuning {
  /** Deadline for each call to the store, in milliseconds. */
  timeoutMs: number;
  /** How long a value read at a fixed version stays cached. 0 turns the cache off. */
  cacheTtlMs: number;
  /** How long a value read at a moving version (latest, AWSCURRENT, a stage) stays cached. */
  floatingCacheTtlMs: number;
  /** Largest answer accepted from the store; a larger one is refused before it is parsed. */
  maxResponseBytes: number;
  now: () => number;
}

export const defaultTuning: ClientTuning = {
  timeoutMs: 10_000,
  cacheTtlMs: 5_000,
  floatingCacheTtlMs: 1_000,
  maxResponseBytes: defaultLimits.maxResponseBytes,
  now: () => Date.now(),
};

export interface ClientContext {
  credentials: CredentialSource;
  logger: ProviderLogger;
  tuning: ClientTuning;
}

export interface Provider<N extends ProviderName = ProviderName> {
  readonly name: N;
  /** Static checks only: no network, no cluster reads. */
  validate(spec: ProviderSpecs[N], scope: StoreScope): ValidationProblem[];
  /** The credential Secrets a client for this store reads; their resourceVersions key the client cache. */
  credentialSecrets(spec: ProviderSpecs[N], scope: StoreScope): { namespace: string; name: string }[];
  createClient(store: StoreObject, spec: ProviderSpecs[N], context: ClientContext): Promise<StoreClient>;
}
