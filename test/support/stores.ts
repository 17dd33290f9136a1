// What integration tests use to put values into the environment's secret stores, through each store's
// official client: create a secret, add a version (rotate), and set up Vault policies and auth roles.
import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import * as k8s from '@kubernetes/client-node';
import nodeVault from 'node-vault';
import { gcpEmulatorClient, motoClient } from '../env/stores/clients.ts';
import type { StoreCoordinates } from '../env/stores/coordinates.ts';
import { resetMoto } from '../env/stores/moto.ts';
import { api, environment } from './cluster.ts';

/** A string is stored as text, a plain object as its JSON, bytes as binary. */
export type StoreValue = string | Uint8Array | Record<string, unknown>;

export function stores(): StoreCoordinates {
  return environment().stores;
}

/** Remote names no other test uses; stores outlive test files, so every test names its own secrets. */
export function uniqueSecretName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

// ---- AWS Secrets Manager (moto) ----

let moto: SecretsManagerClient | undefined;

/** One client per test file, closed with the GCP one by closeStoreClients. */
export function awsClient(): SecretsManagerClient {
  moto ??= motoClient(stores().aws);
  return moto;
}

function awsPayload(value: StoreValue): { SecretString?: string; SecretBinary?: Uint8Array } {
  if (typeof value === 'string') return { SecretString: value };
  if (value instanceof Uint8Array) return { SecretBinary: value };
  return { SecretString: JSON.stringify(value) };
}

/** Creates the secret with its first version; returns that version's id. */
export async function seedAwsSecret(
  name: string,
  value: StoreValue,
): Promise<{ arn: string; versionId: string }> {
  const created = await awsClient().send(new CreateSecretCommand({ Name: name, ...awsPayload(value) }));
  return { arn: created.ARN!, versionId: created.VersionId! };
}

/** Adds a version that becomes AWSCURRENT (the one before becomes AWSPREVIOUS); returns its id. */
export async function rotateAwsSecret(name: string, value: StoreValue): Promise<string> {
  const put = await awsClient().send(new PutSecretValueCommand({ SecretId: name, ...awsPayload(value) }));
  return put.VersionId!;
}

/** Empties moto, when this run started it; a server given through SECRETLINK_AWS_ENDPOINT is left alone. */
export async function resetAwsStore(): Promise<void> {
  const { aws } = stores();
  if (aws.resettable) await resetMoto(aws.endpoint);
}

// ---- GCP Secret Manager (emulator) ----

let gcp: SecretManagerServiceClient | undefined;

/** One client per test file, over plaintext gRPC to the emulator and with no Google credentials at all. */
export function gcpClient(): SecretManagerServiceClient {
  gcp ??= gcpEmulatorClient(stores().gcp);
  return gcp;
}

export async function closeStoreClients(): Promise<void> {
  moto?.destroy();
  moto = undefined;
  await gcp?.close();
  gcp = undefined;
}

/** projects/<project>/secrets/<id> */
export function gcpSecretName(id: string): string {
  return `projects/${stores().gcp.projectID}/secrets/${id}`;
}

