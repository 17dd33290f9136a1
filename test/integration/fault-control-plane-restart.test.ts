// The API server restarted while a burst of Jobs is in flight, and etcd restarted under the operator. Both run
// on a control plane of this file's own (same code, own ports and run folder), since stopping the run's
// shared servers would break the other files; the stores are the run's. The operator runs as a child process
// (node src/main.ts) behind the proxy of test/support/operator-process.ts, which counts its writes.
//
// Bounds checked, each from the moment the restarted server is ready again: every entitled Job is served by
// its reference's one Secret within restartBoundMs; a Job that ended around the outage has its Secret revoked
// within restartBoundMs of the Job controller recording its end; a Job created after an etcd restart is
// served within restartBoundMs. Throughout: no Secret is created twice or deleted while entitled (each
// reference's grants all name the Secret that exists, and the API server confirmed no more creates than there
// are such Secrets), every Job has at most one grant and one end of access in the audit file, no record id
// appears twice and the signed chain verifies, and every record also has its Event on the reference within
// eventRetryBoundMs (an Event refused while the server was away is retried). The operator rides the outage
// out: it never exits (its Lease, 60 s here, outlasts the outage; a longer outage costs a replica its Lease,
// and it stops to be restarted).
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventName } from '../../src/audit/event-sink.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import { type OwnControlPlane, startOwnControlPlane } from '../env/environment.ts';
import { consoleProgress } from '../env/progress.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, eventually, readSecretIfPresent, useOwnCluster } from '../support/cluster.ts';
import {
  auditFileRecords,
  createJob,
  createReference,
  expectChainIntact,
  managedSecretsOf,
  secretGone,
  secretValue,
} from '../support/fault-scenes.ts';
import { customApi, installCrds, referenceApi } from '../support/operator.ts';
import { type OperatorProcess, prepareReplica, type Replica } from '../support/operator-process.ts';
import { seedAwsSecret, uniqueSecretName } from '../support/stores.ts';

const restartBoundMs = 30_000;
/** An Event that failed during the outage is retried 1 s, 2 s, 4 s... after; the outage here is seconds. */
const eventRetryBoundMs = 60_000;
const value = 'restart-value';

let own: OwnControlPlane | undefined;
let namespace: string;
let remote: string;
let replica: Replica | undefined;
let running: OperatorProcess | undefined;
let exitedEarly: string | undefined;

beforeAll(async () => {
  own = await startOwnControlPlane(consoleProgress('[own control plane]'));
  const { controlPlane } = own;
  useOwnCluster({
    kubeconfig: controlPlane.kubeconfig,
    server: controlPlane.server,
    kubectl: own.kubectl,
    nodeNames: controlPlane.nodeNames,
  });
  await installCrds();
  namespace = await createAwsTenant('restart');
  remote = uniqueSecretName('restart');
  await seedAwsSecret(remote, value);
  replica = await prepareReplica({
    identity: `restart-${namespace}`,
    namespaces: [namespace],
    leaseName: `lease-${namespace}`,
    leaseDurationSeconds: 60,
  });
  running = await replica.start();
  void running.exited.then((how) => {
    exitedEarly ??= how;
  });
  await eventually('the operator to be ready', async () => ((await running!.ready()) ? true : undefined));
}, 240_000);

afterAll(async () => {
  // Not an early exit: the test ends it.
  exitedEarly ??= 'stopped by the test';
  running?.signal('SIGTERM');
  await Promise.race([running?.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  await replica?.dispose();
  await own?.stop();
});

const batch = () => api(k8s.BatchV1Api);

interface ReferenceStatus {
  managedSecret?: { name: string; uid?: string };
  consumingJobCount?: number;
  conditions?: { type: string; status: string }[];
}

async function statusOf(name: string): Promise<ReferenceStatus> {
  const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: ReferenceStatus;
  };
  return reference.status ?? {};
}

/** The reference's one Secret holds the value, is owned by exactly `jobs`, and status says so. */
async function servedTo(reference: string, jobs: string[], timeoutMs = restartBoundMs) {
  return eventually(
    `${reference} to serve ${jobs.join(', ')}`,
    async () => {
      const secrets = await managedSecretsOf(namespace, reference);
      const status = await statusOf(reference);
      const secret = secrets[0];
      const owners = (secret?.metadata?.ownerReferences ?? []).map((owner) => owner.name).sort();
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return secrets.length === 1 &&
        secretValue(secret) === value &&
        ready &&
        status.consumingJobCount === jobs.length &&
        status.managedSecret?.uid === secret!.metadata?.uid &&
        JSON.stringify(owners) === JSON.stringify([...jobs].sort())
        ? secret
        : undefined;
    },
    { timeoutMs },
  );
}

/** True once the Job controller recorded the Job's end (Complete or Failed). */
async function hasEnded(name: string): Promise<true | undefined> {
  const job = await batch().readNamespacedJob({ namespace, name });
  const end = job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  return end ? true : undefined;
}

const recordsOfJob = (records: AuditRecord[], job: string) =>
  records.filter((record) => record.job?.name === job && record.action !== 'Failed').map((r) => r.action);

/** Secret creates the API server confirmed to the operator since `from` (a create's path names no Secret). */
const confirmedCreates = (from: number) =>
  replica!.proxy.seen
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path.startsWith(`/api/v1/namespaces/${namespace}/secrets`))
    .filter((r) => (r.status ?? 0) < 300 && r.status !== undefined);

