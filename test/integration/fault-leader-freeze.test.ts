// A leader frozen with SIGSTOP (issue 14, item 5) and the failover it causes while Jobs start and end (item 6):
// two replicas (node src/main.ts), each behind its own proxy that records every request it makes. The standby
// takes the Lease once it expires and serves; the old leader, when continued, writes nothing (no Secret, status
// or audit record) and stops; every Secret write is made once across both replicas; and each replica's signed
// audit file (its own chain, named after it) holds what that replica recorded, each record naming the replica
// that acted (`operator`).
//
// Bounds checked: the standby holds the Lease within 30 s of the freeze (lease duration 4 s); a Job that ends
// after the takeover loses its Secret, and one that starts gets it, within 30 s.
import { readFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { verifyAuditFile } from '../../src/audit/verify.ts';
import { operatorNamespace } from '../env/install.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  createJob as createScenesJob,
  createReference as createScenesReference,
} from '../support/fault-scenes.ts';
import { customApi, installCrds, referenceApi } from '../support/operator.ts';
import { type OperatorProcess, prepareReplica, type Replica } from '../support/operator-process.ts';
import { seedAwsSecret } from '../support/stores.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
let namespace: string;
let leaseName: string;
const replicas: Replica[] = [];
const processes: OperatorProcess[] = [];

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('leader-freeze');
  leaseName = `lease-${namespace}`;
  for (const name of ['a', 'b']) {
    replicas.push(
      await prepareReplica({ identity: `freeze-${name}-${namespace}`, namespaces: [namespace], leaseName }),
    );
  }
});

afterAll(async () => {
  for (const process of processes) process.signal('SIGCONT');
  for (const process of processes) process.signal('SIGTERM');
  await Promise.race([
    Promise.all(processes.map((process) => process.exited)),
    new Promise((resolve) => setTimeout(resolve, 10_000)),
  ]);
  for (const replica of replicas) await replica.dispose();

  if (namespace) await deleteNamespace(namespace);
});

/** An AWS-backed reference whose Secret holds `password`, consumed by `app: etl` Jobs. */
async function createReference(name: string): Promise<void> {
  await seedAwsSecret(`${namespace}/${name}`, { password: `${name}-password` });
  await createScenesReference(namespace, name, {
    store: 'aws',
    remote: `${namespace}/${name}`,
    property: 'password',
  });
}

async function createJob(name: string, secretName: string): Promise<void> {
  await createScenesJob(namespace, name, secretName, { runTime: '10m' });
}

async function endJob(name: string): Promise<void> {
  await api(k8s.BatchV1Api).patchNamespacedJob(
    { namespace, name, body: { spec: { activeDeadlineSeconds: 1 } } },
    mergePatch,
  );
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await api(k8s.CoordinationV1Api).readNamespacedLease({
    namespace: operatorNamespace,
    name: leaseName,
  });
  return lease.spec?.holderIdentity ?? undefined;
}

async function fileRecords(replica: Replica): Promise<AuditRecord[]> {
  const text = await readFile(replica.auditFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditRecord)
    .filter((entry) => 'action' in entry);
}

const summary = (records: AuditRecord[]) => records.map((r) => [r.action, r.reference.name, r.job?.name]);

/** Writes to the tenant's Secrets and SecretReferences (status included) a replica sent through its proxy. */
const tenantWrites = (replica: Replica, from = 0) =>
  replica.proxy.seen
    .slice(from)
    .filter(
      (request) =>
        request.method !== 'GET' &&
        (request.path.startsWith(`/api/v1/namespaces/${namespace}/secrets`) ||
          request.path.includes(`/namespaces/${namespace}/secretreferences`)),
    );

