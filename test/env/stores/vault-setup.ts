// Prepares Vault the way the providers' tests expect it: KV v2 at secret/, KV v1 at kv1/, AppRole auth,
// Kubernetes auth that validates ServiceAccount tokens through the cluster's own TokenReview API, and the
// database engine at database/ with a role whose credentials are login roles of the run's PostgreSQL.
// Every step checks first, so an existing Vault (SECRETLINK_VAULT_ADDR) can be prepared more than once.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import nodeVault from 'node-vault';
import type { PostgresServer, VaultStore } from './coordinates.ts';

export const vaultLayout = {
  kvV2Mount: 'secret',
  kvV1Mount: 'kv1',
  kubernetesAuthPath: 'kubernetes',
  appRoleAuthPath: 'approle',
  databaseMount: 'database',
  databaseRole: 'elt-reader',
} as const satisfies Partial<VaultStore>;

/** The identity Vault presents to the TokenReview API; bound to system:auth-delegator. */
export const tokenReviewer = { name: 'vault-token-reviewer', namespace: 'kube-system' } as const;
// Long enough for any test run or demo session; Vault keeps using it for every login.
const reviewerTokenSeconds = 24 * 60 * 60;

type VaultClient = ReturnType<typeof nodeVault>;

export async function prepareVaultMounts(address: string, token: string): Promise<void> {
  const vault = nodeVault({ endpoint: address, token });
  const mounts = await listed(vault.mounts());
  if (!mounts[`${vaultLayout.kvV2Mount}/`]) {
    await vault.mount({ mount_point: vaultLayout.kvV2Mount, type: 'kv', options: { version: '2' } });
  }
  if (!mounts[`${vaultLayout.kvV1Mount}/`]) {
    await vault.mount({ mount_point: vaultLayout.kvV1Mount, type: 'kv', options: { version: '1' } });
  }
  const auths = await listed(vault.auths());
  if (!auths[`${vaultLayout.appRoleAuthPath}/`]) {
    await vault.enableAuth({ mount_point: vaultLayout.appRoleAuthPath, type: 'approle' });
  }
  if (!auths[`${vaultLayout.kubernetesAuthPath}/`]) {
    await vault.enableAuth({ mount_point: vaultLayout.kubernetesAuthPath, type: 'kubernetes' });
  }
}

/**
 * A login role per lease, valid until the lease's expiry and renewed with it (the plugin's default renewal
 * statement moves VALID UNTIL); at revocation its sessions are terminated before the role is dropped, so
 * revoking a lease also ends what is already connected. The short default TTL makes the operator renew.
 */
export const databaseRoleSettings = {
  default_ttl: '20s',
  max_ttl: '1h',
  creation_statements: [
    // No GRANT: PUBLIC may connect to the database already, and a granted privilege would make DROP ROLE
    // fail at revocation ("some objects depend on it"), leaving the login in place.
    `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
  ],
  revocation_statements: [
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';`,
    `DROP ROLE IF EXISTS "{{name}}";`,
  ],
} as const;

export async function configureVaultDatabase(
  address: string,
  token: string,
  postgres: PostgresServer,
): Promise<void> {
  const vault = nodeVault({ endpoint: address, token });
  const mounts = await listed(vault.mounts());
  const mount = vaultLayout.databaseMount;
  if (!mounts[`${mount}/`]) await vault.mount({ mount_point: mount, type: 'database' });
  await vault.write(`${mount}/config/postgres`, {
    plugin_name: 'postgresql-database-plugin',
    connection_url: `postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/${postgres.database}?sslmode=disable`,
    username: postgres.user,
    password: postgres.password,
    allowed_roles: [vaultLayout.databaseRole],
    verify_connection: true,
  });
  await vault.write(`${mount}/roles/${vaultLayout.databaseRole}`, {
    db_name: 'postgres',
    ...databaseRoleSettings,
  });
}

/** Points Vault's Kubernetes auth at the cluster in `kubeconfig`, with a reviewer token minted by TokenRequest. */
export async function configureVaultKubernetesAuth(
  address: string,
  token: string,
  kubeconfig: string,
): Promise<void> {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error(`${kubeconfig} names no current cluster`);
  const reviewerJwt = await mintReviewerToken(config);
  await untilReviewerMayReviewTokens(cluster, reviewerJwt);
  const vault: VaultClient = nodeVault({ endpoint: address, token });
  await vault.write(`auth/${vaultLayout.kubernetesAuthPath}/config`, {
    kubernetes_host: cluster.server,
    kubernetes_ca_cert: clusterCaPem(cluster),
    token_reviewer_jwt: reviewerJwt,
    // The issuer exactly as this API server writes it into tokens, checked by Vault besides the TokenReview.
    issuer: issuerOf(reviewerJwt),
    disable_iss_validation: false,
    // Vault runs outside the cluster: there is no pod token or CA file of its own to fall back on.
    disable_local_ca_jwt: true,
  });
}

async function mintReviewerToken(config: k8s.KubeConfig): Promise<string> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
  await ignoreConflict(
    core.createNamespacedServiceAccount({
      namespace: tokenReviewer.namespace,
      body: { metadata: { name: tokenReviewer.name } },
    }),
  );
  await ignoreConflict(
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: tokenReviewer.name },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'system:auth-delegator',
        },
        subjects: [{ kind: 'ServiceAccount', name: tokenReviewer.name, namespace: tokenReviewer.namespace }],
      },
    }),
  );
  const request = await core.createNamespacedServiceAccountToken({
    name: tokenReviewer.name,
    namespace: tokenReviewer.namespace,
    body: { spec: { audiences: [], expirationSeconds: reviewerTokenSeconds } },
  });
  const jwt = request.status?.token;
  if (!jwt) throw new Error('the TokenRequest for the Vault token reviewer returned no token');
  return jwt;
}

/**
 * The API server's RBAC authorizer learns of a new binding from its informers, a moment after the write;
 * a Vault login in that moment would be refused. So wait until the reviewer's own TokenReview succeeds.
 */
async function untilReviewerMayReviewTokens(cluster: k8s.Cluster, reviewerJwt: string): Promise<void> {
  const asReviewer = new k8s.KubeConfig();
  asReviewer.loadFromOptions({
    clusters: [cluster],
    users: [{ name: tokenReviewer.name, token: reviewerJwt }],
    contexts: [{ name: 'reviewer', cluster: cluster.name, user: tokenReviewer.name }],
    currentContext: 'reviewer',
  });
  const authentication = asReviewer.makeApiClient(k8s.AuthenticationV1Api);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await authentication.createTokenReview({ body: { spec: { token: reviewerJwt } } });
      return;
    } catch (error) {
      const forbidden = error instanceof k8s.ApiException && error.code === 403;
      if (!forbidden || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The cluster's CA certificate in PEM, from the kubeconfig's inline data or its file. */
export function clusterCaPem(cluster: k8s.Cluster): string {
  if (cluster.caData) return Buffer.from(cluster.caData, 'base64').toString('utf8');
  if (cluster.caFile) return readFileSync(cluster.caFile, 'utf8');
  throw new Error(`the kubeconfig gives no CA certificate for ${cluster.server}`);
}

function issuerOf(jwt: string): string {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    iss?: string;
  };
  if (!payload.iss) throw new Error('the reviewer token carries no issuer');
  return payload.iss;
}

/** Older Vault answers list endpoints with the entries at the top level, newer ones under `data`. */
async function listed(response: Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const body = await response;
  return (body.data as Record<string, unknown> | undefined) ?? body;
}

async function ignoreConflict(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  }
}
