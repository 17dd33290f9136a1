// Where tests reach the secret stores, handed to them with the rest of the environment. Everything here is
// serialisable; the Vault root token is a throwaway credential of the test run and is never logged.

export interface AwsStore {
  /** moto's URL, for the SDK's `endpoint` option. */
  endpoint: string;
  region: string;
  /** moto accepts any credentials, but the SDK insists on having some. */
  accessKeyId: string;
  secretAccessKey: string;
  /** True when this run started moto, so its state may be reset between test files. */
  resettable: boolean;
}

export interface GcpStore {
  /** host:port of the Secret Manager emulator; plaintext gRPC. */
  endpoint: string;
  projectID: string;
}

export interface VaultStore {
  /** http://127.0.0.1:<port> */
  address: string;
  rootToken: string;
  /** KV version 2, as dev mode mounts it. */
  kvV2Mount: string;
  /** KV version 1, for providers that read v1 mounts. */
  kvV1Mount: string;
  /** Kubernetes auth, validating ServiceAccount tokens through the cluster's TokenReview API. */
  kubernetesAuthPath: string;
  appRoleAuthPath: string;
  /** Vault's database secrets engine, configured against `postgres`. */
  databaseMount: string;
  /** A role of that engine whose credentials log in to `postgres` until their lease ends. */
  databaseRole: string;
}

/** PostgreSQL on loopback, behind Vault's database engine. The superuser is the run's, like the Vault root token. */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The client of the same installation, for tests that log in as a credential would. */
  psql: string;
}

export interface StoreCoordinates {
  aws: AwsStore;
  gcp: GcpStore;
  vault: VaultStore;
  postgres: PostgresServer;
}

/** Point the tests at servers already running instead of starting them. */
export const externalStoreVariables = {
  awsEndpoint: 'SECRETLINK_AWS_ENDPOINT',
  awsRegion: 'SECRETLINK_AWS_REGION',
  gcpEndpoint: 'SECRETLINK_GCP_ENDPOINT',
  gcpProject: 'SECRETLINK_GCP_PROJECT',
  vaultAddress: 'SECRETLINK_VAULT_ADDR',
  vaultToken: 'SECRETLINK_VAULT_TOKEN',
  /** `openbao` (default) or `vault`: which Vault-API server the environment starts itself. */
  vaultServer: 'SECRETLINK_VAULT_SERVER',
} as const;

export const defaultAwsRegion = 'us-east-1';
export const defaultGcpProject = 'secretlink-test';
