// Names of the secretlink.dev API and of the marks the operator puts on what it manages. Tests keep these in
// step with crds/.

export const group = 'secretlink.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

export const kinds = {
  secretStore: 'SecretStore',
  clusterSecretStore: 'ClusterSecretStore',
  secretReference: 'SecretReference',
} as const;

export const plurals = {
  secretStore: 'secretstores',
  clusterSecretStore: 'clustersecretstores',
  secretReference: 'secretreferences',
} as const;

/** The values the API server fills in when a field is left unset (crds/ declares them as defaults). */
export const defaults = {
  ttl: '1h',
  refreshInterval: '5m',
  storeKind: kinds.secretStore,
  targetType: 'Opaque',
  templateMergePolicy: 'Replace',
  vaultKvMount: 'secret',
  vaultKvVersion: 2,
  vaultKubernetesMountPath: 'kubernetes',
  vaultAppRoleMountPath: 'approle',
} as const;

/** Labels on every Secret the operator writes, so it can find its own and never adopt anyone else's. */
export const labels = {
  /** Always `managedBy`: marks a Secret as written (and deletable) by secretlink. */
  managedBy: `${group}/managed-by`,
  /** The SecretReference that wrote the Secret. */
  reference: `${group}/reference`,
  /** On a per-Job Secret (isolation PerJob): the uid of the one Job it was written for. */
  job: `${group}/job-uid`,
} as const;

export const managedBy = 'secretlink';

/** Annotations on managed Secrets: what was written and until when; never a value. */
export const annotations = {
  /** The store the values came from, as `<kind>/<name>`. */
  store: `${group}/store`,
  /** When the Secret was written or last refreshed (RFC 3339). */
  writtenAt: `${group}/written-at`,
  /** When the Secret will be revoked at the latest (RFC 3339). */
  expiresAt: `${group}/expires-at`,
  /** JSON list of `{name, version}` read from the store. */
  remoteVersions: `${group}/remote-versions`,
} as const;

/** The condition type every secretlink resource reports. */
export const readyCondition = 'Ready';
