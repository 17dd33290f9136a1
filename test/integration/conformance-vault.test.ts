// Vault through the shared conformance cases (Kubernetes auth), then what only Vault has: AppRole and token
// auth with renewal and re-login, KV version 1 mounts, namespaces, and values larger than a Secret. It runs
// against OpenBao by default and against HashiCorp Vault with SECRETLINK_VAULT_SERVER=vault (docs/testing.md).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidReference, LimitExceeded, TooLarge } from '../../src/providers/errors.ts';
import { providerCallCount } from '../../src/providers/metrics.ts';
import { StoreClients } from '../../src/providers/store-clients.ts';
import type { StoreObject } from '../../src/providers/store-spec.ts';
import { optIn } from '../conformance/cluster-credentials.ts';
import { runConformance } from '../conformance/suite.ts';
import { type VaultFixture, vaultFixture } from '../conformance/vault.ts';
import { api, eventually } from '../support/cluster.ts';

runConformance({
  name: 'vault',
  supports: { binary: false, accessDenied: true, batch: false, tags: false, folders: true },
  create: vaultFixture,
});

describe('vault auth, mounts and namespaces', () => {
  let fixture: VaultFixture;
  const suffix = randomBytes(3).toString('hex');
  const noCache = { cacheTtlMs: 0, floatingCacheTtlMs: 0 };
  const clientsFor = (options: { credentialCheckIntervalMs?: number } = {}) =>
    new StoreClients({ credentials: fixture.credentials, tuning: noCache, ...options });

  beforeAll(async () => {
    fixture = await vaultFixture();
    await fixture.admin.write(`sys/policies/acl/extras-${suffix}`, {
      policy: `path "secret/data/extras-${suffix}/*" { capabilities = ["read"] }\npath "kv1-${suffix}/*" { capabilities = ["read", "list"] }`,
    });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('logs in with AppRole, renews the token, and logs in again when it reaches its max TTL', async () => {
    const mount = `approle-${suffix}`;
    await fixture.admin.write(`sys/auth/${mount}`, { type: 'approle' });
    await fixture.admin.write(`auth/${mount}/role/etl`, {
      token_policies: [`extras-${suffix}`],
      token_ttl: '3s',
      token_max_ttl: '5s',
    });
    const roleId = (
      (await fixture.admin.request('GET', `auth/${mount}/role/etl/role-id`)) as { data: { role_id: string } }
    ).data.role_id;
    const secretId = (
      (await fixture.admin.write(`auth/${mount}/role/etl/secret-id`, {})) as { data: { secret_id: string } }
    ).data.secret_id;
    await fixture.cluster.secret('approle', { 'secret-id': secretId }, ['approle']);
    await fixture.admin.put(
      'secret',
      `extras-${suffix}/approle`,
      JSON.stringify({ password: 'via-approle' }),
    );
    const store = fixture.storeWith(
      { auth: { appRole: { mountPath: mount, roleId, secretIdRef: { name: 'approle', key: 'secret-id' } } } },
      'approle',
    );
    const clients = clientsFor();
    try {
      const client = await clients.clientFor(store);
      const logins = await providerCallCount('vault', 'login');
      const renewals = await providerCallCount('vault', 'renew');
      const read = async () =>
        (await client.resolve({ name: `extras-${suffix}/approle`, property: 'password' })).value.toString();

      expect(await read()).toBe('via-approle');
      await sleep(2_300); // past two thirds of the 3s lease: renewed
      expect(await read()).toBe('via-approle');
      await sleep(3_000); // past the 5s max TTL: a fresh login
      expect(await read()).toBe('via-approle');
      expect((await providerCallCount('vault', 'login')) - logins).toBe(2);
      expect((await providerCallCount('vault', 'renew')) - renewals).toBeGreaterThanOrEqual(1);
    } finally {
      await clients.close();
    }
  });

  it('reads with a token from a Secret, and picks up a new token when the old one is revoked', async () => {
    await fixture.admin.put('secret', `extras-${suffix}/token`, JSON.stringify({ password: 'via-token' }));
    const first = await fixture.admin.token([`extras-${suffix}`]);
    await fixture.cluster.secret('vault-token', { token: first }, ['token']);
    const store = fixture.storeWith(
      { auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } },
      'token',
    );
    const clients = clientsFor({ credentialCheckIntervalMs: 0 });
    try {
      const read = async () =>
        (
          await (
            await clients.clientFor(store)
          ).resolve({ name: `extras-${suffix}/token`, property: 'password' })
        ).value.toString();
      expect(await read()).toBe('via-token');

      await fixture.admin.write('auth/token/revoke', { token: first });
      const second = await fixture.admin.token([`extras-${suffix}`]);
      await api(k8s.CoreV1Api).replaceNamespacedSecret({
        namespace: fixture.cluster.namespace,
        name: 'vault-token',
        body: {
          metadata: { name: 'vault-token', annotations: optIn(['token']) },
          stringData: { token: second },
        },
      });
      expect(await read()).toBe('via-token');
    } finally {
      await clients.close();
    }
  });

  it('reads a KV version 1 mount, which has no versions to name', async () => {
    const mount = `kv1-${suffix}`;
    await fixture.admin.write(`sys/mounts/${mount}`, { type: 'kv', options: { version: '1' } });
    await fixture.admin.put(mount, 'app/db', JSON.stringify({ user: 'etl', password: 'v1-secret' }), 1);
    const token = await fixture.admin.token([`extras-${suffix}`]);
    await fixture.cluster.secret('kv1-token', { token }, ['kv1']);
    const store: StoreObject = fixture.storeWith(
      { kv: { mount, version: 1 }, auth: { tokenSecretRef: { name: 'kv1-token', key: 'token' } } },
      'kv1',
    );
    const clients = clientsFor();
    try {
      const client = await clients.clientFor(store);
      const resolved = await client.resolve({ name: 'app/db', property: 'password' });
      expect([resolved.value.toString(), resolved.versionId]).toEqual(['v1-secret', 'unversioned']);
      expect((await client.resolveAll({ name: 'app/db' })).values.user?.toString()).toBe('etl');
      expect(await client.exists({ name: 'app/db' })).toEqual({ exists: true, versionId: 'unversioned' });
      await expect(client.resolve({ name: 'app/db', version: '1' })).rejects.toBeInstanceOf(InvalidReference);
      // find lists a v1 mount's folders directly, as it has no metadata endpoint.
      await fixture.admin.put(mount, 'app/nested/key', JSON.stringify({ a: 'b' }), 1);
      expect((await client.list({ prefix: 'app/' })).map((secret) => secret.name)).toEqual([
        'app/db',
        'app/nested/key',
      ]);
    } finally {
      await clients.close();
    }
  });

  it('sends the store namespace to Vault on every request, login included', async () => {
    const namespace = `team-${suffix}/etl`;
    if (await createNamespace(namespace)) {
      await readsOnlyThroughNamespace(namespace);
    } else {
      await auditLogShowsNamespace(namespace);
    }
  });

  /** Creates the nested namespace; false on a server without namespaces (Vault without Enterprise). */
  async function createNamespace(namespace: string): Promise<boolean> {
    const [parent, child] = namespace.split('/') as [string, string];
    try {
      await fixture.admin.write(`sys/namespaces/${parent}`, {});
    } catch (error) {
      if (/answered 404/.test((error as Error).message)) return false;
      throw error;
    }
    await fixture.admin.inNamespace(parent).write(`sys/namespaces/${child}`, {});
    return true;
  }

  // OpenBao has namespaces: the AppRole mount and the secret exist only inside the namespace, so the login
  // and the read succeed only when each carries it, and the same store without it is refused.
  async function readsOnlyThroughNamespace(namespace: string) {
    const inside = fixture.admin.inNamespace(namespace);
    const mount = `approle-ns-${suffix}`;
    await inside.write(`sys/mounts/kv-ns-${suffix}`, { type: 'kv', options: { version: '2' } });
    await inside.write(`sys/policies/acl/ns-reader`, {
      policy: `path "kv-ns-${suffix}/data/*" { capabilities = ["read"] }`,
    });
    await inside.write(`sys/auth/${mount}`, { type: 'approle' });
    await inside.write(`auth/${mount}/role/etl`, { token_policies: ['ns-reader'] });
    const roleId = (
      (await inside.request('GET', `auth/${mount}/role/etl/role-id`)) as { data: { role_id: string } }
    ).data.role_id;
    const secretId = (
      (await inside.write(`auth/${mount}/role/etl/secret-id`, {})) as { data: { secret_id: string } }
    ).data.secret_id;
    await fixture.cluster.secret('ns-approle', { 'secret-id': secretId }, ['ns-store', 'no-ns-store']);
    // A new KV v2 mount refuses writes until it has set itself up.
    await eventually('the namespaced KV mount to accept a write', () =>
      inside.put(`kv-ns-${suffix}`, 'conf-namespaced', JSON.stringify({ password: 'ns' })),
    );
    const settings = {
      kv: { mount: `kv-ns-${suffix}`, version: 2 as const },
      auth: { appRole: { mountPath: mount, roleId, secretIdRef: { name: 'ns-approle', key: 'secret-id' } } },
    };
    const clients = clientsFor();
    try {
      const namespaced = await clients.clientFor(fixture.storeWith({ ...settings, namespace }, 'ns-store'));
      expect(
        (await namespaced.resolve({ name: 'conf-namespaced', property: 'password' })).value.toString(),
      ).toBe('ns');
      const outside = await clients.clientFor(fixture.storeWith(settings, 'no-ns-store'));
      await expect(outside.resolve({ name: 'conf-namespaced', property: 'password' })).rejects.toThrow(
        /refused the login/,
      );
    } finally {
      await clients.close();
    }
  }

  // Vault without Enterprise ignores namespaces, but its audit log shows the header each request carried.
  async function auditLogShowsNamespace(namespace: string) {
    const auditDir = await mkdtemp(path.join(os.tmpdir(), 'vault-audit-'));
    const auditFile = path.join(auditDir, 'audit.log');
    const device = `conformance-${suffix}`;
    await fixture.admin.write(`sys/audit/${device}`, { type: 'file', options: { file_path: auditFile } });
    await fixture.admin.write('sys/config/auditing/request-headers/X-Vault-Namespace', { hmac: false });
    const clients = clientsFor();
    try {
      await fixture.admin.put('secret', 'conf-namespaced', JSON.stringify({ password: 'ns' }));
      const store = fixture.store();
      store.spec.provider.vault!.namespace = namespace;
      const client = await clients.clientFor(store);
      expect((await client.resolve({ name: 'conf-namespaced', property: 'password' })).value.toString()).toBe(
        'ns',
      );
      const entries = (await readFile(auditFile, 'utf8'))
        .split('\n')
        .filter((line) => line.includes('"type":"request"'))
        .map(
          (line) =>
            JSON.parse(line) as {
              request: { path: string; operation: string; headers?: Record<string, string[]> };
            },
        );
      // The operator's requests: its login and its reads (the fixture's own write carries no namespace).
      const logins = entries.filter((entry) => entry.request.path.endsWith('/login'));
      const reads = entries.filter(
        (entry) => entry.request.path === 'secret/data/conf-namespaced' && entry.request.operation === 'read',
      );
      for (const entry of [...logins, ...reads]) {
        expect(entry.request.headers?.['x-vault-namespace']).toEqual([namespace]);
      }
      expect(logins.length).toBeGreaterThan(0);
      expect(reads.length).toBeGreaterThan(0);
    } finally {
      await clients.close();
      await fixture.admin.request('DELETE', `sys/audit/${device}`);
      await rm(auditDir, { recursive: true, force: true });
    }
  }

  it('refuses a value larger than a Secret can hold', async () => {
    // Vault limits one JSON string to 1 MiB, so the secret is two halves that only together are too large.
    const half = 'x'.repeat(600 * 1024);
    await fixture.admin.put('secret', 'conf-huge', JSON.stringify({ first: half, second: half }));
    // By default an answer this large is refused before it is parsed, even for one property of it.
    const limited = clientsFor();
    // A platform team may raise --max-response-bytes; the Secret's own 1 MiB still holds for what is read.
    const raised = new StoreClients({
      credentials: fixture.credentials,
      tuning: { ...noCache, maxResponseBytes: 4 * 1024 * 1024 },
    });
    try {
      const defaults = await limited.clientFor(fixture.store());
      await expect(defaults.resolve({ name: 'conf-huge', property: 'first' })).rejects.toBeInstanceOf(
        LimitExceeded,
      );
      const client = await raised.clientFor(fixture.store());
      await expect(client.resolveAll({ name: 'conf-huge' })).rejects.toBeInstanceOf(TooLarge);
      await expect(client.resolve({ name: 'conf-huge' })).rejects.toBeInstanceOf(TooLarge);
      expect((await client.resolve({ name: 'conf-huge', property: 'first' })).value.length).toBe(half.length);
    } finally {
      await Promise.all([limited.close(), raised.close()]);
    }
  });
});

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
