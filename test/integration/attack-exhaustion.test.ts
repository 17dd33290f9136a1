// Resource exhaustion: a tenant points one SecretReference with 64 entries at large secrets in a Vault it
// controls, to make the operator read far more than any Secret can hold. The operator shares one process
// (and its memory limit) between every tenant, so the reference must be refused on its own, with a condition
// naming the limit, while other namespaces keep being served. Runs the real operator against the local
// control plane and the environment's Vault dev server.
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultStoreSpec } from '../env/stores/store-specs.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  eventually,
  readSecretIfPresent,
} from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import { stores, writeVaultSecret } from '../support/stores.ts';

const entries = 64;
/** Each secret is far below one answer's limit; together they are four times a reference's budget. */
const blob = 'x'.repeat(256 * 1024);

let attacker: string;
let victim: string;
let slow: string;
let operator: TestOperator;
/** A "Vault" that accepts connections and never answers: a tenant's store holding the operator's workers. */
let silent: net.Server;
const held = new Set<net.Socket>();
const reconcileTimeoutMs = 4_000;

beforeAll(async () => {
  await installCrds();
  attacker = await createNamespace('exhaust-attacker');
  victim = await createNamespace('exhaust-victim');
  slow = await createNamespace('exhaust-slow');
  silent = net.createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  for (const namespace of [attacker, victim]) await createVaultStore(namespace);
  await createVaultStore(slow, `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`);
  for (let index = 0; index < entries; index++)
    await writeVaultSecret(`${attacker}/large-${index}`, { user: 'etl', blob });
  await writeVaultSecret(`${victim}/warehouse`, { user: 'loader', password: 'victim-password' });
  operator = startTestOperator({
    namespaces: [attacker, victim, slow],
    flags: [`--reconcile-timeout-ms=${reconcileTimeoutMs}`],
  });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve) ?? resolve(undefined));
  await Promise.all([attacker, victim, slow].filter(Boolean).map(deleteNamespace));
});

/** A SecretStore on the environment's Vault (or `server`), with a token Secret that opts in to serving it. */
async function createVaultStore(namespace: string, server?: string) {
  await api(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name: 'vault-token',
        annotations: { 'secretlink.dev/allowed-stores': 'SecretStore/vault' },
      },
      stringData: { token: stores().vault.rootToken },
    },
  });
  await customApi().createNamespacedCustomObject({
    ...storeApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: 'vault' },
      spec: vaultStoreSpec({ ...stores().vault, ...(server ? { address: server } : {}) }),
    },
  });
}

async function createReference(namespace: string, name: string, data: unknown[]) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: { storeRef: { name: 'vault' }, data, consumers: { matchLabels: { app: 'etl' } } },
    },
  });
}

async function createJob(namespace: string, name: string, secretName: string) {
  await api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'etl' }, annotations: { 'secretlink.dev/simulated-run-time': '600s' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'etl', image: 'ghcr.io/example/etl:1', envFrom: [{ secretRef: { name: secretName } }] },
            ],
          },
        },
      },
    },
  });
}

interface ReadyCondition {
  status: string;
  reason: string;
  message: string;
}

async function readyCondition(namespace: string, name: string): Promise<ReadyCondition | undefined> {
  const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: { conditions?: (ReadyCondition & { type: string })[] };
  };
  return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
}

describe('resource exhaustion', () => {
  it('refuses a 64-entry reference that would read 16 MiB from a tenant Vault, on its own, while another namespace is served', async () => {
    await createReference(
      attacker,
      'many-entries',
      Array.from({ length: entries }, (_, index) => ({
        key: `user-${index}`,
        remote: { name: `${attacker}/large-${index}`, property: 'user' },
      })),
    );
    await createJob(attacker, 'attacker-job', 'many-entries');

    const refused = await eventually(
      'the many-entry reference to be refused',
      async () => {
        const condition = await readyCondition(attacker, 'many-entries');
        return condition?.status === 'False' ? condition : undefined;
      },
      { timeoutMs: 45_000 },
    );
    expect(refused.reason).toBe('LimitExceeded');
    expect(refused.message).toBe(
      'this reference reads more than 4194304 bytes from its store (--max-reference-bytes); ' +
        'name fewer or smaller remote secrets, or split it into several references',
    );
    expect(await readSecretIfPresent(attacker, 'many-entries')).toBeUndefined();

    // Another tenant's reference, created while the refused one keeps coming back, gets its Secret.
    await createReference(victim, 'warehouse', [
      { key: 'username', remote: { name: `${victim}/warehouse`, property: 'user' } },
      { key: 'password', remote: { name: `${victim}/warehouse`, property: 'password' } },
    ]);
    await createJob(victim, 'victim-job', 'warehouse');
    const secret = await eventually('the other namespace to get its Secret', () =>
      readSecretIfPresent(victim, 'warehouse'),
    );
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe('victim-password');
    // Status is written after the Secret (and its audit records): it says so moments later.
    await eventually('the other reference to report Materialized', async () =>
      (await readyCondition(victim, 'warehouse'))?.reason === 'Materialized' ? true : undefined,
    );

    // The refusal stands, and the operator that refused it is still the one serving.
    expect((await readyCondition(attacker, 'many-entries'))?.reason).toBe('LimitExceeded');
    expect(await readSecretIfPresent(attacker, 'many-entries')).toBeUndefined();
    expect(operator.ready() && operator.leading()).toBe(true);
  });

  it('frees the worker of a reference whose store never answers at the reconcile deadline, naming the flag', async () => {
    await createReference(
      slow,
      'never-answers',
      Array.from({ length: 8 }, (_, index) => ({
        key: `user-${index}`,
        remote: { name: `${slow}/held-${index}`, property: 'user' },
      })),
    );
    await createJob(slow, 'slow-job', 'never-answers');

    const unavailable = await eventually(
      'the reference whose store never answers to be reported',
      async () => {
        const condition = await readyCondition(slow, 'never-answers');
        return condition?.status === 'False' ? condition : undefined;
      },
      { timeoutMs: 45_000 },
    );
    expect(unavailable.reason).toBe('StoreUnavailable');
    expect(unavailable.message).toBe(
      `reading this reference's values took longer than ${reconcileTimeoutMs} ms (--reconcile-timeout-ms)`,
    );
    expect(await readSecretIfPresent(slow, 'never-answers')).toBeUndefined();

    // Meanwhile, and while that reference keeps being retried, another namespace is served.
    await createReference(victim, 'second-warehouse', [
      { key: 'password', remote: { name: `${victim}/warehouse`, property: 'password' } },
    ]);
    await createJob(victim, 'second-victim-job', 'second-warehouse');
    const secret = await eventually('the other namespace to get its second Secret', () =>
      readSecretIfPresent(victim, 'second-warehouse'),
    );
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe('victim-password');
  });
});
