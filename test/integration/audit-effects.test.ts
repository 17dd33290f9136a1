// Audit records follow what the API server confirmed, exactly once: a Secret deleted out of band and written
// again is audited again; a status write that fails does not repeat a record; and an operator stopped between
// a write and its record leaves the record to the next one, on the same signed audit file.
import { readFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { verifyAuditFile } from '../../src/audit/verify.ts';
import { defaultTuning } from '../../src/providers/types.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, readSecretIfPresent, statusCodeOf } from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { rotateAwsSecret, seedAwsSecret } from '../support/stores.ts';

let namespace: string;
let operator: TestOperator;
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('audit-effects');
  operator = startTestOperator({ namespaces: [namespace], identity: 'audit-effects' });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

async function createReference(name: string, remote: string, spec: Record<string, unknown> = {}) {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { name: 'aws' },
        data: [{ key: 'password', remote: { name: remote, property: 'password' } }],
        consumers: { matchLabels: { app: 'dbt' } },
        ...spec,
      },
    },
  });
}

async function createJob(name: string, secretName: string): Promise<k8s.V1Job> {
  return api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'dbt' }, annotations: { 'secretlink.dev/simulated-run-time': '10m' } },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'dbt', image: 'dbt:1', envFrom: [{ secretRef: { name: secretName } }] }],
          },
        },
      },
    },
  });
}

const password = (secret: k8s.V1Secret | undefined) =>
  Buffer.from(secret?.data?.password ?? '', 'base64').toString();

const secretWith = (name: string, predicate: (secret: k8s.V1Secret) => boolean) =>
  eventually(`Secret ${name}`, async () => {
    const secret = await readSecretIfPresent(namespace, name);
    return secret && predicate(secret) ? secret : undefined;
  });

/** Records about one reference, as collected in memory, in its audit Events and in a signed audit file. */
const recordsOf = (records: AuditRecord[], reference: string, action: AuditRecord['action']) =>
  records.filter((record) => record.reference.name === reference && record.action === action);

async function fileRecords(file: string, reference: string, action: AuditRecord['action']) {
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  return recordsOf(
    lines.map((line) => JSON.parse(line) as AuditRecord).filter((entry) => 'action' in entry),
    reference,
    action,
  );
}

async function eventsOf(reference: string, reason: string): Promise<k8s.EventsV1Event[]> {
  const events = await api(k8s.EventsV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `regarding.name=${reference},reason=${reason}`,
  });
  return events.items;
}

