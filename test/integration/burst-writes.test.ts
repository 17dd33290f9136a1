// How many writes a burst of Jobs costs, counted as the API server saw them (watch events), not by the
// operator's own counters: one SecretReference and 20 consuming Jobs created at once.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchFrom } from '../../bench/watch-from.ts';
import { group, plurals, version } from '../../src/api/constants.ts';
import type { SecretReferenceStatus } from '../../src/api/types.ts';
import { isJobActive } from '../../src/controller/consumers.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, kubeConfig } from '../support/cluster.ts';
import { createJob, createReference, readyWith, secretValue } from '../support/fault-scenes.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret } from '../support/stores.ts';

const jobCount = 20;
let namespace: string;
let operator: TestOperator;
const stops: (() => void)[] = [];

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('burst');
  await seedAwsSecret(`${namespace}/warehouse`, 'burst-value');
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  for (const stop of stops) stop();
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

interface Observed<T> {
  type: string;
  object: T;
}

/** Every watch event of one named object from `resourceVersion` on, in the order the API server sent them. */
async function watchObject<T extends k8s.KubernetesObject>(
  path: string,
  name: string,
  resourceVersion: string,
) {
  const events: Observed<T>[] = [];
  const errors: unknown[] = [];
  const watch = await watchFrom(
    kubeConfig(),
    path,
    { fieldSelector: `metadata.name=${name}` },
    resourceVersion,
    (type, object) => events.push({ type, object: object as T }),
    (error) => errors.push(error),
  );
  stops.push(() => watch.stop());
  return { events, errors };
}

type Reference = k8s.KubernetesObject & { status?: SecretReferenceStatus };

const ownersOf = (secret: k8s.V1Secret) =>
  (secret.metadata?.ownerReferences ?? []).map((owner) => owner.uid).sort();

describe('a burst of Jobs on one SecretReference', () => {
  it(`serves ${jobCount} Jobs started at once with one Secret write per observed change of owners, and status writes only around them`, async () => {
    await createReference(namespace, 'warehouse', {
      store: 'aws',
      remote: `${namespace}/warehouse`,
    });
    // The finalizer and the first status (NoConsumers) come before the burst, so they are not counted.
    await readyWith(namespace, 'warehouse', (ready) => ready.reason === 'NoConsumers');
    const before = (await customApi().getNamespacedCustomObject({
      ...referenceApi,
      namespace,
      name: 'warehouse',
    })) as Reference;
    const references = await watchObject<Reference>(
      `/apis/${group}/${version}/namespaces/${namespace}/${plurals.secretReference}`,
      'warehouse',
      before.metadata!.resourceVersion!,
    );
    const secretList = await api(k8s.CoreV1Api).listNamespacedSecret({ namespace });
    const secrets = await watchObject<k8s.V1Secret>(
      `/api/v1/namespaces/${namespace}/secrets`,
      'warehouse',
      secretList.metadata!.resourceVersion!,
    );

    const jobs = await Promise.all(
      Array.from({ length: jobCount }, (_, index) => createJob(namespace, `load-${index}`, 'warehouse')),
    );
    const jobUids = jobs.map((job) => job.metadata!.uid!).sort();
    await eventually(
      `every one of the ${jobCount} Jobs to own the Secret`,
      async () => {
        const last = secrets.events.at(-1)?.object;
        return last && ownersOf(last).length === jobCount ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // Counted until the status that lists every Job as consuming, which follows the last Secret write.
    await eventually(
      'the status to list every Job as consuming',
      async () =>
        references.events.some((event) => event.object.status?.consumingJobCount === jobCount)
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
    expect(references.errors).toEqual([]);
    expect(secrets.errors).toEqual([]);

    // A status write is a MODIFIED event whose status differs from the one before it.
    let seen = JSON.stringify(before.status ?? {});
    const statusWrites = references.events.filter((event) => {
      const status = JSON.stringify(event.object.status ?? {});
      const changed = event.type === 'MODIFIED' && status !== seen;
      seen = status;
      return changed;
    });
    const secretWrites = secrets.events.filter(
      (event) => event.type === 'ADDED' || event.type === 'MODIFIED',
    );
    const ownerSets = secretWrites.map((event) => ownersOf(event.object));
    const counts = JSON.stringify({
      status: statusWrites.map(({ object }) => [
        object.status?.conditions?.[0]?.reason,
        object.status?.consumingJobCount,
        object.status?.jobStarts?.length,
      ]),
      secretOwners: ownerSets.map((set) => set.length),
    });

    // Secret: created once, then every write names a set of owners the one before did not, and no Job loses
    // access in between: at most one write per change of the set of started Jobs the operator observed (so at
    // most one per Job), and Jobs whose starts it saw together arrive in one write.
    expect(secretWrites[0]?.type, counts).toBe('ADDED');
    expect(
      secretWrites.slice(1).every((event) => event.type === 'MODIFIED'),
      counts,
    ).toBe(true);
    for (const [index, owners] of ownerSets.entries()) {
      const earlier = ownerSets[index - 1] ?? [];
      expect(owners.length, counts).toBeGreaterThan(earlier.length);
      expect(
        owners.filter((uid) => earlier.includes(uid)),
        counts,
      ).toEqual(earlier);
    }
    expect(ownerSets.at(-1)).toEqual(jobUids);

    // Status: the claim and first starts are recorded before a Secret write, and what it granted after it.
    // The first starts of Jobs seen meanwhile go with the write after, so the write before the next Secret
    // write is needed only for a Job that started after that: at most two status writes per Secret write,
    // never one per Job on top of them. Jobs that start together cost one Secret write and one or two status
    // writes (3 to 5 status writes for 20 Jobs when the Job controller starts them in two or three waves);
    // Jobs that the Job controller starts one at a time, slower than a reconcile, are each a change of their
    // own, and each costs its Secret write and up to two status writes.
    expect(statusWrites.length, counts).toBeLessThanOrEqual(2 * secretWrites.length);

    // What status says at the end: every Job consuming, its first start recorded, the Secret it holds.
    const final = (await customApi().getNamespacedCustomObject({
      ...referenceApi,
      namespace,
      name: 'warehouse',
    })) as Reference;
    const secret = secretWrites.at(-1)!.object;
    expect(final.status?.consumingJobs?.map((job) => job.uid).sort()).toEqual(jobUids);
    expect(final.status?.consumingJobCount).toBe(jobCount);
    expect(final.status?.jobStarts?.map((start) => start.uid).sort()).toEqual(jobUids);
    expect(final.status?.managedSecret).toEqual({ name: 'warehouse', uid: secret.metadata!.uid });
    expect(final.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Materialized',
    });
    const live = await api(k8s.CoreV1Api).readNamespacedSecret({ namespace, name: 'warehouse' });
    expect(secretValue(live)).toBe('burst-value');
    // Every Job is still running: none finished before the count, so none of these writes was a revocation.
    const listed = await api(k8s.BatchV1Api).listNamespacedJob({ namespace });
    expect(listed.items.filter(isJobActive)).toHaveLength(jobCount);
    // One grant recorded per Job.
    const grants = operator.audit.filter((record) => record.action === 'Materialized');
    expect(new Set(grants.map((record) => record.job?.uid))).toEqual(new Set(jobUids));
  }, 120_000);
});
