// What the fault tests share: SecretStores that reach a store through a fault proxy, and the references,
// Jobs and observations every scene is made of (a Ready condition, a Secret's value, a Job's suspension or
// end, the managed Secrets, an operator's audit file and whether its chain holds).

import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { SecretStoreSpec } from '../../src/api/types.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import { verifyAuditFile } from '../../src/audit/verify.ts';
import type { FaultProxy } from '../env/fault-proxy.ts';
import {
  allowedStores,
  awsStoreSpec,
  gcpCredentials,
  gcpStoreSpec,
  vaultStoreSpec,
} from '../env/stores/store-specs.ts';
import { api, eventually, readSecretIfPresent } from './cluster.ts';
import { customApi, referenceApi, storeApi } from './operator.ts';
import { stores } from './stores.ts';

export type Provider = 'aws' | 'vault' | 'gcp';

/** The store spec of `provider` with its address replaced by the proxy's (or the store's own without one). */
export function storeSpecThrough(provider: Provider, proxy?: FaultProxy): SecretStoreSpec {
  const { aws, gcp, vault } = stores();
  switch (provider) {
    case 'aws':
      return awsStoreSpec({ ...aws, endpoint: proxy?.url ?? aws.endpoint });
    case 'vault':
      return vaultStoreSpec({ ...vault, address: proxy?.url ?? vault.address });
    case 'gcp':
      return gcpStoreSpec({ ...gcp, endpoint: proxy?.address ?? gcp.endpoint });
  }
}

/** The credential Secrets every provider's store spec names, each opted in to the given stores. */
export async function createStoreCredentials(namespace: string, storeNames: string[]): Promise<void> {
  const core = api(k8s.CoreV1Api);
  const annotations = allowedStores(...storeNames);
  const secrets: Record<string, Record<string, string>> = {
    'aws-credentials': { id: 'testing', secret: 'testing' },
    'vault-token': { token: stores().vault.rootToken },
    'gcp-credentials': gcpCredentials,
  };
  for (const [name, stringData] of Object.entries(secrets)) {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name, annotations }, stringData } });
  }
}

export async function createStore(namespace: string, name: string, spec: SecretStoreSpec): Promise<void> {
  await customApi().createNamespacedCustomObject({
    ...storeApi,
    namespace,
    body: { apiVersion: 'secretlink.dev/v1alpha1', kind: 'SecretStore', metadata: { name }, spec },
  });
}

export async function createReference(
  namespace: string,
  name: string,
  spec: { store: string; remote: string; property?: string } & Record<string, unknown>,
): Promise<void> {
  const { store, remote, property, ...rest } = spec;
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { name: store },
        data: [{ key: 'value', remote: { name: remote, ...(property ? { property } : {}) } }],
        consumers: { matchLabels: { app: 'etl' } },
        ...rest,
      },
    },
  });
}

/** A Job whose pod (kwok-simulated) runs `runTime` and takes the Secret through envFrom. */
export async function createJob(
  namespace: string,
  name: string,
  secretName: string,
  { runTime = '5m', labels = { app: 'etl' } }: { runTime?: string; labels?: Record<string, string> } = {},
): Promise<k8s.V1Job> {
  return api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels, annotations: { 'secretlink.dev/simulated-run-time': runTime } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'etl', image: 'busybox:1.36', envFrom: [{ secretRef: { name: secretName } }] },
            ],
          },
        },
      },
    },
  });
}

/** Suspending a running Job ends its access without deleting it, so no garbage collection is involved. */
export async function suspendJob(namespace: string, name: string): Promise<void> {
  await api(k8s.BatchV1Api).patchNamespacedJob(
    { namespace, name, body: { spec: { suspend: true } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** Ends a running Job now: a deadline of one second makes the Job controller fail it. */
export async function endJob(namespace: string, name: string): Promise<void> {
  await api(k8s.BatchV1Api).patchNamespacedJob(
    { namespace, name, body: { spec: { activeDeadlineSeconds: 1 } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** The Secrets the operator manages for `reference`, as the API server has them. */
export async function managedSecretsOf(namespace: string, reference: string): Promise<k8s.V1Secret[]> {
  const list = await api(k8s.CoreV1Api).listNamespacedSecret({
    namespace,
    labelSelector: `secretlink.dev/reference=${reference}`,
  });
  return list.items;
}

/** The audit records in an operator's signed audit file (its chain's own entries left out); none before it led. */
export async function auditFileRecords(file: string): Promise<AuditRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditRecord)
    .filter((entry) => 'action' in entry);
}

/** No record is in the file twice (by id), and the signed chain verifies. */
export async function expectChainIntact(operator: { auditFile: string; auditPublicKey: KeyObject }) {
  const records = await auditFileRecords(operator.auditFile);
  expect(new Set(records.map((record) => record.id)).size).toBe(records.length);
  expect(await verifyAuditFile(operator.auditFile, { publicKey: operator.auditPublicKey })).toMatchObject({
    ok: true,
  });
}

export interface ReadyCondition {
  status: string;
  reason: string;
  message: string;
}

export async function readyOf(namespace: string, name: string): Promise<ReadyCondition | undefined> {
  const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: { conditions?: (ReadyCondition & { type: string })[] };
  };
  return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
}

export const readyWith = (
  namespace: string,
  name: string,
  predicate: (ready: ReadyCondition) => boolean,
  timeoutMs = 30_000,
) =>
  eventually(
    `${name} to report the expected Ready condition`,
    async () => {
      const ready = await readyOf(namespace, name);
      return ready && predicate(ready) ? ready : undefined;
    },
    { timeoutMs },
  );

export const secretValue = (secret: k8s.V1Secret | undefined) =>
  secret ? Buffer.from(secret.data?.value ?? '', 'base64').toString() : undefined;

/** Waits until the Secret holds `value`. */
export const secretHolds = (namespace: string, name: string, value: string, timeoutMs = 30_000) =>
  eventually(
    `Secret ${name} to hold the expected value`,
    async () => {
      const secret = await readSecretIfPresent(namespace, name);
      return secretValue(secret) === value ? secret : undefined;
    },
    { timeoutMs },
  );

export const secretGone = (namespace: string, name: string, timeoutMs = 30_000) =>
  eventually(
    `Secret ${name} to be deleted`,
    async () => ((await readSecretIfPresent(namespace, name)) ? undefined : true),
    { timeoutMs },
  );

/** The store calls a proxy saw in [from, to). */
export function callsBetween(proxy: FaultProxy, from: number, to = Number.POSITIVE_INFINITY) {
  return proxy.seen.filter((request) => request.at >= from && request.at < to);
}
