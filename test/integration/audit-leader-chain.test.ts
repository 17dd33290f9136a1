// The signed audit file with two replicas behind one Lease, on the local control plane: only the leader opens
// its file, each chain's head is anchored on a Lease and as an AuditAnchor Event in the operator namespace, and
// a file cut after that anchor is caught by verify.
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorLeaseName, anchorReason } from '../../src/audit/anchors.ts';
import { verifyAuditFile } from '../../src/audit/verify.ts';
import { operatorNamespace } from '../env/install.ts';
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
let first: TestOperator;
let second: TestOperator;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('audit-chain');
  await seedAwsSecret(`${namespace}/warehouse`, JSON.stringify({ user: 'loader', password: 'chain-pw' }));
  const leaseName = `lease-${namespace}`;
  first = startTestOperator({ namespaces: [namespace], identity: 'audit-first', leaseName });
  await eventually('the first replica to lead', async () => (first.leading() ? true : undefined));
  second = startTestOperator({ namespaces: [namespace], identity: 'audit-second', leaseName });
  await eventually('the second replica to sync its caches', async () => (second.ready() ? true : undefined));
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  expect([...(first?.sinkErrors ?? []), ...(second?.sinkErrors ?? [])]).toEqual([]);
  await deleteNamespace(namespace);
});

async function auditLines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the signed audit file with two replicas', () => {
  it('is opened only by the leader: the standby never creates its file, the leader records every write once', async () => {
    await customApi().createNamespacedCustomObject({
      ...referenceApi,
      namespace,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretReference',
        metadata: { name: 'warehouse' },
        spec: {
          storeRef: { name: 'aws' },
          data: [{ key: 'password', remote: { name: `${namespace}/warehouse`, property: 'password' } }],
          consumers: { matchLabels: { app: 'dbt' } },
        },
      },
    });
    await api(k8s.BatchV1Api).createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'load' },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: {
              labels: { app: 'dbt' },
              annotations: { 'secretlink.dev/simulated-run-time': '600s' },
            },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'dbt', image: 'dbt:1', envFrom: [{ secretRef: { name: 'warehouse' } }] }],
            },
          },
        },
      },
    });
    await eventually('the Secret to be materialized', () => readSecretIfPresent(namespace, 'warehouse'));
    await eventually('the write to be audited', async () =>
      first.audit.some((record) => record.action === 'Materialized') ? true : undefined,
    );

    expect(second.leading()).toBe(false);
    expect(second.audit).toEqual([]);
    expect(existsSync(second.auditFile)).toBe(false);

    const lines = await auditLines(first.auditFile);
    expect(lines[0]).toMatchObject({ seq: 1, genesis: { chain: expect.stringContaining('audit-first') } });
    const written = lines.filter((line) => line.action === 'Materialized');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ job: { name: 'load' }, targetSecret: { name: 'warehouse' } });
    expect(await verifyAuditFile(first.auditFile, { publicKey: first.auditPublicKey })).toMatchObject({
      ok: true,
      records: lines.length,
    });
  });

  it('anchors the head on a Lease and as an AuditAnchor Event, and verify catches a tail cut after that anchor', async () => {
    await first.stop();
    const anchor = first.lastAnchor()!;
    const verified = await verifyAuditFile(first.auditFile, { publicKey: first.auditPublicKey });
    expect(verified).toMatchObject({ ok: true });
    expect(verified.ok && verified.head).toEqual({ seq: anchor.seq, lineHash: anchor.head });

    const leaseName = anchorLeaseName(anchor.chain);
    const lease = await api(k8s.CoordinationV1Api).readNamespacedLease({
      namespace: operatorNamespace,
      name: leaseName,
    });
    expect(lease.metadata?.annotations).toMatchObject({
      'secretlink.dev/audit-seq': String(anchor.seq),
      'secretlink.dev/audit-head': anchor.head,
    });
    const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace: operatorNamespace });
    const anchorEvents = events.items.filter(
      (event) => event.reason === anchorReason && event.regarding?.name === leaseName,
    );
    expect(anchorEvents.map((event) => event.note)).toContainEqual(
      expect.stringContaining(`anchor=${anchor.seq}:${anchor.head}`),
    );

    const cut = `${first.auditFile}.cut`;
    await copyFile(first.auditFile, cut);
    const lines = (await readFile(cut, 'utf8')).split('\n').filter(Boolean);
    await writeFile(cut, `${lines.slice(0, -1).join('\n')}\n`);
    expect(await verifyAuditFile(cut, { publicKey: first.auditPublicKey, anchors: [anchor] })).toMatchObject({
      ok: false,
      problem: { kind: 'truncated' },
    });
  });

  it('moves to the standby, which starts its own chain with a genesis record when it leads', async () => {
    await eventually('the standby to lead', async () => (second.leading() ? true : undefined));
    const lines = await eventually('the standby to open its file', async () =>
      existsSync(second.auditFile) ? auditLines(second.auditFile) : undefined,
    );
    expect(lines[0]).toMatchObject({ seq: 1, genesis: { reason: 'new-file' } });
    expect(await verifyAuditFile(second.auditFile, { publicKey: second.auditPublicKey })).toMatchObject({
      ok: true,
    });
  });
});
