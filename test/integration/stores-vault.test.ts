// The environment's Vault is a real dev server: KV v2 versions, a KV v1 mount, AppRole, and Kubernetes auth
// that accepts a ServiceAccount token only after the local API server's TokenReview vouches for it.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createNamespace, deleteNamespace, eventually } from '../support/cluster.ts';
import {
  createVaultAppRole,
  createVaultKubernetesRole,
  kvReadPolicy,
  mintServiceAccountToken,
  readVaultSecret,
  rotateVaultSecret,
  seedVaultSecret,
  stores,
  uniqueSecretName,
  vaultClient,
  vaultLoginClient,
  vaultStatusOf,
  writeVaultPolicy,
  writeVaultSecret,
} from '../support/stores.ts';

let namespace: string;
beforeAll(async () => {
  namespace = await createNamespace('stores-vault');
});
afterAll(() => deleteNamespace(namespace));

async function createServiceAccount(name: string): Promise<void> {
  await api(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
}

/** node-vault's default login path is empty unless the mount is named, so every login names it. */
function kubernetesAuthPath(): string {
  return stores().vault.kubernetesAuthPath;
}

/** Refused calls: the HTTP status Vault answered with. */
async function refusal(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return vaultStatusOf(error);
  }
}

describe('Vault dev server', () => {
  it('listens on loopback', () => {
    expect(new URL(stores().vault.address).hostname).toBe('127.0.0.1');
  });

  it('keeps every KV v2 write as a version: latest by default, an older one on request', async () => {
    const path = uniqueSecretName('kv2');
    expect(await seedVaultSecret(path, { password: 'first' })).toBe(1);
    expect(await rotateVaultSecret(path, { password: 'second' })).toBe(2);

    expect(await readVaultSecret(vaultClient(), path)).toEqual({ password: 'second' });
    expect(await readVaultSecret(vaultClient(), path, { version: 1 })).toEqual({ password: 'first' });
  });

  it('returns nested JSON and base64-encoded bytes as they were written', async () => {
    const path = uniqueSecretName('kv2-json');
    const bytes = Buffer.from([0, 255, 1, 254, 0x80]);
    const data = { connection: { host: 'db', port: 5432 }, keyfile: bytes.toString('base64') };
    await writeVaultSecret(path, data);

    const read = await readVaultSecret(vaultClient(), path);
    expect(read).toEqual(data);
    expect([...Buffer.from(read.keyfile as string, 'base64')]).toEqual([...bytes]);
  });

  it('serves a KV v1 mount, which keeps only the last write', async () => {
    const { kvV1Mount } = stores().vault;
    const path = uniqueSecretName('kv1');
    await writeVaultSecret(path, { token: 'old' }, { mount: kvV1Mount, version: 1 });
    await writeVaultSecret(path, { token: 'new' }, { mount: kvV1Mount, version: 1 });
    const read = await vaultClient().read(`${kvV1Mount}/${path}`);
    expect(read.data).toEqual({ token: 'new' });
  });

  describe('Kubernetes auth', () => {
    const allowed = uniqueSecretName('k8s-allowed');
    const forbidden = uniqueSecretName('k8s-forbidden');
    const role = uniqueSecretName('etl-reader');

    beforeAll(async () => {
      await writeVaultSecret(allowed, { password: 'for the job' });
      await writeVaultSecret(forbidden, { password: 'not for the job' });
      await writeVaultPolicy(role, kvReadPolicy([allowed]));
      await createServiceAccount('etl');
      await createServiceAccount('someone-else');
      await createVaultKubernetesRole({ name: role, serviceAccount: 'etl', namespace, policies: [role] });
    });

    it('logs in a ServiceAccount token from TokenRequest; the role policy allows one secret and not another', async () => {
      const jwt = await mintServiceAccountToken(namespace, 'etl');
      const client = vaultLoginClient();
      const login = await client.kubernetesLogin({ role, jwt, mount_point: kubernetesAuthPath() });
      expect(login.auth.metadata).toMatchObject({
        service_account_name: 'etl',
        service_account_namespace: namespace,
      });
      expect(login.auth.policies).toContain(role);

      expect(await readVaultSecret(client, allowed)).toEqual({ password: 'for the job' });
      expect(await refusal(readVaultSecret(client, forbidden))).toBe(403);
    });

    it('refuses a token of a ServiceAccount the role is not bound to', async () => {
      const jwt = await mintServiceAccountToken(namespace, 'someone-else');
      expect(
        await refusal(vaultLoginClient().kubernetesLogin({ role, jwt, mount_point: kubernetesAuthPath() })),
      ).toBe(403);
    });

    it('refuses a well-signed token once its ServiceAccount is deleted: the API server reviews every login', async () => {
      await createServiceAccount('short-lived');
      await createVaultKubernetesRole({
        name: `${role}-short`,
        serviceAccount: 'short-lived',
        namespace,
        policies: [role],
      });
      const jwt = await mintServiceAccountToken(namespace, 'short-lived');
      await api(k8s.CoreV1Api).deleteNamespacedServiceAccount({ name: 'short-lived', namespace });
      // The API server checks the ServiceAccount against its own cache, which sees the delete moments later.
      const refused = await eventually('Vault to refuse the deleted ServiceAccount', async () => {
        const status = await refusal(
          vaultLoginClient().kubernetesLogin({
            role: `${role}-short`,
            jwt,
            mount_point: kubernetesAuthPath(),
          }),
        );
        return status === undefined ? undefined : status;
      });
      expect(refused).toBe(403);
    });
  });

  it('logs in with an AppRole role id and secret id, and reads what the policy allows', async () => {
    const path = uniqueSecretName('approle');
    const name = uniqueSecretName('approle-reader');
    await writeVaultSecret(path, { apiKey: 'k-123' });
    await writeVaultPolicy(name, kvReadPolicy([path]));
    const { roleId, secretId } = await createVaultAppRole({ name, policies: [name] });

    const client = vaultLoginClient();
    await client.approleLogin({ role_id: roleId, secret_id: secretId });
    expect(await readVaultSecret(client, path)).toEqual({ apiKey: 'k-123' });
    expect(await refusal(vaultLoginClient().approleLogin({ role_id: roleId, secret_id: 'wrong' }))).toBe(400);
  });
});
