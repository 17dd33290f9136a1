// The operator killed at each step of a write (issue 14, item 5), and its connection to the API server cut
// (item 4): the operator runs as a child process (node src/main.ts) behind a proxy the test controls, which
// holds the exact request (before the API server sees it, or after it answered) while the test sends SIGKILL.
// The same replica is then started again, continuing its signed audit file.
//
// Bounds checked, after each fault: the reference converges (its Job holds exactly one Secret, the one status
// records, or none once the Job ended) within 30 s of the restart; no Secret is orphaned; the audit file holds
// each grant and each end of access exactly once (counted by action and Job, and no id twice), and its chain
// verifies. For the cut connection: a Job that ended while the operator could not reach the API server has its
// Secret revoked within 30 s of the connection returning, and a Job that started meanwhile gets its Secret.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  auditFileRecords,
  createJob as createScenesJob,
  createReference as createScenesReference,
  endJob as endJobIn,
  expectChainIntact as expectChainOfIntact,
  managedSecretsOf as managedSecretsIn,
} from '../support/fault-scenes.ts';
import { customApi, installCrds, referenceApi } from '../support/operator.ts';
import { type OperatorProcess, prepareReplica, type Replica } from '../support/operator-process.ts';
import { seedAwsSecret } from '../support/stores.ts';

let namespace: string;
let replica: Replica;
let running: OperatorProcess | undefined;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('operator-kill');
  replica = await prepareReplica({
    identity: `kill-${namespace}`,
    namespaces: [namespace],
    leaseName: `lease-${namespace}`,
    // Long enough that a cut of a few seconds does not cost the replica its Lease; a restarted replica of
    // the same identity takes its own Lease back at once.
    leaseDurationSeconds: 30,
  });
  running = await replica.start();
  await eventually('the operator to be ready', async () => ((await running!.ready()) ? true : undefined));
});

