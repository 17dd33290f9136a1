// The Vault fixture: a Vault dev server, set up with the root token the way an administrator would: a
// Kubernetes auth mount that reviews tokens with this run's API server, a read policy for the conformance
// secrets, and a role bound to one ServiceAccount. Mount names are unique so fixtures never collide.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { StoreObject, VaultProviderSpec } from '../../src/providers/store-spec.ts';
import { clusterCaPem } from '../env/stores/vault-setup.ts';
import { api, environment, kubeConfig } from '../support/cluster.ts';
import { mintServiceAccountToken, stores } from '../support/stores.ts';
import { ClusterCredentials } from './cluster-credentials.ts';
import type { ConformanceFixture, StoredVersion } from './fixture.ts';

export interface VaultFixture extends ConformanceFixture {
  admin: VaultAdmin;
  cluster: ClusterCredentials;
  /** A store in the fixture's namespace with the given Vault settings (server defaults to the dev server). */
  storeWith(spec: Partial<VaultProviderSpec> & Pick<VaultProviderSpec, 'auth'>, name?: string): StoreObject;
}

export async function vaultFixture(): Promise<VaultFixture> {
  const { address, rootToken } = stores().vault;
  const admin = new VaultAdmin(address, rootToken);
  const cluster = await ClusterCredentials.create('conf-vault');
  const suffix = randomBytes(3).toString('hex');
  const kubernetesMount = `kubernetes-${suffix}`;
  const readPolicy = `conformance-read-${suffix}`;
  const binding = `conformance-vault-${suffix}`;

  await admin.write(`sys/policies/acl/${readPolicy}`, {
    // list lets find go through the mount's root and the conformance folders; reading stays on conf-*.
    policy: [
      'path "secret/data/conf-*" { capabilities = ["read"] }',
      'path "secret/metadata/conf-*" { capabilities = ["read", "list"] }',
      'path "secret/metadata/" { capabilities = ["list"] }',
    ].join('\n'),
  });
  await admin.write(`sys/policies/acl/conformance-nothing-${suffix}`, {
    policy: 'path "secret/data/elsewhere/*" { capabilities = ["read"] }',
  });
  await cluster.serviceAccount('vault-reader', ['vault', 'vault-elsewhere']);
  // The operator's login token is for the audience vault only, so it cannot itself authenticate Vault's
  // TokenReview: Vault reviews it with a reviewer token of its own, as a real Vault does.
  await cluster.serviceAccount('vault-reviewer', []);
  await api(k8s.RbacAuthorizationV1Api).createClusterRoleBinding({
    body: {
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'vault-reviewer', namespace: cluster.namespace }],
    },
  });
  await admin.write(`sys/auth/${kubernetesMount}`, { type: 'kubernetes' });
  await admin.write(`auth/${kubernetesMount}/config`, {
    kubernetes_host: environment().server,
    kubernetes_ca_cert: clusterCaPem(kubeConfig().getCurrentCluster()!),
    token_reviewer_jwt: await mintServiceAccountToken(cluster.namespace, 'vault-reviewer', {
      expirationSeconds: 3600,
    }),
    disable_local_ca_jwt: true,
  });
  await admin.write(`auth/${kubernetesMount}/role/reader`, {
    bound_service_account_names: ['vault-reader'],
    bound_service_account_namespaces: [cluster.namespace],
    token_policies: [readPolicy],
    token_ttl: '1h',
    // The operator mints tokens for the audience vault; Vault's TokenReview asks for the same.
    audience: 'vault',
  });

  const storeWith = (
    spec: Partial<VaultProviderSpec> & Pick<VaultProviderSpec, 'auth'>,
    name = 'vault',
  ): StoreObject => ({
    kind: 'SecretStore',
    metadata: {
      name,
      namespace: cluster.namespace,
      uid: `uid-${name}-${randomBytes(3).toString('hex')}`,
      generation: 1,
    },
    spec: { provider: { vault: { server: address, kv: { mount: 'secret', version: 2 }, ...spec } } },
  });
  const kubernetesAuth = {
    kubernetes: { mountPath: kubernetesMount, role: 'reader', serviceAccountRef: { name: 'vault-reader' } },
  };
  const tokenStore = async (token: string) => {
    const secret = `vault-token-${randomBytes(3).toString('hex')}`;
    await cluster.secret(secret, { token }, [secret]);
    return storeWith({ auth: { tokenSecretRef: { name: secret, key: 'token' } } }, secret);
  };

  return {
    provider: 'vault',
    credentials: cluster.source,
    admin,
    cluster,
    storeWith,
    store: () => storeWith({ auth: kubernetesAuth }),
    storeAt: (host, port) =>
      storeWith({ server: `http://${host}:${port}`, auth: kubernetesAuth }, 'vault-elsewhere'),
    deniedStore: async () => tokenStore(await admin.token([`conformance-nothing-${suffix}`])),
    storeWithCredential: (credential) => tokenStore(credential),
    put: (name, value) => admin.put('secret', name, value),
    async close() {
      await api(k8s.RbacAuthorizationV1Api)
        .deleteClusterRoleBinding({ name: binding })
        .catch(() => undefined);
      await admin.request('DELETE', `sys/auth/${kubernetesMount}`).catch(() => undefined);
      await cluster.close();
    },
  };
}

/** What an administrator does with the root token, over Vault's HTTP API. */
export class VaultAdmin {
  readonly address: string;
  readonly #token: string;
  readonly #namespace: string | undefined;

  constructor(address: string, token: string, namespace?: string) {
    this.address = address;
    this.#token = token;
    this.#namespace = namespace;
  }

  /** The same administrator, acting inside a namespace (OpenBao and Vault Enterprise have them). */
  inNamespace(namespace: string): VaultAdmin {
    return new VaultAdmin(this.address, this.#token, namespace);
  }

  request(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.#send(method, path, body === undefined ? undefined : JSON.stringify(body));
  }

  /** Sends `body` as written, so a number beyond 2^53 reaches Vault with every digit. */
  async #send(method: string, path: string, body: string | undefined): Promise<unknown> {
    const answer = await fetch(new URL(`/v1/${path}`, this.address), {
      method,
      headers: {
        'x-vault-token': this.#token,
        'content-type': 'application/json',
        ...(this.#namespace ? { 'x-vault-namespace': this.#namespace } : {}),
      },
      body,
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`Vault ${method} ${path} answered ${answer.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  write(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body);
  }

  /** Stores a JSON object as the secret's map, and any other text under the key `value`. */
  async put(
    mount: string,
    name: string,
    value: string | Buffer,
    kvVersion: 1 | 2 = 2,
  ): Promise<StoredVersion> {
    const text = value.toString();
    const data = isJsonObject(text) ? text : JSON.stringify({ value: text });
    if (kvVersion === 1) {
      await this.#send('POST', `${mount}/${name}`, data);
      return { versionId: 'unversioned', version: 'latest' };
    }
    const answer = (await this.#send('POST', `${mount}/data/${name}`, `{"data":${data}}`)) as {
      data: { version: number };
    };
    return { versionId: String(answer.data.version), version: String(answer.data.version) };
  }

  async token(policies: string[], options: Record<string, unknown> = {}): Promise<string> {
    const answer = (await this.write('auth/token/create', {
      policies,
      no_default_policy: false,
      ...options,
    })) as {
      auth: { client_token: string };
    };
    return answer.auth.client_token;
  }
}

function isJsonObject(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}
