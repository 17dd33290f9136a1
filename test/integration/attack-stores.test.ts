// Attacks on the store trust boundary by someone who may create SecretStores, Secrets and ServiceAccounts in
// one namespace: borrowing the operator's own cloud identity, pointing a store at a credential nobody offered
// it, collecting ServiceAccount tokens at a server of their choosing, and aiming the operator at hosts inside
// the cluster. Each runs against the real API server, with the operator's real credential source and, where
// a store is involved, the environment's real stores or a recording server on loopback standing in for one.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { group, version } from '../../src/api/constants.ts';
import { failureOutcome } from '../../src/controller/outcome.ts';
import { KubeCredentialSource } from '../../src/providers/kube-credentials.ts';
import { StoreClients } from '../../src/providers/store-clients.ts';
import type { StoreObject } from '../../src/providers/store-spec.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  eventually,
  kubeConfig,
  readSecretIfPresent,
  statusCodeOf,
} from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret, stores, uniqueSecretName, writeVaultSecret } from '../support/stores.ts';

const allowedStores = 'secretlink.dev/allowed-stores';
let namespace: string;
let clients: StoreClients;
const servers: http.Server[] = [];

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('attack-stores');
  clients = new StoreClients({
    credentials: new KubeCredentialSource(kubeConfig()),
    tuning: { cacheTtlMs: 0, floatingCacheTtlMs: 0 },
  });
});
afterAll(async () => {
  await clients?.close();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await deleteNamespace(namespace);
});

const core = () => api(k8s.CoreV1Api);

function namespacedStore(name: string, provider: StoreObject['spec']['provider']): StoreObject {
  return {
    kind: 'SecretStore',
    metadata: { name, namespace, uid: `uid-${name}-${randomBytes(3).toString('hex')}`, generation: 1 },
    spec: { provider },
  };
}

async function createSecret(
  name: string,
  data: Record<string, string>,
  annotations?: Record<string, string>,
) {
  await core().createNamespacedSecret({
    namespace,
    body: { metadata: { name, annotations }, stringData: data },
  });
}

async function createServiceAccount(name: string, annotations?: Record<string, string>) {
  await core().createNamespacedServiceAccount({ namespace, body: { metadata: { name, annotations } } });
}

interface Recorded {
  method: string;
  path: string;
  body: string;
}

/** An HTTP server on loopback that records every request and answers with `reply`. */
async function recordingServer(
  reply: (request: Recorded) => { status: number; body: unknown; headers?: Record<string, string> },
): Promise<{ url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded = {
        method: request.method ?? '',
        path: request.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const answer = reply(recorded);
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** A stand-in Vault that accepts any login or token and knows no secret: enough to see what the operator sends. */
function fakeVault() {
  return recordingServer((request) => {
    if (request.path.includes('/login')) {
      return {
        status: 200,
        body: { auth: { client_token: 'fake-token', lease_duration: 600, renewable: false } },
      };
    }
    if (request.path.includes('/lookup-self')) {
      return { status: 200, body: { data: { id: 'looked-up', ttl: 600, renewable: false } } };
    }
    return { status: 404, body: { errors: [] } };
  });
}

function jwtClaims(token: string): { aud: string[]; exp: number; iat: number; sub: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

/** Resolving through a fresh client for `store`: the outcome a SecretReference using it would get. */
async function readThrough(store: StoreObject, name = 'anything'): Promise<string> {
  const client = await clients.clientFor(store);
  return (await client.resolve({ name })).value.toString();
}

describe('ambient operator identity', () => {
  const ambientAws = () => ({
    aws: { region: stores().aws.region, endpoint: stores().aws.endpoint, auth: { defaultChain: {} } },
  });

  it('refuses at apply time a namespaced SecretStore that asks for the operator’s ambient AWS or GCP identity', async () => {
    for (const provider of [
      ambientAws(),
      { gcp: { projectID: stores().gcp.projectID, auth: { applicationDefault: {} } } },
    ]) {
      const created = api(k8s.CustomObjectsApi).createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural: 'secretstores',
        body: {
          apiVersion: `${group}/${version}`,
          kind: 'SecretStore',
          metadata: { name: 'ambient' },
          spec: { provider },
        },
      });
      const refusal = await created.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(statusCodeOf(refusal)).toBe(422);
      expect(String((refusal as k8s.ApiException<string>).body)).toContain('only a ClusterSecretStore');
    }
  });

  describe('at run time', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('refuses a namespaced SecretStore that asks for the operator’s ambient AWS identity (one stored before the rule)', async () => {
      // The operator's own identity, as the SDK's default chain would find it in its pod.
      process.env.AWS_ACCESS_KEY_ID = stores().aws.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = stores().aws.secretAccessKey;
      const name = uniqueSecretName('operator-only');
      await seedAwsSecret(name, 'belongs to the platform team');

      const attempt = readThrough(namespacedStore('ambient-aws', ambientAws()), name);
      await expect(attempt).rejects.toMatchObject({ reason: 'InvalidSpec' });
      await expect(attempt).rejects.toThrow(/defaultChain.*only a ClusterSecretStore/);
      expect(failureOutcome(await attempt.catch((error) => error)).reason).toBe('StoreInvalid');
    });

    it('refuses a namespaced SecretStore that asks for the operator’s application default GCP credentials', async () => {
      const store = namespacedStore('ambient-gcp', {
        gcp: { projectID: stores().gcp.projectID, auth: { applicationDefault: {} } },
      });
      await expect(readThrough(store)).rejects.toThrow(/applicationDefault.*only a ClusterSecretStore/);
    });
  });
});

