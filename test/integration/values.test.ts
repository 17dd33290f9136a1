// What a Job finds in its Secret: property values exactly as the store holds them, base64 text decoded
// into bytes, keys rewritten, and keys composed by templates, end to end through the operator, the local
// control plane and a real AWS Secrets Manager (moto).
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret } from '../support/stores.ts';

let namespace: string;
let operator: TestOperator;
const bytes = Buffer.from([0x00, 0xff, 0xfb, 0x3e, 0x80, 0x0a]);
const stored =
  '{"account_id": 12345678901234567890, "dbt": {"threads": 4,  "target": "prod"}, "db.host": "literal",' +
  ' "db": {"host": "nested"}, "friends": [{"first": "ann"}, {"first": "bob"}],' +
  ` "ssh_key_b64": "${bytes.toString('base64')}", "url_b64": "${bytes.toString('base64url')}"}`;
const remote = () => `${namespace}/values`;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('values');
  await seedAwsSecret(remote(), stored);
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

async function createReference(name: string, spec: Record<string, unknown>) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: { storeRef: { name: 'aws' }, consumers: { matchLabels: { app: 'dbt' } }, ...spec },
    },
  });
}

async function createJob(name: string, secretName: string) {
  await api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'dbt' }, annotations: { 'secretlink.dev/simulated-run-time': '5m' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'dbt',
                image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
                envFrom: [{ secretRef: { name: secretName } }],
              },
            ],
          },
        },
      },
    },
  });
}