describe('a leader frozen with SIGSTOP', () => {
  it('is replaced once its Lease expires, and when continued writes nothing', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const first = await a.start();
    processes.push(first);
    await eventually('replica a to lead', async () =>
      (await leaseHolder()) === a.identity ? true : undefined,
    );
    processes.push(await b.start());

    await createReference('before');
    await createJob('before-job', 'before');
    await eventually('the Secret from replica a', () => readSecretIfPresent(namespace, 'before'));
    await eventually("replica a's grant", async () =>
      (await fileRecords(a)).length === 1 ? true : undefined,
    );

    // Frozen once its write is complete (status names the Secret's uid), so what each replica did is fixed; a
    // stop between the create and that status write is test/integration/fault-operator-kill.test.ts's.
    await eventually("the Secret's uid in status", async () => {
      const reference = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace,
        name: 'before',
      })) as { status?: { managedSecret?: { uid?: string } } };
      return reference.status?.managedSecret?.uid ? true : undefined;
    });
    first.signal('SIGSTOP');
    await eventually('replica b to take the Lease', async () =>
      (await leaseHolder()) === b.identity ? true : undefined,
    );
    // Jobs end and start while the old leader is frozen: the new one serves them.
    await endJob('before-job');
    await createReference('after');
    await createJob('after-job', 'after');
    await eventually('the ended Job revoked by replica b', async () =>
      (await readSecretIfPresent(namespace, 'before')) ? undefined : true,
    );
    await eventually('the new Job served by replica b', () => readSecretIfPresent(namespace, 'after'));
    await eventually("replica b's records", async () =>
      (await fileRecords(b)).some((record) => record.reference.name === 'after') &&
      (await fileRecords(b)).some((record) => record.action === 'Revoked')
        ? true
        : undefined,
    );

    const seenBeforeContinue = a.proxy.seen.length;
    const aRecords = summary(await fileRecords(a));
    first.signal('SIGCONT');
    // It finds its Lease taken and stops acting: it exits, as a replica that lost its Lease does.
    await Promise.race([first.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    expect(tenantWrites(a, seenBeforeContinue)).toEqual([]);
    expect(summary(await fileRecords(a))).toEqual(aRecords);
    expect(await readSecretIfPresent(namespace, 'before')).toBeUndefined();

    // Who did what: replica a granted the first Job; replica b revoked it and granted the second. The new
    // leader emits the held Secret's last grant again (it cannot know a frozen replica recorded it), under the
    // same id: counted by id, every decision is recorded once.
    expect(aRecords).toEqual([['Materialized', 'before', 'before-job']]);
    const [aGrant] = await fileRecords(a);
    const bRecords = await fileRecords(b);
    // The revocation and the second grant race (the Job ends while the other starts), so their order is free.
    const bDecisions = bRecords.filter((record) => record.id !== aGrant!.id).map((r) => summary([r])[0]);
    expect(bDecisions).toHaveLength(2);
    expect(bDecisions).toEqual(
      expect.arrayContaining([
        ['Revoked', 'before', 'before-job'],
        ['Materialized', 'after', 'after-job'],
      ]),
    );
    // Each record names the replica that acted, even the grant replica b emitted again from the Secret.
    expect(aGrant!.operator).toBe(a.identity);
    expect(bRecords.map((record) => [record.action, record.reference.name, record.operator])).toEqual(
      expect.arrayContaining([
        ['Materialized', 'before', a.identity],
        ['Revoked', 'before', b.identity],
        ['Materialized', 'after', b.identity],
      ]),
    );
    const ids = [...(await fileRecords(a)), ...bRecords].map((record) => record.id);
    expect(new Set(ids).size).toBe(3);
    for (const records of [await fileRecords(a), bRecords]) {
      expect(new Set(records.map((record) => record.id)).size).toBe(records.length);
    }
    // Every Secret write once across both replicas: two creates, one delete.
    const secretWrites = [...tenantWrites(a), ...tenantWrites(b)].filter((request) =>
      request.path.startsWith(`/api/v1/namespaces/${namespace}/secrets`),
    );
    expect(secretWrites.map((request) => request.method).sort()).toEqual(['DELETE', 'POST', 'POST']);
    for (const replica of [a, b]) {
      expect(await verifyAuditFile(replica.auditFile, { publicKey: replica.auditPublicKey })).toMatchObject({
        ok: true,
        genesis: { chain: replica.identity },
      });
    }
  });
});