describe('credentials that did not opt in', () => {
  it('refuses a Vault token Secret that does not name the store in its allowed-stores annotation', async () => {
    const vault = await fakeVault();
    await createSecret('someone-elses-token', { token: 'root-of-another-team' });
    await createSecret(
      'offered-elsewhere',
      { token: 'for-another-store' },
      { [allowedStores]: 'SecretStore/other' },
    );
    for (const secret of ['someone-elses-token', 'offered-elsewhere']) {
      const store = namespacedStore('borrower', {
        vault: { server: vault.url, auth: { tokenSecretRef: { name: secret, key: 'token' } } },
      });
      const attempt = readThrough(store);
      await expect(attempt).rejects.toMatchObject({ reason: 'CredentialNotAllowed' });
      await expect(attempt).rejects.toThrow(
        `Secret ${namespace}/${secret} does not allow SecretStore/borrower: add SecretStore/borrower to its annotation ${allowedStores}`,
      );
      expect(failureOutcome(await attempt.catch((error) => error)).reason).toBe('CredentialNotAllowed');
    }
    // Nothing reached the store: the token was never read, so never sent.
    expect(vault.requests).toEqual([]);
  });

  it('uses a Secret that lists the store, with whitespace around the entries', async () => {
    const vault = await fakeVault();
    await createSecret(
      'offered',
      { token: 'offered-token' },
      { [allowedStores]: ' SecretStore/other , SecretStore/taker ' },
    );
    const store = namespacedStore('taker', {
      vault: { server: vault.url, auth: { tokenSecretRef: { name: 'offered', key: 'token' } } },
    });
    await expect(readThrough(store)).rejects.toMatchObject({ reason: 'NotFound' });
    expect(vault.requests.length).toBeGreaterThan(0);
  });

  it('refuses Vault Kubernetes auth for a ServiceAccount that did not opt in, without minting its token', async () => {
    const vault = await fakeVault();
    await createServiceAccount('deployer');
    const store = namespacedStore('token-collector', {
      vault: {
        server: vault.url,
        auth: { kubernetes: { role: 'any', serviceAccountRef: { name: 'deployer' } } },
      },
    });
    const attempt = readThrough(store);
    await expect(attempt).rejects.toMatchObject({ reason: 'CredentialNotAllowed' });
    await expect(attempt).rejects.toThrow(
      `ServiceAccount ${namespace}/deployer does not allow SecretStore/token-collector`,
    );
    expect(vault.requests).toEqual([]);
  });

  it('refuses AWS web identity for a ServiceAccount that did not opt in, without minting its token', async () => {
    const sts = await recordingServer(() => ({ status: 400, body: '' }));
    await createServiceAccount('builder');
    const store = namespacedStore('role-borrower', {
      aws: {
        region: stores().aws.region,
        endpoint: sts.url,
        auth: {
          webIdentity: {
            roleArn: 'arn:aws:iam::123456789012:role/x',
            serviceAccountRef: { name: 'builder' },
          },
        },
      },
    });
    await expect(readThrough(store)).rejects.toMatchObject({ reason: 'CredentialNotAllowed' });
    expect(sts.requests).toEqual([]);
  });
});

