// The canary: one random value of this run (see test/env/global-setup.ts), planted in all three stores and
// carried by the operator through every path it has: written into Secrets, revoked, refused to a Job that
// does not match, and failed on a bad reference. This file proves the value really flowed; the check at the
// end of the run proves it reached no log, Event, status or audit record of the whole suite.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import {
  allowedStores,
  awsStoreSpec,
  gcpCredentials,
  gcpStoreSpec,
  vaultStoreSpec,
} from '../env/stores/store-specs.ts';
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
import { seedAwsSecret, seedGcpSecret, stores, writeVaultSecret } from '../support/stores.ts';

const canary = inject('canary');
let namespace: string;
let operator: TestOperator;
/** Every remote is named ...secretlink-canary, which the end-of-run check counts in the audit files. */
const remoteName = () => `${namespace}-secretlink-canary`;

const providers = ['aws', 'gcp', 'vault'] as const;

const storeSpecs = {
  aws: () => awsStoreSpec(stores().aws),
  gcp: () => gcpStoreSpec(stores().gcp),
  vault: () => vaultStoreSpec(stores().vault),
};

async function create(
  api: { group: string; version: string; plural: string },
  kind: string,
  name: string,
  spec: object,
) {
  await customApi().createNamespacedCustomObject({
    ...api,
    namespace,
    body: { apiVersion: 'secretlink.dev/v1alpha1', kind, metadata: { name }, spec },
  });
}

function job(name: string, secretNames: string[], labels: Record<string, string> = { app: 'elt' }) {
  return api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels, annotations: { 'secretlink.dev/simulated-run-time': '4s' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'load',
                image: 'meltano/meltano:v3.5',
                envFrom: secretNames.map((secretName) => ({ secretRef: { name: secretName } })),
              },
            ],
          },
        },
      },
    },
  });
}

const readSecret = (name: string) => readSecretIfPresent(namespace, name);

async function readReference(name: string) {
  return (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
  };
}

const recorded = (action: AuditRecord['action'], reference: string) =>
  operator.audit.filter((record) => record.action === action && record.reference.name === reference);

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('canary');
  const core = api(k8s.CoreV1Api);
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'aws-credentials', annotations: allowedStores('aws') },
      stringData: { id: 'testing', secret: 'testing' },
    },
  });
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'gcp-credentials', annotations: allowedStores('gcp') },
      stringData: gcpCredentials,
    },
  });
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'vault-token', annotations: allowedStores('vault') },
      stringData: { token: stores().vault.rootToken },
    },
  });
  // AWS holds the canary as a plain string (so a JSON property of it is an error); GCP and Vault as JSON.
  await seedAwsSecret(remoteName(), canary);
  await seedGcpSecret(remoteName(), { password: canary });
  await writeVaultSecret(remoteName(), { password: canary });
  for (const provider of providers) {
    await create(storeApi, 'SecretStore', provider, storeSpecs[provider]());
    await create(referenceApi, 'SecretReference', `canary-${provider}`, {
      storeRef: { name: provider },
      data: [
        {
          key: 'password',
          remote: provider === 'aws' ? { name: remoteName() } : { name: remoteName(), property: 'password' },
        },
      ],
      consumers: { matchLabels: { app: 'elt' } },
    });
  }
  // Found instead of named: the whole value under the found name, rewritten to a key.
  await create(referenceApi, 'SecretReference', 'canary-found', {
    storeRef: { name: 'aws' },
    dataFrom: [
      { find: { path: remoteName() }, rewrite: [{ regexp: { source: '^.*$', target: 'password' } }] },
    ],
    consumers: { matchLabels: { app: 'elt' } },
  });
  await create(referenceApi, 'SecretReference', 'canary-not-json', {
    storeRef: { name: 'aws' },
    data: [{ key: 'password', remote: { name: remoteName(), property: 'password' } }],
    consumers: { matchLabels: { app: 'elt' } },
  });
  // A template carries the canary into a composed key; another fails where Liquid's own error message would
  // hold the value it looked up (a value used as a variable name), on its second line.
  await create(referenceApi, 'SecretReference', 'canary-template', {
    storeRef: { name: 'vault' },
    data: [{ key: 'password', remote: { name: remoteName(), property: 'password' } }],
    target: {
      template: {
        data: { DATABASE_URL: 'postgresql://loader:{{ password | url_encode }}@db:5432/analytics' },
      },
    },
    consumers: { matchLabels: { app: 'elt' } },
  });
  await create(referenceApi, 'SecretReference', 'canary-template-fails', {
    storeRef: { name: 'gcp' },
    data: [{ key: 'password', remote: { name: remoteName(), property: 'password' } }],
    target: {
      template: {
        data: {
          'profiles.yml':
            'user: loader\n{% assign x = password | split: "" %}password: {{ x | where: password }}',
        },
      },
    },
    consumers: { matchLabels: { app: 'elt' } },
  });
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