/** Secret deletes the API server confirmed for `secret` since `from`. */
const confirmedDeletes = (from: number, secret: string) =>
  replica!.proxy.seen
    .slice(from)
    .filter(
      (r) => r.method === 'DELETE' && r.path.startsWith(`/api/v1/namespaces/${namespace}/secrets/${secret}`),
    )
    .filter((r) => (r.status ?? 0) < 300 && r.status !== undefined);

/** Each record of the signed file also has its Event on the reference, those made as the server went away too. */
const everyRecordHasItsEvent = (records: AuditRecord[]) =>
  eventually(
    'an Event for every audit record',
    async () => {
      const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace });
      const names = new Set(events.items.map((event) => event.metadata?.name));
      const missing = records.filter((record) => !names.has(eventName(record.reference.name, record.id)));
      return missing.length === 0 ? true : undefined;
    },
    { timeoutMs: eventRetryBoundMs },
  );

function expectOperatorUp(): void {
  expect(exitedEarly).toBeUndefined();
}

describe('the API server restarted while a burst of Jobs is in flight', () => {
  it('serves every entitled Job once, revokes the Jobs that ended, and writes nothing twice', async () => {
    // 10 references, 3 Jobs each: 7 keep running, the Jobs of 3 end on their own a few seconds in, so their
    // end falls around the restart.
    const references = Array.from({ length: 10 }, (_, index) => `burst-${index}`);
    const ending = new Set(references.slice(7));
    const jobsOf = (reference: string) => [0, 1, 2].map((index) => `${reference}-job-${index}`);
    for (const reference of references) await createReference(namespace, reference, { store: 'aws', remote });
    const seenBefore = replica!.proxy.seen.length;

    await Promise.all(
      references.flatMap((reference) =>
        jobsOf(reference).map((job) =>
          createJob(namespace, job, reference, { runTime: ending.has(reference) ? '6s' : '10m' }),
        ),
      ),
    );
    // In flight: the operator has begun writing Secrets and is not done.
    await eventually(
      'the first Secret of the burst',
      async () => {
        const list = await api(k8s.CoreV1Api).listNamespacedSecret({
          namespace,
          labelSelector: 'secretlink.dev/reference',
        });
        return list.items.length > 0 ? true : undefined;
      },
      { intervalMs: 50 },
    );
    const { controlPlane } = own!;
    await controlPlane.stopServer('kube-apiserver');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await controlPlane.startServer('kube-apiserver');

    // All within one bound from the restart (a last probe allowed for the references checked last).
    const servedBy = Date.now() + restartBoundMs;
    for (const reference of references.filter((r) => !ending.has(r))) {
      await servedTo(reference, jobsOf(reference), Math.max(2_000, servedBy - Date.now()));
    }
    for (const reference of ending) {
      for (const job of jobsOf(reference))
        await eventually(`${job} to end`, () => hasEnded(job), { timeoutMs: 60_000 });
      await secretGone(namespace, reference, restartBoundMs);
    }
    expectOperatorUp();

    // Evidence: every running Job granted once, by the one Secret that exists; an ended Job granted and
    // revoked at most once each. Status forgets ended Jobs only after their records are written.
    for (const reference of ending) {
      await eventually(`${reference} to forget its Jobs`, async () =>
        ((await statusOf(reference)).consumingJobCount ?? 0) === 0 ? true : undefined,
      );
    }
    const records = await auditFileRecords(replica!.auditFile);
    const grantedSecrets = new Set<string>();
    for (const reference of references) {
      const secret = await readSecretIfPresent(namespace, reference);
      for (const job of jobsOf(reference)) {
        const actions = recordsOfJob(records, job);
        if (ending.has(reference)) {
          const detail = records
            .filter((r) => r.job?.name === job)
            .map((r) => `${r.action} ${r.reason} secret ${r.targetSecret.uid} at ${r.time} (${r.id})`);
          expect([[], ['Materialized', 'Revoked']], `${job}: ${detail.join('; ')}`).toContainEqual(actions);
        } else {
          expect(actions).toEqual(['Materialized']);
          const grant = records.find((r) => r.job?.name === job && r.action === 'Materialized')!;
          expect(grant.targetSecret.uid).toBe(secret!.metadata!.uid);
        }
      }
      for (const record of records.filter(
        (r) => r.reference.name === reference && r.action === 'Materialized',
      ))
        grantedSecrets.add(record.targetSecret.uid!);
      if (!ending.has(reference)) expect(confirmedDeletes(seenBefore, reference)).toEqual([]);
      else expect(confirmedDeletes(seenBefore, reference).length).toBeLessThanOrEqual(1);
    }
    // A create whose answer the restart cut off is not seen as confirmed, so this is at most, not exactly.
    expect(confirmedCreates(seenBefore).length).toBeLessThanOrEqual(grantedSecrets.size);
    await expectChainIntact(replica!);
    await everyRecordHasItsEvent(records);
  }, 180_000);
});

