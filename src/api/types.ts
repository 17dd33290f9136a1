// The secretlink.dev/v1alpha1 resources as TypeScript sees them. crds/ is the source of truth;
// crds-match-types.test.ts reads these interfaces through the compiler and holds them to the CRD schemas.
// Fields the API server defaults are optional here (constants.ts `defaults` says what they become), so
// objects built in code need not spell them out.
import type { V1LabelSelectorRequirement, V1ObjectMeta } from '@kubernetes/client-node';

// ---------------------------------------------------------------- references to credentials

/** A key of a Secret. `namespace` is required in a ClusterSecretStore and refused in a SecretStore. */
export interface SecretKeyRef {
  name: string;
  key: string;
  namespace?: string;
}

/** A ServiceAccount whose token the operator requests (TokenRequest API) to authenticate to a store. */
export interface ServiceAccountRef {
  name: string;
  namespace?: string;
  audience?: string;
}

/** Chosen by the user as `{}`: the method needs no settings. */
export type NoSettings = Record<string, never>;

// ---------------------------------------------------------------- providers

export interface AwsProvider {
  region: string;
  endpoint?: string;
  /** Allows an `http:` endpoint on a host other than loopback; off unless set to true. */
  allowInsecureHttp?: boolean;
  /** IAM roles a SecretReference's `dynamic.awsRole` may name; none when unset. */
  assumableRoles?: string[];
  auth: AwsAuth;
}

/** Exactly one method is set. */
export interface AwsAuth {
  /** The operator's own identity: ClusterSecretStore only. */
  defaultChain?: NoSettings;
  webIdentity?: AwsWebIdentityAuth;
  secretRef?: AwsAccessKeyAuth;
}

export interface AwsWebIdentityAuth {
  roleArn: string;
  serviceAccountRef: ServiceAccountRef;
}

export interface AwsAccessKeyAuth {
  accessKeyId: SecretKeyRef;
  secretAccessKey: SecretKeyRef;
  sessionToken?: SecretKeyRef;
}

export interface GcpProvider {
  projectID: string;
  /** gRPC host:port; a loopback address is reached without TLS. */
  endpoint?: string;
  auth: GcpAuth;
}

/** Exactly one method is set. */
export interface GcpAuth {
  /** The operator's own identity: ClusterSecretStore only. */
  applicationDefault?: NoSettings;
  workloadIdentity?: GcpWorkloadIdentityAuth;
  secretRef?: GcpKeyAuth;
}

export interface GcpWorkloadIdentityAuth {
  /** `audience` is required here: the workload identity pool provider. */
  serviceAccountRef: ServiceAccountRef;
  serviceAccountEmail?: string;
}

export interface GcpKeyAuth {
  keyJSON: SecretKeyRef;
}

export interface VaultProvider {
  server: string;
  /** Vault Enterprise namespace, unrelated to Kubernetes namespaces. */
  namespace?: string;
  kv?: VaultKv;
  /** PEM, base64-encoded. */
  caBundle?: string;
  /** Allows an `http:` server on a host other than loopback; off unless set to true. */
  allowInsecureHttp?: boolean;
  auth: VaultAuth;
}

export interface VaultKv {
  mount?: string;
  version?: 1 | 2;
}

/** Exactly one method is set. */
export interface VaultAuth {
  kubernetes?: VaultKubernetesAuth;
  appRole?: VaultAppRoleAuth;
  tokenSecretRef?: SecretKeyRef;
}

export interface VaultKubernetesAuth {
  mountPath?: string;
  role: string;
  serviceAccountRef: ServiceAccountRef;
}

export interface VaultAppRoleAuth {
  mountPath?: string;
  roleId: string;
  secretIdRef: SecretKeyRef;
}

/** Exactly one provider is set. */
export interface StoreProvider {
  aws?: AwsProvider;
  gcp?: GcpProvider;
  vault?: VaultProvider;
}

export type ProviderName = keyof StoreProvider;

// ---------------------------------------------------------------- stores

export interface SecretStoreSpec {
  provider: StoreProvider;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: V1LabelSelectorRequirement[];
}

/** At least one of names and selector is set; `selector: {}` allows every namespace. */
export interface AllowedNamespaces {
  names?: string[];
  selector?: LabelSelector;
}