describe('the canary value, planted in every store', () => {
  it('is written into each Job-scoped Secret, and revoked with the Job', async () => {
    await job(
      'load-all',
      providers.map((provider) => `canary-${provider}`),
    );
    for (const provider of providers) {
      const secret = await eventually(`Secret canary-${provider}`, () => readSecret(`canary-${provider}`));
      expect(Buffer.from(secret.data?.password ?? '', 'base64').toString(), provider).toBe(canary);
    }
    for (const provider of providers) {
      await eventually(`Secret canary-${provider} to be revoked`, async () =>
        (await readSecret(`canary-${provider}`)) ? undefined : true,
      );
      // The record follows the delete the API server confirmed, so it may land just after the Secret is gone.
      await eventually(`a Revoked record for canary-${provider}`, async () =>
        recorded('Revoked', `canary-${provider}`).length > 0 ? true : undefined,
      );
      expect(recorded('Materialized', `canary-${provider}`)).toHaveLength(1);
      expect(recorded('Revoked', `canary-${provider}`)).toHaveLength(1);
    }
  });

  it('is found by dataFrom find and written whole, and revoked with the Job', async () => {
    await job('load-found', ['canary-found']);
    const secret = await eventually('Secret canary-found', () => readSecret('canary-found'));
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe(canary);
    await eventually('a Revoked record for canary-found', async () =>
      recorded('Revoked', 'canary-found').length > 0 ? true : undefined,
    );
    expect(recorded('Materialized', 'canary-found')[0]?.remotes.map((remote) => remote.name)).toEqual([
      remoteName(),
    ]);
  });

  it('is refused to a Job whose labels do not match consumers', async () => {
    await job('intruder', ['canary-vault'], { app: 'not-elt' });
    await eventually('the refusal', async () =>
      recorded('Refused', 'canary-vault').some((record) => record.job?.name === 'intruder')
        ? true
        : undefined,
    );
    expect(await readSecret('canary-vault')).toBeUndefined();
  });

  it('stays out of the error when a property is asked of a value that is not JSON', async () => {
    await job('load-not-json', ['canary-not-json']);
    const ready = await eventually('the reference to report the failure', async () => {
      const condition = (await readReference('canary-not-json')).status?.conditions?.find(
        (c) => c.type === 'Ready',
      );
      return condition?.status === 'False' && condition.reason !== 'NoConsumers' ? condition : undefined;
    });
    expect(ready.message).toContain('not JSON');
    expect(JSON.stringify(ready)).not.toContain(canary);
    expect(recorded('Failed', 'canary-not-json')).toHaveLength(1);
    expect(await readSecret('canary-not-json')).toBeUndefined();
  });

  it('is composed into a templated key, and that key alone is written', async () => {
    await job('load-template', ['canary-template']);
    const secret = await eventually('Secret canary-template', () => readSecret('canary-template'));
    expect(Object.keys(secret.data ?? {})).toEqual(['DATABASE_URL']);
    expect(Buffer.from(secret.data!.DATABASE_URL!, 'base64').toString()).toBe(
      `postgresql://loader:${encodeURIComponent(canary)}@db:5432/analytics`,
    );
  });

  it('stays out of status, Events and audit when a template fails on it, which name the key and the failure', async () => {
    await job('load-template-fails', ['canary-template-fails']);
    const ready = await eventually('the reference to report the template failure', async () => {
      const condition = (await readReference('canary-template-fails')).status?.conditions?.find(
        (c) => c.type === 'Ready',
      );
      return condition?.reason === 'TemplateInvalid' ? condition : undefined;
    });
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('target.template key "profiles.yml": ');
    expect(ready.message).toContain('undefined variable');
    expect(JSON.stringify(ready)).not.toContain(canary);
    await eventually('a Failed record', async () =>
      recorded('Failed', 'canary-template-fails').length > 0 ? true : undefined,
    );
    expect(recorded('Failed', 'canary-template-fails')[0]?.reason).toBe('TemplateInvalid');
    expect(JSON.stringify(recorded('Failed', 'canary-template-fails'))).not.toContain(canary);
    const events = await eventually('a Failed Event on the reference', async () => {
      const listed = await api(k8s.CoreV1Api).listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.name=canary-template-fails',
      });
      return listed.items.some((event) => event.reason === 'Failed') ? listed.items : undefined;
    });
    expect(events.find((event) => event.reason === 'Failed')?.message).toContain('profiles.yml');
    expect(JSON.stringify(events)).not.toContain(canary);
    expect(await readSecret('canary-template-fails')).toBeUndefined();
  });
});