describe('values in the written Secret', () => {
  it('holds numbers and objects as the store holds them, resolves dotted keys and indexes, and decodes base64 into bytes', async () => {
    await createReference('exact', {
      data: [
        { key: 'ACCOUNT_ID', remote: { name: remote(), property: 'account_id' } },
        { key: 'dbt.json', remote: { name: remote(), property: 'dbt' } },
        { key: 'host', remote: { name: remote(), property: 'db.host' } },
        { key: 'nested-host', remote: { name: remote(), property: 'db\\.host' } },
        { key: 'friend', remote: { name: remote(), property: 'friends.1.first' } },
        { key: 'id_ed25519', remote: { name: remote(), property: 'ssh_key_b64' }, decoding: 'base64' },
        { key: 'url-key', remote: { name: remote(), property: 'url_b64' }, decoding: 'base64url' },
        { key: 'still-text', remote: { name: remote(), property: 'ssh_key_b64' } },
      ],
    });
    await createJob('exact-job', 'exact');
    const secret = await eventually('Secret exact to exist', () => readSecretIfPresent(namespace, 'exact'));
    const value = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64');
    expect(value('ACCOUNT_ID').toString()).toBe('12345678901234567890');
    expect(value('dbt.json').toString()).toBe('{"threads": 4,  "target": "prod"}');
    expect(value('host').toString()).toBe('literal');
    expect(value('nested-host').toString()).toBe('literal');
    expect(value('friend').toString()).toBe('bob');
    expect(value('id_ed25519').equals(bytes)).toBe(true);
    expect(value('url-key').equals(bytes)).toBe(true);
    expect(value('still-text').toString()).toBe(bytes.toString('base64'));
  });

  it('reports a value that does not decode as RemoteValueInvalid naming the key, never the value, and writes nothing', async () => {
    const canary = `CANARY${randomBytes(8).toString('hex')}!`;
    const name = `${namespace}/undecodable`;
    await seedAwsSecret(name, JSON.stringify({ password: canary }));
    await createReference('undecodable', {
      data: [{ key: 'password', remote: { name, property: 'password' }, decoding: 'base64' }],
    });
    await createJob('undecodable-job', 'undecodable');
    const reference = await eventually('the decoding failure to be reported', async () => {
      const current = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'undecodable',
      })) as { status?: { conditions?: { reason: string; status: string; message: string }[] } };
      return current.status?.conditions?.[0]?.reason === 'RemoteValueInvalid' ? current : undefined;
    });
    expect(reference.status?.conditions?.[0]?.status).toBe('False');
    expect(reference.status?.conditions?.[0]?.message).toContain(
      `the value for key "password" from "${name}" is not valid base64`,
    );
    expect(JSON.stringify(reference)).not.toContain(canary);
    const events = await api(k8s.CoreV1Api).listNamespacedEvent({ namespace });
    expect(JSON.stringify(events.items)).not.toContain(canary);
    expect(await readSecretIfPresent(namespace, 'undecodable')).toBeUndefined();
  });

  it('rewrites the store keys "my key" and "path/like" into TAP_POSTGRES_ env var names that reach the Secret', async () => {
    const name = `${namespace}/tap-postgres`;
    await seedAwsSecret(
      name,
      JSON.stringify({ 'my key': 'first', 'path/like': 'second', password: 'third' }),
    );
    await createReference('tap', {
      dataFrom: [
        {
          remote: { name },
          rewrite: [
            { regexp: { source: '[^A-Za-z0-9]+', target: '_' } },
            { case: 'upper' },
            { prefix: 'TAP_POSTGRES_' },
          ],
        },
      ],
    });
    await createJob('tap-job', 'tap');
    const secret = await eventually('Secret tap to exist', () => readSecretIfPresent(namespace, 'tap'));
    const values = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
    );
    expect(values).toEqual({
      TAP_POSTGRES_MY_KEY: 'first',
      TAP_POSTGRES_PATH_LIKE: 'second',
      TAP_POSTGRES_PASSWORD: 'third',
    });
  });

  it('reports a rewrite that turns two store keys into one as RemoteValueInvalid naming both keys, never a value', async () => {
    const canary = `CANARY${randomBytes(8).toString('hex')}!`;
    const name = `${namespace}/colliding`;
    await seedAwsSecret(name, JSON.stringify({ 'db-user': canary, db_user: canary }));
    await createReference('colliding', {
      dataFrom: [{ remote: { name }, rewrite: [{ regexp: { source: '-', target: '_' } }] }],
    });
    await createJob('colliding-job', 'colliding');
    const reference = await eventually('the colliding keys to be reported', async () => {
      const current = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'colliding',
      })) as { status?: { conditions?: { reason: string; message: string }[] } };
      return current.status?.conditions?.[0]?.reason === 'RemoteValueInvalid' ? current : undefined;
    });
    expect(reference.status?.conditions?.[0]?.message).toContain(
      'the rewrite turns both "db-user" and "db_user" into the key "db_user"',
    );
    expect(JSON.stringify(reference)).not.toContain(canary);
    const events = await api(k8s.CoreV1Api).listNamespacedEvent({ namespace });
    expect(JSON.stringify(events.items)).not.toContain(canary);
    expect(await readSecretIfPresent(namespace, 'colliding')).toBeUndefined();
  });

  it('reports a template that fails as TemplateInvalid while the Job waits, then writes and rewrites it as the template is fixed and changed', async () => {
    const name = `${namespace}/warehouse`;
    await seedAwsSecret(name, JSON.stringify({ user: 'loader', password: 'p@ss word', host: 'db.internal' }));
    await createReference('templated', {
      dataFrom: [{ remote: { name } }],
      target: {
        template: {
          data: { DATABASE_URL: 'postgresql://{{ user }}:{{ pasword | url_encode }}@{{ host }}/dw' },
          mergePolicy: 'Merge',
        },
      },
    });
    await createJob('templated-job', 'templated');
    const readReady = async () =>
      (
        (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name: 'templated' })) as {
          status?: { conditions?: { reason: string; status: string; message: string }[] };
        }
      ).status?.conditions?.[0];
    const failed = await eventually('the template failure to be reported', async () => {
      const ready = await readReady();
      return ready?.reason === 'TemplateInvalid' ? ready : undefined;
    });
    expect(failed.status).toBe('False');
    expect(failed.message).toContain('target.template key "DATABASE_URL": undefined variable');
    expect(failed.message).toContain('the template reads "pasword", which no key is named');
    expect(failed.message).not.toContain('p@ss');
    expect(await readSecretIfPresent(namespace, 'templated')).toBeUndefined();

    const setUrl = (url: string) =>
      customApi().patchNamespacedCustomObject(
        {
          ...referenceApi,
          namespace,
          name: 'templated',
          body: { spec: { target: { template: { data: { DATABASE_URL: url } } } } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    const urlOf = async () => {
      const secret = await readSecretIfPresent(namespace, 'templated');
      return secret?.data?.DATABASE_URL && Buffer.from(secret.data.DATABASE_URL, 'base64').toString();
    };
    await setUrl('postgresql://{{ user }}:{{ password | url_encode }}@{{ host }}/dw');
    expect(await eventually('the Secret to be written', urlOf)).toBe(
      'postgresql://loader:p%40ss%20word@db.internal/dw',
    );
    const secret = await readSecretIfPresent(namespace, 'templated');
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual(['DATABASE_URL', 'host', 'password', 'user']);
    expect((await readReady())?.reason).toBe('Materialized');

    await setUrl('postgresql://{{ user }}@{{ host }}/dw?sslmode=require');
    expect(
      await eventually('the Secret to be rewritten with the new template', async () => {
        const url = await urlOf();
        return url?.endsWith('sslmode=require') ? url : undefined;
      }),
    ).toBe('postgresql://loader@db.internal/dw?sslmode=require');
  });
});
