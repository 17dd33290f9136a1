// Dynamic credentials end to end: a SecretReference asks Vault's database engine for a PostgreSQL login, the
// operator writes it into the Job's Secret, and the credential dies at the source when the Job's access ends
// (PostgreSQL itself refuses it, and a session already open is terminated), when the ttl passes while the Job
// still runs, and at its lease bound even when the operator is not running at all.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leaseAnnotation } from '../../src/controller/dynamic-lease.ts';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { scanForCanary } from '../env/evidence/scan.ts';
import { allowedStores, awsStoreSpec } from '../env/stores/store-specs.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  eventually,
  readSecretIfPresent,
} from '../support/cluster.ts';
import {
  createDynamicTenant,
  expectNoHandleInOperatorOutput,
  type Login,
  loginOf,
  logsIn,
  openSession,
  startEltJob,
} from '../support/dynamic-tenant.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import { stores } from '../support/stores.ts';

const operators: TestOperator[] = [];
const namespaces: string[] = [];
/** Lease ids and token accessors seen on Secrets: none may appear in a log, Event, status or audit record. */
const handles: string[] = [];

async function tenant(prefix: string): Promise<string> {
  const namespace = await createDynamicTenant(prefix);
  namespaces.push(namespace);
  return namespace;
}

const startJob = startEltJob;

/** The credential the Secret holds, once it is written; its lease handle is remembered for the leak scan. */
async function credentialOf(namespace: string): Promise<Login> {
  const secret = await eventually('the Secret with the dynamic credential', async () => {
    const found = await readSecretIfPresent(namespace, 'warehouse');
    return found?.data?.username ? found : undefined;
  });
  return loginOf(secret, handles);
}

beforeAll(async () => {
  await installCrds();
});

afterAll(async () => {
  for (const operator of operators) await operator.stop();
  for (const namespace of namespaces) await deleteNamespace(namespace);
});

