// Argo CD and Flux read secretlink objects' health the way they read built-in kinds. The objects are real,
// read from the API server as the operator left them; Argo CD's reading comes from config/argocd/health.lua
// run in gopher-lua (the interpreter Argo CD embeds), Flux's from kstatus (the library its controllers wait
// with). A terminal failure must read as failed (Degraded, Failed) at once, not as in progress until Flux's
// timeout; a retried one as in progress; a working one as healthy.
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiVersion, group, kinds, plurals, version } from '../../src/api/constants.ts';
import { ensureComponent } from '../env/build.ts';
import { argocdHealth, kstatus, repoRoot } from '../env/components.ts';
import { consoleProgress } from '../env/progress.ts';
import { createNamespace, deleteNamespace, eventually } from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import { writeVaultSecret } from '../support/stores.ts';
import { createEtlJob, createEtlReference, createVaultStore } from '../support/vault-tenant.ts';

const healthScript = path.join(repoRoot, 'config', 'argocd', 'health.lua');
const clusterStoreApi = { group, version, plural: plurals.clusterSecretStore };
const notPem = Buffer.from('not a certificate').toString('base64');

let namespace: string;
let unwatched: string;
let operator: TestOperator;
let binaries: { argocd: string; kstatus: string };
let clusterStore: string;

interface Reading {
  status: string;
  message: string;
}

function readWith(binary: string, args: string[], object: unknown): Promise<Reading> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Reading),
    );
    child.stdin!.end(JSON.stringify(object));
  });
}

/** What Argo CD and Flux say about one object, as the API server serves it now. */
async function healthOf(object: unknown): Promise<{ argocd: Reading; flux: Reading }> {
  return {
    argocd: await readWith(binaries.argocd, [healthScript], object),
    flux: await readWith(binaries.kstatus, [], object),
  };
}

type Observed = {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] };
};

/** The object once the operator reported `reason` on Ready for its current generation. */
function reported(read: () => Promise<unknown>, reason: string) {
  return eventually(`Ready reason ${reason}`, async () => {
    const object = (await read()) as Observed;
    const ready = object.status?.conditions?.find((condition) => condition.type === 'Ready');
    return object.status?.observedGeneration === object.metadata.generation && ready?.reason === reason
      ? object
      : undefined;
  });
}

const readReference =
  (name: string, ns = namespace) =>
  () =>
    customApi().getNamespacedCustomObject({ ...referenceApi, namespace: ns, name });
const readStore = (name: string) => () =>
  customApi().getNamespacedCustomObject({ ...storeApi, namespace, name });