function gcpPayload(value: StoreValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Creates the secret and its first version; returns the version id ("1"). */
export async function seedGcpSecret(id: string, value: StoreValue): Promise<string> {
  await gcpClient().createSecret({
    parent: `projects/${stores().gcp.projectID}`,
    secretId: id,
    secret: { replication: { automatic: {} } },
  });
  return rotateGcpSecret(id, value);
}

/** Adds a version, which becomes "latest"; returns its id. */
export async function rotateGcpSecret(id: string, value: StoreValue): Promise<string> {
  const [version] = await gcpClient().addSecretVersion({
    parent: gcpSecretName(id),
    payload: { data: gcpPayload(value) },
  });
  return version.name!.split('/').at(-1)!;
}

// ---- Vault ----

export type VaultClient = ReturnType<typeof nodeVault>;

/** A client with the root token, or with `token` (one a test obtained by logging in). */
export function vaultClient(token = stores().vault.rootToken): VaultClient {
  return nodeVault({ endpoint: stores().vault.address, token });
}

/** A client holding no token yet: its login call (kubernetesLogin, approleLogin) sets the one it gets. */
export function vaultLoginClient(): VaultClient {
  return nodeVault({ endpoint: stores().vault.address });
}

/** The HTTP status of a failed Vault call, for asserting that Vault refused something. */
export function vaultStatusOf(error: unknown): number | undefined {
  return (error as { response?: { statusCode?: number } }).response?.statusCode;
}

export interface VaultKvLocation {
  /** Defaults to the KV v2 mount (secret). */
  mount?: string;
  version?: 1 | 2;
}

/**
 * Writes a KV secret; on KV v2 every write is a new version, and its number is returned. Vault holds JSON,
 * so bytes are stored base64-encoded under the given key by the caller.
 */
export async function writeVaultSecret(
  path: string,
  data: Record<string, unknown>,
  { mount = stores().vault.kvV2Mount, version = 2 }: VaultKvLocation = {},
): Promise<number | undefined> {
  if (version === 1) {
    await vaultClient().write(`${mount}/${path}`, data);
    return undefined;
  }
  const written = await vaultClient().write(`${mount}/data/${path}`, { data });
  return written.data.version as number;
}

export const seedVaultSecret = writeVaultSecret;
export const rotateVaultSecret = writeVaultSecret;

/** Reads a KV v2 secret (optionally one version) with the given client; returns its data. */
export async function readVaultSecret(
  client: VaultClient,
  path: string,
  { mount = stores().vault.kvV2Mount, version }: { mount?: string; version?: number } = {},
): Promise<Record<string, unknown>> {
  const query = version === undefined ? '' : `?version=${version}`;
  const read = await client.read(`${mount}/data/${path}${query}`);
  return read.data.data as Record<string, unknown>;
}

/** An ACL policy granting read on each KV v2 path (globs allowed) of the given mount. */
export function kvReadPolicy(paths: string[], mount = stores().vault.kvV2Mount): string {
  return paths.map((path) => `path "${mount}/data/${path}" { capabilities = ["read"] }`).join('\n');
}

export async function writeVaultPolicy(name: string, rules: string): Promise<void> {
  await vaultClient().addPolicy({ name, rules });
}

/** A Kubernetes auth role: tokens of this ServiceAccount in this namespace log in with these policies. */
export async function createVaultKubernetesRole(role: {
  name: string;
  serviceAccount: string;
  namespace: string;
  policies: string[];
  /** When set, Vault asks the TokenReview API to accept only tokens minted for this audience. */
  audience?: string;
}): Promise<void> {
  await vaultClient().write(`auth/${stores().vault.kubernetesAuthPath}/role/${role.name}`, {
    bound_service_account_names: [role.serviceAccount],
    bound_service_account_namespaces: [role.namespace],
    token_policies: role.policies,
    token_ttl: '15m',
    ...(role.audience ? { audience: role.audience } : {}),
  });
}

/** An AppRole role and one secret id for it: the two halves of an AppRole login. */
export async function createVaultAppRole(role: {
  name: string;
  policies: string[];
}): Promise<{ roleId: string; secretId: string }> {
  const vault = vaultClient();
  const base = `auth/${stores().vault.appRoleAuthPath}/role/${role.name}`;
  await vault.write(base, { token_policies: role.policies, token_ttl: '15m' });
  const roleId = await vault.read(`${base}/role-id`);
  const secretId = await vault.write(`${base}/secret-id`, {});
  return { roleId: roleId.data.role_id as string, secretId: secretId.data.secret_id as string };
}

// ---- Kubernetes ServiceAccount tokens ----

/** A ServiceAccount token minted by the cluster's TokenRequest API, as a kubelet would project it. */
export async function mintServiceAccountToken(
  namespace: string,
  serviceAccount: string,
  { audience, expirationSeconds = 600 }: { audience?: string; expirationSeconds?: number } = {},
): Promise<string> {
  const request = await api(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: audience ? [audience] : [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return token;
}