describe('minted tokens', () => {
  it('sends Vault a token of the opted-in ServiceAccount for the audience vault only, valid for 600 seconds', async () => {
    const vault = await fakeVault();
    await createServiceAccount('vault-login', { [allowedStores]: 'SecretStore/vault-k8s' });
    const store = namespacedStore('vault-k8s', {
      vault: {
        server: vault.url,
        auth: { kubernetes: { role: 'r', serviceAccountRef: { name: 'vault-login' } } },
      },
    });
    await expect(readThrough(store)).rejects.toMatchObject({ reason: 'NotFound' });
    const login = vault.requests.find((request) => request.path.endsWith('/login'))!;
    const claims = jwtClaims((JSON.parse(login.body) as { jwt: string }).jwt);
    expect(claims.aud).toEqual(['vault']);
    expect(claims.exp - claims.iat).toBe(600);
    expect(claims.sub).toBe(`system:serviceaccount:${namespace}:vault-login`);
  });

  it('sends AWS STS a web identity token for sts.amazonaws.com only, valid for 600 seconds', async () => {
    const sts = await recordingServer(() => ({ status: 400, body: '' }));
    await createServiceAccount('aws-login', { [allowedStores]: 'SecretStore/aws-web' });
    const store = namespacedStore('aws-web', {
      aws: {
        region: stores().aws.region,
        endpoint: sts.url,
        auth: {
          webIdentity: {
            roleArn: 'arn:aws:iam::123456789012:role/x',
            serviceAccountRef: { name: 'aws-login' },
          },
        },
      },
    });
    await expect(readThrough(store)).rejects.toBeDefined();
    const exchange = sts.requests.find((request) => request.body.includes('AssumeRoleWithWebIdentity'))!;
    const token = new URLSearchParams(exchange.body).get('WebIdentityToken')!;
    const claims = jwtClaims(token);
    expect(claims.aud).toEqual(['sts.amazonaws.com']);
    expect(claims.exp - claims.iat).toBe(600);
  });
});

describe('where a namespaced store may send credentials', () => {
  it('refuses plain http to a host other than loopback unless the store sets allowInsecureHttp', async () => {
    await createSecret('plain-token', { token: 't' }, { [allowedStores]: 'SecretStore/plaintext' });
    const vault = (extra: object) =>
      namespacedStore('plaintext', {
        vault: {
          server: 'http://vault.example.com:8200',
          auth: { tokenSecretRef: { name: 'plain-token', key: 'token' } },
          ...extra,
        },
      });
    await expect(clients.clientFor(vault({}))).rejects.toThrow(/server.*http.*allowInsecureHttp/);
    await expect(clients.clientFor(vault({ allowInsecureHttp: true }))).resolves.toBeDefined();
  });

  it.each([
    [
      'Vault server',
      'the instance metadata address',
      { vault: { server: 'https://169.254.169.254', auth: { tokenSecretRef: { name: 't', key: 't' } } } },
    ],
    [
      'Vault server',
      'the API server by its in-cluster name',
      {
        vault: {
          server: 'https://kubernetes.default.svc',
          auth: { tokenSecretRef: { name: 't', key: 't' } },
        },
      },
    ],
    [
      'AWS endpoint',
      'the instance metadata address',
      {
        aws: {
          region: 'us-east-1',
          endpoint: 'http://169.254.169.254',
          auth: {
            secretRef: { accessKeyId: { name: 'k', key: 'id' }, secretAccessKey: { name: 'k', key: 's' } },
          },
        },
      },
    ],
    [
      'GCP endpoint',
      'the GCE metadata server',
      {
        gcp: {
          projectID: 'secretlink-test',
          endpoint: 'metadata.google.internal:80',
          auth: { secretRef: { keyJSON: { name: 'k', key: 'json' } } },
        },
      },
    ],
  ])('refuses a namespaced store whose %s is %s', async (_field, _what, provider) => {
    const attempt = clients.clientFor(
      namespacedStore(
        `denied-${randomBytes(2).toString('hex')}`,
        provider as StoreObject['spec']['provider'],
      ),
    );
    await expect(attempt).rejects.toMatchObject({ reason: 'InvalidSpec' });
    await expect(attempt).rejects.toThrow(/not allowed for a SecretStore/);
  });
});