afterAll(async () => {
  running?.signal('SIGTERM');
  await Promise.race([running?.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  await replica?.dispose();

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

const endJob = (name: string) => endJobIn(namespace, name);

/** SIGKILL, then the same replica again (same identity, Lease and audit file). */
async function killAndRestart(): Promise<void> {
  running!.signal('SIGKILL');
  expect(await running!.exited).toBe('SIGKILL');
  running = await replica.start();
}

async function statusOf(name: string) {
  const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: {
      managedSecret?: { name: string; uid?: string };
      consumingJobCount?: number;
      conditions?: { type: string; status: string }[];
    };
  };
  return reference.status ?? {};
}

const managedSecretsOf = (reference: string) => managedSecretsIn(namespace, reference);

const recordsAbout = async (reference: string) =>
  (await auditFileRecords(replica.auditFile))
    .filter((record) => record.reference.name === reference)
    .map((record) => [record.action, record.job?.name]);

/** The Job holds exactly one Secret, the one status records, and it is Ready. */
async function servedOnce(reference: string, timeoutMs = 30_000): Promise<k8s.V1Secret> {
  return eventually(
    `${reference} served by one Secret`,
    async () => {
      const secrets = await managedSecretsOf(reference);
      const status = await statusOf(reference);
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (secrets.length !== 1 || !ready || status.consumingJobCount !== 1) return undefined;
      return status.managedSecret?.uid === secrets[0]!.metadata?.uid ? secrets[0] : undefined;
    },
    { timeoutMs },
  );
}

const secretWrite = (method: string) => (verb: string, path: string) =>
  verb === method && new RegExp(`^/api/v1/namespaces/${namespace}/secrets(/|\\?|$)`).test(path);

const expectChainIntact = () => expectChainOfIntact(replica);

describe('the operator killed at each step of a write', () => {
  it('between reading the store and creating the Secret: the restart creates it once, audited once', async () => {
    const held = replica.proxy.hold(secretWrite('POST'), 'request');
    await createReference('before-create');
    await createJob('before-create-job', 'before-create');
    await held;
    await killAndRestart();
    const secret = await servedOnce('before-create');
    expect(secret.data?.value).toBeDefined();
    await eventually('the grant in the audit file', async () =>
      (await recordsAbout('before-create')).length > 0 ? true : undefined,
    );
    expect(await recordsAbout('before-create')).toEqual([['Materialized', 'before-create-job']]);
    await expectChainIntact();
  });

  it('between the Secret write and the status write: the restart knows it as its own (no orphan), audited once', async () => {
    const held = replica.proxy.hold(secretWrite('POST'), 'response');
    await createReference('after-create');
    await createJob('after-create-job', 'after-create');
    const answered = await held;
    expect(answered.status).toBe(201);
    const createdUid = (await managedSecretsOf('after-create'))[0]?.metadata?.uid;
    await killAndRestart();
    const secret = await servedOnce('after-create');
    // The Secret the killed operator created is the one served: nothing was created twice.
    expect(await managedSecretsOf('after-create')).toHaveLength(1);
    expect(secret.metadata?.uid).toBe(createdUid);
    await eventually('the grant in the audit file', async () =>
      (await recordsAbout('after-create')).length > 0 ? true : undefined,
    );
    expect(await recordsAbout('after-create')).toEqual([['Materialized', 'after-create-job']]);
    await expectChainIntact();
  });

  it('between a delete and its audit record: the restart records the revocation once', async () => {
    await createReference('after-delete');
    await createJob('after-delete-job', 'after-delete');
    await servedOnce('after-delete');
    const held = replica.proxy.hold(secretWrite('DELETE'), 'response');
    await endJob('after-delete-job');
    const answered = await held;
    expect(answered.status).toBe(200);
    await killAndRestart();
    await eventually('the revocation in the audit file', async () =>
      (await recordsAbout('after-delete')).length === 2 ? true : undefined,
    );
    expect(await managedSecretsOf('after-delete')).toEqual([]);
    expect(await recordsAbout('after-delete')).toEqual([
      ['Materialized', 'after-delete-job'],
      ['Revoked', 'after-delete-job'],
    ]);
    await eventually('status to forget the Job', async () =>
      ((await statusOf('after-delete')).consumingJobCount ?? 0) === 0 ? true : undefined,
    );
    await expectChainIntact();
  });
});

describe("the operator's connection to the API server cut", () => {
  it('revokes a Job that ended meanwhile and serves one that started, once the connection returns', async () => {
    await createReference('cut-ended');
    await createJob('cut-ended-job', 'cut-ended');
    await servedOnce('cut-ended');
    await createReference('cut-started');

    const seenBeforeCut = replica.proxy.seen.length;
    replica.proxy.cut();
    await endJob('cut-ended-job');
    await eventually('the Job to end while the operator is cut off', async () => {
      const job = await api(k8s.BatchV1Api).readNamespacedJob({ namespace, name: 'cut-ended-job' });
      return job.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True')
        ? true
        : undefined;
    });
    await createJob('cut-started-job', 'cut-started');
    // Nothing reaches the operator meanwhile: the Secret is still there.
    expect(await readSecretIfPresent(namespace, 'cut-ended')).toBeDefined();
    expect(await readSecretIfPresent(namespace, 'cut-started')).toBeUndefined();

    replica.proxy.restore();
    await eventually('the ended Job to be revoked once the connection returns', async () =>
      (await readSecretIfPresent(namespace, 'cut-ended')) ? undefined : true,
    );
    await servedOnce('cut-started');
    // A record owed from the cut is made on the reference's next reconcile, which may sit in its retry backoff
    // (capped at 30 s) after the failures during the cut: the bound is that cap and one reconcile more.
    await eventually(
      'the records of both',
      async () =>
        (await recordsAbout('cut-ended')).length === 2 && (await recordsAbout('cut-started')).length === 1
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );
    expect(await recordsAbout('cut-ended')).toEqual([
      ['Materialized', 'cut-ended-job'],
      ['Revoked', 'cut-ended-job'],
    ]);
    expect(await recordsAbout('cut-started')).toEqual([['Materialized', 'cut-started-job']]);
    // No write was repeated when the watches came back: one create (the started Job's Secret), one delete. A
    // request the API server refused (a precondition that no longer held) wrote nothing and is not counted.
    const secretWrites = replica.proxy.seen
      .slice(seenBeforeCut)
      .filter((request) => secretWrite('POST')(request.method, request.path) || request.method === 'DELETE')
      .filter((request) => (request.status ?? 0) < 300);
    expect(secretWrites.map((request) => [request.method, request.status])).toEqual(
      expect.arrayContaining([
        ['POST', 201],
        ['DELETE', 200],
      ]),
    );
    expect(secretWrites.map((request) => `${request.method} ${request.path} ${request.status}`)).toHaveLength(
      2,
    );
    await expectChainIntact();
  }, 120_000);
});