describe('dynamic credentials from Vault', () => {
  it('log in while the Job runs, and are refused by PostgreSQL, open sessions ended, once it completes', async () => {
    const namespace = await tenant('dynamic-complete');
    const operator = startTestOperator({ namespaces: [namespace] });
    operators.push(operator);
    await startJob(namespace, 'load', '25s');
    const login = await credentialOf(namespace);

    expect(await logsIn(login)).toBe(true);
    const session = openSession(login);
    // The role's default TTL (20s) is shorter than the ttl: the lease was renewed to its bound at issue,
    // so the credential still logs in after the role's own TTL.
    await new Promise((resolve) => setTimeout(resolve, 21_000));
    expect(await logsIn(login)).toBe(true);

    await eventually('the Secret to be revoked when the Job completes', async () =>
      (await readSecretIfPresent(namespace, 'warehouse')) ? undefined : true,
    );
    expect(await logsIn(login)).toBe(false);
    // pg_terminate_backend ends the session: psql exits with an error, long before its 600 s sleep.
    expect(await session.ended).not.toBe(0);

    const leaseRecords = operator.audit.filter((record) => record.action.startsWith('Lease'));
    expect(leaseRecords.map((record) => [record.action, record.job?.name])).toEqual([
      ['LeaseIssued', 'load'],
      ['LeaseRenewed', 'load'],
      ['LeaseRevoked', 'load'],
    ]);
    const fingerprints = new Set(leaseRecords.map((record) => record.lease?.fingerprint));
    expect(fingerprints.size).toBe(1);
    expect([...fingerprints][0]).toMatch(/^hmac-sha256:/);
    expect(leaseRecords.at(-1)?.reason).toBe('AccessEnded');
  }, 90_000);

  it('die when the ttl passes while the Job still runs, and at their bound with the operator stopped', async () => {
    const [running, stopped] = await Promise.all([tenant('dynamic-ttl'), tenant('dynamic-down')]);
    const operator = startTestOperator({ namespaces: [running] });
    const stopping = startTestOperator({ namespaces: [stopped], leaseName: `lease-${stopped}-down` });
    operators.push(operator, stopping);
    await Promise.all([startJob(running, 'long-load', '10m'), startJob(stopped, 'long-load', '10m')]);
    const [login, orphaned] = await Promise.all([credentialOf(running), credentialOf(stopped)]);
    expect(await logsIn(login)).toBe(true);
    expect(await logsIn(orphaned)).toBe(true);
    await stopping.stop();

    // The Job runs for ten minutes; its access (and the credential) ends at its one-minute ttl.
    await eventually(
      'the credential of the running Job to be refused after its ttl',
      async () => ((await logsIn(login)) ? undefined : true),
      { timeoutMs: 75_000, intervalMs: 1000 },
    );
    // The login also stops working at its own bound (VALID UNTIL), which may come before the operator's
    // revocation is recorded: wait for the record.
    const revoked = await eventually('the lease revocation to be recorded', async () =>
      operator.audit.find((record) => record.action === 'LeaseRevoked'),
    );
    expect(revoked.reason).toBe('TtlPassed');
    // No operator revoked this one: the lease ends at its bound in Vault and PostgreSQL on their own.
    await eventually(
      'the credential to be refused with the operator stopped',
      async () => ((await logsIn(orphaned)) ? undefined : true),
      { timeoutMs: 20_000, intervalMs: 1000 },
    );
    expect(await readSecretIfPresent(stopped, 'warehouse')).toBeDefined();
  }, 120_000);

  it('is refused on a store that cannot issue one', async () => {
    const namespace = await createNamespace('dynamic-aws');
    namespaces.push(namespace);
    await customApi().createNamespacedCustomObject({
      ...storeApi,
      namespace,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: 'aws' },
        spec: {
          provider: {
            aws: {
              region: stores().aws.region,
              endpoint: stores().aws.endpoint,
              auth: {
                secretRef: {
                  accessKeyId: { name: 'aws', key: 'id' },
                  secretAccessKey: { name: 'aws', key: 'secret' },
                },
              },
            },
          },
        },
      },
    });
    await customApi().createNamespacedCustomObject({
      ...referenceApi,
      namespace,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretReference',
        metadata: { name: 'warehouse' },
        spec: {
          storeRef: { name: 'aws' },
          dynamic: { database: { role: 'elt-reader' } },
          consumers: { matchLabels: { app: 'elt' } },
        },
      },
    });
    const operator = startTestOperator({ namespaces: [namespace] });
    operators.push(operator);
    const ready = await eventually('the reference to report why it cannot be served', async () => {
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'warehouse',
      })) as {
        status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      };
      return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
    });
    expect(ready).toMatchObject({ status: 'False', reason: 'StoreInvalid' });
    expect(ready.message).toContain('name a Vault store');
  });

  it('give temporary AWS credentials for a listed role, for the ttl, in an STS session named after the Job', async () => {
    // moto serves STS but does not enforce a session's expiry: what is tested is what the operator asked STS
    // for (the role, the session name, the duration STS granted), not that AWS refuses the keys afterwards.
    const namespace = await createNamespace('dynamic-sts');
    namespaces.push(namespace);
    const allowed = 'arn:aws:iam::123456789012:role/elt-s3-reader';
    await api(k8s.CoreV1Api).createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: 'aws-credentials', annotations: allowedStores('aws') },
        stringData: { id: 'testing', secret: 'testing' },
      },
    });
    const spec = awsStoreSpec(stores().aws);
    spec.provider.aws!.assumableRoles = [allowed];
    await customApi().createNamespacedCustomObject({
      ...storeApi,
      namespace,
      body: { apiVersion: 'secretlink.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'aws' }, spec },
    });
    for (const [name, roleArn] of [
      ['s3-reader', allowed],
      ['s3-admin', 'arn:aws:iam::123456789012:role/admin'],
    ] as const) {
      await customApi().createNamespacedCustomObject({
        ...referenceApi,
        namespace,
        body: {
          apiVersion: 'secretlink.dev/v1alpha1',
          kind: 'SecretReference',
          metadata: { name },
          spec: {
            storeRef: { name: 'aws' },
            dynamic: { awsRole: { roleArn } },
            consumers: { matchLabels: { app: 'elt' } },
            ttl: '30m',
          },
        },
      });
    }
    const operator = startTestOperator({ namespaces: [namespace] });
    operators.push(operator);
    await api(k8s.BatchV1Api).createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'extract-s3' },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { app: 'elt' }, annotations: { 'secretlink.dev/simulated-run-time': '10m' } },
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'extract',
                  image: 'meltano/meltano:v3.5',
                  envFrom: [{ secretRef: { name: 's3-reader' } }],
                },
              ],
            },
          },
        },
      },
    });
    const secret = await eventually('the Secret with temporary AWS credentials', async () => {
      const found = await readSecretIfPresent(namespace, 's3-reader');
      return found?.data?.AWS_SESSION_TOKEN ? found : undefined;
    });
    const accessKeyId = Buffer.from(secret.data!.AWS_ACCESS_KEY_ID!, 'base64').toString('utf8');
    expect(secret.data?.AWS_SECRET_ACCESS_KEY).toBeTruthy();

    const models = (await (await fetch(`${stores().aws.endpoint}/moto-api/data.json`)).json()) as {
      sts?: { AssumedRole?: { access_key_id: string; session_name: string; role_arn: string }[] };
    };
    const session = models.sts?.AssumedRole?.find((role) => role.access_key_id === accessKeyId);
    expect(session).toMatchObject({ role_arn: allowed, session_name: `secretlink-${namespace}.extract-s3` });
    // The session STS granted lasts the ttl (30m), no longer: the lease's expiry is STS's own.
    const lease = JSON.parse(secret.metadata!.annotations![leaseAnnotation]!) as { expiresAt: string };
    const writtenAt = secret.metadata!.annotations!['secretlink.dev/written-at']!;
    const seconds = (Date.parse(lease.expiresAt) - Date.parse(writtenAt)) / 1000;
    expect(Math.abs(seconds - 1800)).toBeLessThan(10);

    const refused = await eventually('the reference naming an unlisted role to say why', async () => {
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 's3-admin',
      })) as {
        status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      };
      return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
    });
    expect(refused).toMatchObject({ status: 'False', reason: 'RemoteNotAllowed' });
    expect(refused.message).toContain('assumableRoles');
    expect(operator.audit.find((record) => record.action === 'LeaseIssued')?.job?.name).toBe('extract-s3');
  });

  it('never name a lease id or token accessor in a log, Event, status or audit record', async () => {
    expect(handles.length).toBeGreaterThan(0);
    await expectNoHandleInOperatorOutput(handles);
  });
});