describe('what the owner of the SecretReference sees', () => {
  let operator: TestOperator;
  beforeAll(() => {
    operator = startTestOperator({ namespaces: [namespace], leaseName: `lease-${namespace}` });
  });
  afterAll(async () => {
    await operator?.stop();
    expect(operator?.sinkErrors).toEqual([]);
  });

  const readyOf = async (name: string) => {
    const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
      status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
    };
    return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
  };

  it('refuses a store whose token Secret did not opt in with CredentialNotAllowed, naming the entry to add, and serves once it is added', async () => {
    const path = uniqueSecretName('borrowed');
    await writeVaultSecret(path, { password: 'for the platform team only' });
    // The namespace holds a powerful token for another purpose; nobody offered it to a store.
    await createSecret('platform-vault-token', { token: stores().vault.rootToken });
    await customApi().createNamespacedCustomObject({
      ...storeApi,
      namespace,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'SecretStore',
        metadata: { name: 'borrowing' },
        spec: {
          provider: {
            vault: {
              server: stores().vault.address,
              auth: { tokenSecretRef: { name: 'platform-vault-token', key: 'token' } },
            },
          },
        },
      },
    });
    await customApi().createNamespacedCustomObject({
      ...referenceApi,
      namespace,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'SecretReference',
        metadata: { name: 'borrowed' },
        spec: {
          storeRef: { name: 'borrowing' },
          data: [{ key: 'password', remote: { name: path, property: 'password' } }],
          consumers: { matchLabels: { app: 'etl' } },
        },
      },
    });
    await api(k8s.BatchV1Api).createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'etl' },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { app: 'etl' }, annotations: { 'secretlink.dev/simulated-run-time': '60s' } },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'etl', image: 'etl:1', envFrom: [{ secretRef: { name: 'borrowed' } }] }],
            },
          },
        },
      },
    });

    const refused = await eventually('the reference to report CredentialNotAllowed', async () => {
      const ready = await readyOf('borrowed');
      return ready?.reason === 'CredentialNotAllowed' ? ready : undefined;
    });
    expect(refused.status).toBe('False');
    expect(refused.message).toContain(
      `Secret ${namespace}/platform-vault-token does not allow SecretStore/borrowing: add SecretStore/borrowing to its annotation ${allowedStores}`,
    );
    expect(await readSecretIfPresent(namespace, 'borrowed')).toBeUndefined();

    // The token's owner offers it to this store: the next retry uses it.
    await core().patchNamespacedSecret(
      {
        namespace,
        name: 'platform-vault-token',
        body: { metadata: { annotations: { [allowedStores]: 'SecretStore/borrowing' } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const secret = await eventually(
      'the Secret to be written',
      () => readSecretIfPresent(namespace, 'borrowed'),
      {
        timeoutMs: 45_000,
      },
    );
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe('for the platform team only');
  });
});