/**
 * Which remote secrets the namespaces a rule selects may reach through a ClusterSecretStore: those named in
 * `names` exactly, and those whose name starts with one of `prefixes`. At least one of the two is set.
 */
export interface RemoteAccessRule {
  namespaces: AllowedNamespaces;
  names?: string[];
  prefixes?: string[];
}

export interface ClusterSecretStoreSpec extends SecretStoreSpec {
  allowedNamespaces: AllowedNamespaces;
  /**
   * When set, a namespace reaches only the remotes of the rules that select it (none if none does), by
   * plain reference and by find. When absent, plain references reach any remote and find is refused.
   */
  remoteAccess?: RemoteAccessRule[];
}

/** A condition in the Kubernetes API conventions' shape. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  /** RFC 3339. */
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface StoreStatus {
  provider?: ProviderName;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface SecretStore {
  apiVersion: 'secretlink.dev/v1alpha1';
  kind: 'SecretStore';
  metadata: V1ObjectMeta;
  spec: SecretStoreSpec;
  status?: StoreStatus;
}

export interface ClusterSecretStore {
  apiVersion: 'secretlink.dev/v1alpha1';
  kind: 'ClusterSecretStore';
  metadata: V1ObjectMeta;
  spec: ClusterSecretStoreSpec;
  status?: StoreStatus;
}

export type AnySecretStore = SecretStore | ClusterSecretStore;

// ---------------------------------------------------------------- references

export interface StoreRef {
  kind?: 'SecretStore' | 'ClusterSecretStore';
  name: string;
}

export interface RemoteRef {
  /** The secret's name in the store (Secrets Manager name or ARN, Secret Manager id, path under the KV mount). */
  name: string;
  /**
   * Dotted path into a JSON value, e.g. `credentials.password` or `hosts.0`; `\.` is a dot inside a name.
   * A key equal to the whole path wins over walking it.
   */
  property?: string;
  version?: string;
}

/** How a value read from the store becomes the Secret's bytes; `none` (the default) keeps it as read. */
export type Decoding = 'none' | 'base64' | 'base64url' | 'auto';

export interface DataEntry {
  /** The key in the written Secret. */
  key: string;
  remote: RemoteRef;
  /** Defaults to `none`. */
  decoding?: Decoding;
}

/**
 * One step of a dataFrom entry's key rewrite; exactly one field is set. `regexp` is External Secrets
 * Operator's (every match of `source` replaced by `target`, which may use `$1` and `${1}`); `prefix` and
 * `case` are secretlink's own.
 */
export interface KeyRewrite {
  regexp?: { source: string; target: string };
  prefix?: string;
  case?: 'upper' | 'lower';
}

/**
 * Remote secrets looked up by name, path or tags instead of named one by one; each found secret becomes one key
 * (its name) holding its whole value. At least one of path, name and tags is set.
 */
export interface RemoteFind {
  /** Only secrets whose name starts with this; in Vault, the listing starts at its folder. */
  path?: string;
  /** A regular expression the name must match (anywhere in it, as External Secrets Operator does). */
  name?: { regexp: string };
  /** Tags (AWS) or labels (GCP) a secret must carry, every one with this value. Vault keeps none. */
  tags?: Record<string, string>;
  /** The most remote secrets this entry may read; defaults to 20, at most 100. */
  maxSecrets?: number;
}

/** Exactly one of remote and find is set. */
export interface DataFromEntry {
  remote?: Omit<RemoteRef, 'property'>;
  find?: RemoteFind;
  /** Applied to every property; defaults to `none`. */
  decoding?: Decoding;
  /** Applied in order to every key, before the key is checked. */
  rewrite?: KeyRewrite[];
}

/**
 * Keys of the Secret rendered by Liquid templates from the resolved values (External Secrets Operator's
 * `target.template.data` and `mergePolicy`). Templates render data only, never labels or annotations.
 */
export interface SecretTemplate {
  /** Secret key → template; a template without tags is written as it is (literal data). */
  data: Record<string, string>;
  /** Replace (the default): only these keys are written. Merge: the resolved keys too, these winning. */
  mergePolicy?: 'Replace' | 'Merge';
}

export interface Target {
  /** Defaults to the SecretReference's own name (applied by the operator, not the API server). */
  name?: string;
  type?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  template?: SecretTemplate;
}

/** Which Jobs may consume: a selector over the pod template's labels, optionally also by ServiceAccount. */
export interface Consumers extends LabelSelector {
  serviceAccountNames?: string[];
}

/** A role of Vault's database secrets engine: the credential comes from `<mount>/creds/<role>`. */
export interface DynamicDatabase {
  /** Defaults to `database`. */
  mount?: string;
  role: string;
}

/**
 * A credential the store creates on demand (Vault stores only): one lease per Secret write, bounded by ttl,
 * revoked at Vault when the Secret is revoked or expires (docs/design.md, dynamic credentials).
 */
/** Temporary AWS credentials for a role the store lists in `assumableRoles` (STS AssumeRole). */
export interface DynamicAwsRole {
  roleArn: string;
}

/** Exactly one of database (Vault stores) and awsRole (AWS stores) is set. */
export interface DynamicCredential {
  database?: DynamicDatabase;
  awsRole?: DynamicAwsRole;
  /** Defaults to `username`. */
  usernameKey?: string;
  /** Defaults to `password`. */
  passwordKey?: string;
  /**
   * Go-style duration, 10s..24h, with `database` only. Set: the lease is held only this far ahead and renewed
   * by the operator while its Secret is entitled, never past its bound. Unset: renewed once, at issue, to its bound.
   */
  renewalIncrement?: string;
}

export interface SecretReferenceSpec {
  storeRef: StoreRef;
  data?: DataEntry[];
  dataFrom?: DataFromEntry[];
  dynamic?: DynamicCredential;
  target?: Target;
  consumers: Consumers;
  /** Go-style duration, 1m..24h. */
  ttl?: string;
  /** Go-style duration, 10s..24h. */
  refreshInterval?: string;
  /** Shared (default): one Secret for every consuming Job. PerJob: each consuming Job gets its own. Immutable. */
  isolation?: Isolation;
}

/**
 * How consuming Jobs share what a reference materializes. PerJob gives each Job its own Secret, named
 * `<target>-<job uid>`, and needs the per-Job mutating admission policy (config/components/per-job).
 */
export type Isolation = 'Shared' | 'PerJob';

export interface ConsumingJob {
  name: string;
  uid: string;
  /** RFC 3339. */
  startTime?: string;
  /** RFC 3339: when this Job's access ends, ttl after its start. */
  expiresAt?: string;
}

/** A Job that refers to the target Secret but may not use it. */
export interface RefusedJob {
  name: string;
  uid: string;
  reason: string;
}

export interface RemoteVersion {
  name: string;
  version: string;
}

/**
 * The Secret the operator created for this reference. The name (the claim) is recorded before the first
 * create and the uid once the API server confirms it; only a Secret with this uid is ever updated, adopted
 * or deleted. Status is writable by the operator alone, so the record cannot be forged.
 */
export interface ManagedSecretRecord {
  name: string;
  uid?: string;
}

/**
 * A Secret the operator created for this reference under a name that is no longer its target (the target was
 * renamed). Kept until the API server confirms the Secret with this uid is gone; the pod admission policy
 * guards the name meanwhile.
 */
export interface RetiredSecret {
  name: string;
  uid: string;
}

/** When the operator first saw a Job running; its ttl counts from here, whatever the Job's status says later. */
export interface JobStart {
  name: string;
  uid: string;
  /** RFC 3339. */
  firstStartTime: string;
}

/** Never holds a value. */
export interface SecretReferenceStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  secretName?: string;
  consumingJobs?: ConsumingJob[];
  consumingJobCount?: number;
  refusedJobs?: RefusedJob[];
  /** RFC 3339. */
  writtenAt?: string;
  /** RFC 3339. */
  expiresAt?: string;
  remoteVersions?: RemoteVersion[];
  managedSecret?: ManagedSecretRecord;
  /** Secrets created under an earlier target name and not yet confirmed deleted. */
  retiredSecrets?: RetiredSecret[];
  /** One entry per Job that has started and still exists. */
  jobStarts?: JobStart[];
}

export interface SecretReference {
  apiVersion: 'secretlink.dev/v1alpha1';
  kind: 'SecretReference';
  metadata: V1ObjectMeta;
  spec: SecretReferenceSpec;
  status?: SecretReferenceStatus;
}