async function reconciles(of: TestOperator): Promise<number> {
  const metric = await of.metrics.reconciles.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

/** Makes the operator reconcile the reference `count` more times (an annotation wakes it), so a repeat would show. */
async function moreReconciles(of: TestOperator, reference: string, count: number): Promise<void> {
  for (let nudge = 0; nudge < count; nudge++) {
    const from = await reconciles(of);
    await customApi().patchNamespacedCustomObject(
      {
        ...referenceApi,
        namespace,
        name: reference,
        body: { metadata: { annotations: { 'example.com/nudge': `${Date.now()}-${nudge}` } } },
      },
      mergePatch,
    );
    await eventually('one more reconcile', async () => ((await reconciles(of)) > from ? true : undefined));
  }
}

describe('audit records follow the effects the API server confirmed', () => {
  it('audits a Secret deleted out of band and written again for the same Job once, with the new version', async () => {
    const remote = `${namespace}/recreated`;
    await seedAwsSecret(remote, { password: 'first-password' });
    // Refreshes are an hour apart: only a re-creation can bring a new version.
    await createReference('recreated', remote, { refreshInterval: '1h' });
    const job = await createJob('recreated-job', 'recreated');
    const grants = (count: number) =>
      eventually(`${count} grants`, async () => {
        const records = recordsOf(operator.audit, 'recreated', 'Materialized');
        return records.length === count ? records : undefined;
      });
    const first = await secretWith('recreated', () => true);
    await grants(1);

    // Deleted while the Job runs: written again at once, and that write is a grant of its own.
    await api(k8s.CoreV1Api).deleteNamespacedSecret({ namespace, name: 'recreated' });
    const second = await secretWith('recreated', (secret) => secret.metadata?.uid !== first.metadata?.uid);
    await grants(2);

    // A new remote version in between (read once the value cache's lifetime has passed): the new one is audited.
    const rotated = await rotateAwsSecret(remote, { password: 'second-password' });
    await new Promise((resolve) => setTimeout(resolve, defaultTuning.floatingCacheTtlMs + 500));
    await api(k8s.CoreV1Api).deleteNamespacedSecret({ namespace, name: 'recreated' });
    const third = await secretWith(
      'recreated',
      (secret) => secret.metadata?.uid !== second.metadata?.uid && password(secret) === 'second-password',
    );
    const granted = await grants(3);
    expect(granted.map((record) => [record.job?.uid, record.targetSecret.uid])).toEqual(
      [first, second, third].map((secret) => [job.metadata!.uid, secret.metadata!.uid]),
    );
    expect(granted[2]!.remotes).toEqual([{ name: remote, version: rotated }]);
    expect(granted[2]!.fingerprint).not.toBe(granted[1]!.fingerprint);

    await moreReconciles(operator, 'recreated', 2);
    expect(recordsOf(operator.audit, 'recreated', 'Materialized')).toHaveLength(3);
    expect(await eventsOf('recreated', 'Materialized')).toHaveLength(3);
    expect(await fileRecords(operator.auditFile, 'recreated', 'Materialized')).toHaveLength(3);
  });

  it('does not repeat a record when the status write after it fails and is retried', async () => {
    const remote = `${namespace}/refused-status`;
    await seedAwsSecret(remote, { password: 'first-password' });
    await createReference('refused-status', remote);
    // Refuses the status that names a consuming Job, as a conflict or an outage would, until it is removed.
    const policyName = `refuse-status-${namespace}`;
    const policies = api(k8s.AdmissionregistrationV1Api);
    await policies.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: policyName },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            resourceRules: [
              {
                apiGroups: ['secretlink.dev'],
                apiVersions: ['*'],
                operations: ['UPDATE'],
                resources: ['secretreferences/status'],
              },
            ],
          },
          validations: [
            {
              expression:
                '!has(object.status) || !has(object.status.consumingJobCount) || object.status.consumingJobCount == 0',
              message: 'status writes are refused for this test',
            },
          ],
        },
      },
    });
    await policies.createValidatingAdmissionPolicyBinding({
      body: { metadata: { name: policyName }, spec: { policyName, validationActions: ['Deny'] } },
    });
    try {
      await eventually('the policy to refuse a status naming a consuming Job', async () => {
        try {
          await customApi().patchNamespacedCustomObjectStatus(
            {
              ...referenceApi,
              namespace,
              name: 'refused-status',
              body: { status: { consumingJobCount: 1 } },
              dryRun: 'All',
            },
            mergePatch,
          );
          return undefined;
        } catch (error) {
          return [403, 422].includes(statusCodeOf(error) ?? 0) ? true : undefined;
        }
      });
      const failedBefore = (await operator.metrics.queueRetries.get()).values[0]?.value ?? 0;
      await createJob('refused-status-job', 'refused-status');
      await secretWith('refused-status', () => true);
      // The status write after the grant is refused again and again; each retry reconciles once more.
      await eventually('the refused status write to be retried', async () => {
        const retried = (await operator.metrics.queueRetries.get()).values[0]?.value ?? 0;
        return retried >= failedBefore + 3 ? true : undefined;
      });
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'refused-status',
      })) as { status?: { consumingJobCount?: number } };
      expect(reference.status?.consumingJobCount ?? 0).toBe(0);
    } finally {
      await policies.deleteValidatingAdmissionPolicyBinding({ name: policyName });
      await policies.deleteValidatingAdmissionPolicy({ name: policyName });
    }
    await eventually('the status to be written once the policy is gone', async () => {
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'refused-status',
      })) as { status?: { consumingJobCount?: number } };
      return reference.status?.consumingJobCount === 1 ? true : undefined;
    });
    expect(recordsOf(operator.audit, 'refused-status', 'Materialized')).toHaveLength(1);
    expect(await eventsOf('refused-status', 'Materialized')).toHaveLength(1);
    expect(await fileRecords(operator.auditFile, 'refused-status', 'Materialized')).toHaveLength(1);
  });

  it('records a write made just before the operator stopped once, when the next one continues the audit file', async () => {
    const remote = `${namespace}/restarted`;
    await seedAwsSecret(remote, { password: 'first-password' });
    await operator.stop();
    let diskFull = false;
    const stopping = startTestOperator({
      namespaces: [namespace],
      identity: 'audit-effects',
      continueAuditOf: operator,
      failAuditFile: () => diskFull,
    });
    const file = stopping.auditFile;
    await createReference('restarted', remote, { refreshInterval: '10s' });
    await createJob('restarted-job', 'restarted');
    await secretWith('restarted', () => true);
    await eventually('the grant to be recorded', async () =>
      (await fileRecords(file, 'restarted', 'Materialized')).length === 1 ? true : undefined,
    );

    // The rotation is written, but its record cannot be: the record waits, and the operator is stopped
    // before the file takes it.
    diskFull = true;
    const rotated = await rotateAwsSecret(remote, { password: 'second-password' });
    const refreshed = await secretWith('restarted', (secret) => password(secret) === 'second-password');
    await stopping.stop();
    expect(await fileRecords(file, 'restarted', 'Refreshed')).toEqual([]);
    expect(recordsOf(stopping.audit, 'restarted', 'Refreshed')).toEqual([]);

    operator = startTestOperator({
      namespaces: [namespace],
      identity: 'audit-effects',
      continueAuditOf: stopping,
    });
    const [record] = await eventually('the refresh to be recorded by the next operator', async () => {
      const records = await fileRecords(file, 'restarted', 'Refreshed');
      return records.length > 0 ? records : undefined;
    });
    expect(record).toMatchObject({
      job: { name: 'restarted-job' },
      targetSecret: { name: 'restarted', uid: refreshed.metadata!.uid },
    });
    // Status, left behind by the stopped operator, names the version the Secret now holds.
    await eventually('status to name the version written', async () => {
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'restarted',
      })) as { status?: { remoteVersions?: { version: string }[] } };
      return reference.status?.remoteVersions?.[0]?.version === rotated ? true : undefined;
    });
    await moreReconciles(operator, 'restarted', 3);
    expect(await fileRecords(file, 'restarted', 'Refreshed')).toHaveLength(1);
    expect(await fileRecords(file, 'restarted', 'Materialized')).toHaveLength(1);
    expect(await eventsOf('restarted', 'Refreshed')).toHaveLength(1);

    // One chain from the first record to the last, through both restarts.
    await operator.stop();
    const anchor = operator.lastAnchor()!;
    const verified = await verifyAuditFile(file, {
      publicKey: operator.auditPublicKey,
      anchors: [{ seq: anchor.seq, head: anchor.head }],
    });
    expect(verified).toMatchObject({ ok: true, genesis: { reason: 'new-file' } });
  });
});