/** A loopback port nothing listens on: the store's connections are refused, which the operator retries. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const progress = consoleProgress('[health]');
  binaries = {
    argocd: (await ensureComponent(argocdHealth, progress))['argocd-health']!,
    kstatus: (await ensureComponent(kstatus, progress)).kstatus!,
  };
  await installCrds();
  namespace = await createNamespace('health');
  unwatched = await createNamespace('health-unwatched');
  clusterStore = `health-${namespace}`;
  await createVaultStore(namespace, 'vault');
  await createVaultStore(namespace, 'unreachable', `http://127.0.0.1:${await closedPort()}`);
  await writeVaultSecret(`${namespace}/warehouse`, { password: 'health-check-password' });
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await customApi()
    .deleteClusterCustomObject({ ...clusterStoreApi, name: clusterStore })
    .catch(() => undefined);
  await Promise.all([namespace, unwatched].filter(Boolean).map(deleteNamespace));
});

describe('a SecretReference', () => {
  it('is Healthy and Current while its Secret is written for a consuming Job', async () => {
    await createEtlReference(namespace, 'served', { remote: `${namespace}/warehouse` });
    await createEtlJob(namespace, 'served-job', 'served');
    const object = await reported(readReference('served'), 'Materialized');
    const { argocd, flux } = await healthOf(object);
    expect(argocd).toEqual({
      status: 'Healthy',
      message: expect.stringContaining('is available to Job(s) served-job'),
    });
    expect(flux.status).toBe('Current');
  });

  it('is Degraded and Failed at once when the remote secret does not exist (Stalled)', async () => {
    await createEtlReference(namespace, 'missing-remote', { remote: `${namespace}/no-such-secret` });
    await createEtlJob(namespace, 'missing-remote-job', 'missing-remote');
    const object = await reported(readReference('missing-remote'), 'RemoteNotFound');
    const { argocd, flux } = await healthOf(object);
    expect(argocd).toEqual({ status: 'Degraded', message: expect.stringMatching(/^RemoteNotFound: /) });
    expect(flux.status).toBe('Failed');
  });

  it('is Degraded and Failed when its store does not exist', async () => {
    await createEtlReference(namespace, 'no-store', { store: 'nowhere', remote: `${namespace}/warehouse` });
    const object = await reported(readReference('no-store'), 'StoreNotFound');
    expect(await healthOf(object)).toMatchObject({
      argocd: { status: 'Degraded' },
      flux: { status: 'Failed' },
    });
  });

  it('is Progressing and InProgress while the operator retries a store that does not answer', async () => {
    await createEtlReference(namespace, 'retrying', {
      store: 'unreachable',
      remote: `${namespace}/warehouse`,
    });
    await createEtlJob(namespace, 'retrying-job', 'retrying');
    const object = await reported(readReference('retrying'), 'StoreUnavailable');
    const { argocd, flux } = await healthOf(object);
    expect(argocd).toEqual({ status: 'Progressing', message: expect.stringMatching(/^StoreUnavailable: /) });
    expect(flux.status).toBe('InProgress');
  });

  it('is Progressing for Argo CD before the operator has reported on it', async () => {
    await createEtlReference(unwatched, 'unseen', { remote: 'anything' });
    const object = await readReference('unseen', unwatched)();
    // kstatus reads an object without status.observedGeneration as Current: Flux may count a reference it
    // has just applied as ready before the operator first writes its status (docs/operations.md says so).
    expect((await healthOf(object)).argocd).toEqual({
      status: 'Progressing',
      message: 'Waiting for the secretlink operator to report status.',
    });
  });
});

describe('SecretStore and ClusterSecretStore', () => {
  it('are Healthy and Current when their spec is valid', async () => {
    const store = await reported(readStore('vault'), 'Valid');
    expect(await healthOf(store)).toMatchObject({
      argocd: { status: 'Healthy' },
      flux: { status: 'Current' },
    });

    await customApi().createClusterCustomObject({
      ...clusterStoreApi,
      body: {
        apiVersion,
        kind: kinds.clusterSecretStore,
        metadata: { name: clusterStore },
        spec: {
          provider: { aws: { region: 'eu-west-1', auth: { defaultChain: {} } } },
          allowedNamespaces: { names: [namespace] },
        },
      },
    });
    const cluster = await reported(
      () => customApi().getClusterCustomObject({ ...clusterStoreApi, name: clusterStore }),
      'Valid',
    );
    expect(await healthOf(cluster)).toMatchObject({
      argocd: { status: 'Healthy' },
      flux: { status: 'Current' },
    });
  });

  it('are Degraded and Failed when the spec cannot work, and recover when it is fixed', async () => {
    await customApi().createNamespacedCustomObject({
      ...storeApi,
      namespace,
      body: {
        apiVersion,
        kind: kinds.secretStore,
        metadata: { name: 'bad-ca' },
        spec: {
          provider: {
            vault: {
              server: 'https://vault.example.com:8200',
              caBundle: notPem,
              auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } },
            },
          },
        },
      },
    });
    const invalid = await reported(readStore('bad-ca'), 'InvalidSpec');
    const { argocd, flux } = await healthOf(invalid);
    expect(argocd).toEqual({
      status: 'Degraded',
      message: expect.stringMatching(/^InvalidSpec: .*caBundle/),
    });
    expect(flux.status).toBe('Failed');

    await customApi().patchNamespacedCustomObject({
      ...storeApi,
      namespace,
      name: 'bad-ca',
      body: [{ op: 'remove', path: '/spec/provider/vault/caBundle' }],
    });
    const fixed = await reported(readStore('bad-ca'), 'Valid');
    expect(await healthOf(fixed)).toMatchObject({
      argocd: { status: 'Healthy' },
      flux: { status: 'Current' },
    });
  });
});