describe('etcd restarted under the operator', () => {
  it('resumes watching: a Job that ended during the outage is revoked and a new one served, nothing twice', async () => {
    for (const reference of ['etcd-steady', 'etcd-ended', 'etcd-after'])
      await createReference(namespace, reference, { store: 'aws', remote });
    await createJob(namespace, 'etcd-steady-job', 'etcd-steady');
    await createJob(namespace, 'etcd-ended-job', 'etcd-ended');
    const steady = await servedTo('etcd-steady', ['etcd-steady-job']);
    await servedTo('etcd-ended', ['etcd-ended-job']);
    const seenBefore = replica!.proxy.seen.length;

    // The Job's deadline falls a few seconds into the outage: the Job controller records its end only once
    // etcd is back, and the operator learns of it from its resumed watch.
    const job = await batch().readNamespacedJob({ namespace, name: 'etcd-ended-job' });
    const ranFor = Math.ceil((Date.now() - job.status!.startTime!.getTime()) / 1000);
    await batch().patchNamespacedJob(
      { namespace, name: 'etcd-ended-job', body: { spec: { activeDeadlineSeconds: ranFor + 3 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const { controlPlane } = own!;
    await controlPlane.stopServer('etcd');
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expectOperatorUp();
    await controlPlane.startServer('etcd');

    await createJob(namespace, 'etcd-after-job', 'etcd-after');
    await servedTo('etcd-after', ['etcd-after-job']);
    await eventually('the ended Job to be recorded as ended', () => hasEnded('etcd-ended-job'), {
      timeoutMs: 60_000,
    });
    await secretGone(namespace, 'etcd-ended', restartBoundMs);
    // The steady Job's Secret was never rewritten or recreated.
    const after = await servedTo('etcd-steady', ['etcd-steady-job']);
    expect(after.metadata?.uid).toBe(steady.metadata?.uid);
    expect(confirmedDeletes(seenBefore, 'etcd-steady')).toEqual([]);
    expect(confirmedDeletes(seenBefore, 'etcd-ended').length).toBeLessThanOrEqual(1);
    expect(confirmedCreates(seenBefore).length).toBeLessThanOrEqual(1);
    expectOperatorUp();

    await eventually('etcd-ended to forget its Job', async () =>
      ((await statusOf('etcd-ended')).consumingJobCount ?? 0) === 0 ? true : undefined,
    );
    const records = await auditFileRecords(replica!.auditFile);
    expect(recordsOfJob(records, 'etcd-steady-job')).toEqual(['Materialized']);
    expect(recordsOfJob(records, 'etcd-ended-job')).toEqual(['Materialized', 'Revoked']);
    expect(recordsOfJob(records, 'etcd-after-job')).toEqual(['Materialized']);
    await expectChainIntact(replica!);
    await everyRecordHasItsEvent(records);
  }, 180_000);
});
