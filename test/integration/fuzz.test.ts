// Hostile input to the API, beyond the CRD refusal table: a seeded, reproducible, bounded run of random
// SecretReference, SecretStore and Job manifests (test/support/fuzz-manifests.ts) against the real API server
// with the operator running, checking the product's invariants after every step:
//   - the operator never stops or loses its lease;
//   - no value appears in any SecretReference status or any Event of the namespace;
//   - a managed Secret exists only while a Job that is active, started, not suspended, refers to it and
//     matches its reference's consumers (labels and ServiceAccount) is alive, and every owner of it is such a
//     Job (so a refused Job is never an owner): a state that breaks this must mend within boundMs;
//   - once every Job is gone, so is every managed Secret (within boundMs).
// SECRETLINK_FUZZ_SEED replays a run (the seed is printed), SECRETLINK_FUZZ_STEPS sets its length.
import { randomInt } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretReference } from '../../src/api/types.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, eventually, statusCodeOf } from '../support/cluster.ts';
import {
  chance,
  type FuzzJob,
  type JobTarget,
  jobManifest,
  matches,
  objectName,
  pick,
  referenceSpec,
  type Selector,
  storeSpec,
} from '../support/fuzz-manifests.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import { seeded } from '../support/seeded.ts';
import { seedAwsSecret, stores } from '../support/stores.ts';

const seed = Number(process.env.SECRETLINK_FUZZ_SEED ?? randomInt(2 ** 31));
const steps = Number(process.env.SECRETLINK_FUZZ_STEPS ?? 60);
/** Between steps, so Jobs start and end and the operator acts while the run goes on. */
const pauseMs = 250;
/** How long a broken invariant may last before it counts: the operator acts on watch events, within seconds. */
const boundMs = 10_000;
const replay = `seed ${seed} (SECRETLINK_FUZZ_SEED=${seed} SECRETLINK_FUZZ_STEPS=${steps} replays this run)`;

let namespace: string;
let operator: TestOperator;
let stopped = false;
const random = seeded(seed);
const value = `fuzz-value-${seed}-d41f9c`;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('fuzz', ['fuzz-store-0', 'fuzz-store-1', 'fuzz-store-2']);
  await api(k8s.CoreV1Api).createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: 'loader' } },
  });
  await seedAwsSecret(`${namespace}/plain`, value);
  await seedAwsSecret(
    `${namespace}/json`,
    JSON.stringify({ user: 'u', password: value, nested: { a: value } }),
  );
  operator = startTestOperator({ namespaces: [namespace] });
  void operator.done.then(() => {
    stopped = true;
  });
  await eventually('the operator to lead', async () => (operator.leading() ? true : undefined));
  console.log(`fuzz: ${replay}`);
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

const refusals: Record<string, number> = {};
const accepted: Record<string, number> = {};
const jobs = new Map<string, FuzzJob>();
const references: string[] = [];
const targets: (JobTarget & { reference: string })[] = [];

/** Sends a manifest; a refusal by the API server (4xx) is an answer too, and is counted. */
async function attempt(kind: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    accepted[kind] = (accepted[kind] ?? 0) + 1;
    return true;
  } catch (error) {
    const code = statusCodeOf(error);
    if (code === undefined || code >= 500) throw new Error(`${kind}: ${String(error)} (${replay})`);
    refusals[`${kind} ${code}`] = (refusals[`${kind} ${code}`] ?? 0) + 1;
    return false;
  }
}

async function step(index: number): Promise<void> {
  const batch = api(k8s.BatchV1Api);
  const action = pick(random, [
    'reference',
    'reference',
    'job',
    'job',
    'job',
    'store',
    'end-job',
    'consumers',
    'drop-reference',
  ]);
  if (action === 'reference') {
    const name = objectName(random, 'ref', [], chance(random, 0.9) ? 0 : undefined);
    const spec = referenceSpec(random, {
      stores: ['aws', 'fuzz-store-0', 'fuzz-store-1', 'fuzz-store-2', 'missing'],
      remotes: [`${namespace}/plain`, `${namespace}/json`, `${namespace}/absent`],
      targets: targets.map((target) => target.name),
    });
    const body = { apiVersion: 'secretlink.dev/v1alpha1', kind: 'SecretReference', metadata: { name }, spec };
    if (
      await attempt('SecretReference', () =>
        customApi().createNamespacedCustomObject({ ...referenceApi, namespace, body }),
      )
    ) {
      references.push(name);
      targets.push({
        reference: name,
        name: (spec.target as { name?: string } | undefined)?.name ?? name,
        consumers: spec.consumers as Selector,
      });
    }
  } else if (action === 'job') {
    const job = jobManifest(random, `job-${index}`, targets);
    if (await attempt('Job', () => batch.createNamespacedJob({ namespace, body: job.body })))
      jobs.set(job.name, job);
  } else if (action === 'store') {
    const name = `fuzz-store-${Math.floor(random() * 3)}`;
    const body = {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name },
      spec: storeSpec(random, stores().aws.endpoint),
    };
    await attempt('SecretStore', () =>
      customApi().createNamespacedCustomObject({ ...storeApi, namespace, body }),
    );
  } else if (action === 'end-job' && jobs.size > 0) {
    const name = pick(random, [...jobs.keys()]);
    if (chance(random, 0.5)) {
      await attempt('Job delete', () =>
        batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' }),
      );
      jobs.delete(name);
    } else {
      const suspend = chance(random, 0.7);
      await attempt('Job suspend', () =>
        batch.patchNamespacedJob(
          { namespace, name, body: { spec: { suspend } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        ),
      );
    }
  } else if (action === 'consumers' && references.length > 0) {
    const name = pick(random, references);
    const consumers = referenceSpec(random, { stores: ['aws'], remotes: ['x'], targets: [] }).consumers;
    await attempt('SecretReference consumers', () =>
      customApi().patchNamespacedCustomObject(
        { ...referenceApi, namespace, name, body: { spec: { consumers } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
  } else if (action === 'drop-reference' && references.length > 0) {
    const name = pick(random, references);
    await attempt('SecretReference delete', () =>
      customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace, name }),
    );
    references.splice(references.indexOf(name), 1);
    targets.splice(0, targets.length, ...targets.filter((target) => target.reference !== name));
  }
}

/** When each broken state was first seen; it fails only if it outlasts boundMs. */
const brokenSince = new Map<string, number>();

async function checkInvariants(): Promise<void> {
  expect(stopped, `the operator stopped (${replay})`).toBe(false);
  expect(operator.leading(), `the operator lost its lease (${replay})`).toBe(true);
  const [secrets, liveJobs, referenceList, events] = await Promise.all([
    api(k8s.CoreV1Api).listNamespacedSecret({
      namespace,
      labelSelector: 'secretlink.dev/managed-by=secretlink',
    }),
    api(k8s.BatchV1Api).listNamespacedJob({ namespace }),
    customApi().listNamespacedCustomObject({ ...referenceApi, namespace }) as Promise<{
      items: SecretReference[];
    }>,
    api(k8s.EventsV1Api).listNamespacedEvent({ namespace }),
  ]);
  const statuses = JSON.stringify(referenceList.items.map((reference) => reference.status ?? {}));
  expect(statuses.includes(value), `a value in a SecretReference status (${replay})`).toBe(false);
  const notes = JSON.stringify(events.items.map((event) => [event.reason, event.note]));
  expect(notes.includes(value), `a value in an Event (${replay})`).toBe(false);

  const now = Date.now();
  const broken = new Set<string>();
  for (const secret of secrets.items) {
    const secretName = secret.metadata!.name!;
    const reference = referenceList.items.find(
      (r) => r.metadata.name === secret.metadata?.labels?.['secretlink.dev/reference'],
    );
    const entitles = (job: k8s.V1Job) => {
      const known = jobs.get(job.metadata!.name!);
      const finished = job.status?.conditions?.some(
        (c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True',
      );
      return (
        !!reference &&
        !!known &&
        known.refersTo.includes(secretName) &&
        !finished &&
        !job.metadata?.deletionTimestamp &&
        job.spec?.suspend !== true &&
        // Started, or created to run at once and not synced by the Job controller yet (its creation is its
        // start until then); a Job once suspended waits for its own start.
        (!!job.status?.startTime || !job.status?.conditions?.some((c) => c.type === 'Suspended')) &&
        matches(reference.spec.consumers as Selector, known.labels, known.serviceAccount)
      );
    };
    if (!liveJobs.items.some(entitles)) broken.add(`Secret ${secretName} exists with no entitled Job`);
    for (const owner of secret.metadata?.ownerReferences ?? []) {
      const job = liveJobs.items.find((j) => j.metadata?.uid === owner.uid);
      if (job && !entitles(job))
        broken.add(`Secret ${secretName} is owned by Job ${owner.name}, which is not entitled`);
    }
  }
  for (const problem of broken) brokenSince.set(problem, brokenSince.get(problem) ?? now);
  for (const [problem, since] of brokenSince) {
    if (!broken.has(problem)) brokenSince.delete(problem);
    else expect(now - since, `${problem} for ${now - since} ms (${replay})`).toBeLessThan(boundMs);
  }
}

describe('a fuzz run of random manifests against the API server and the operator', () => {
  it(
    'keeps every invariant after each step',
    async () => {
      for (let index = 0; index < steps; index++) {
        await step(index);
        await checkInvariants();
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
      // Every Job goes; every managed Secret must follow within the bound.
      await api(k8s.BatchV1Api).deleteCollectionNamespacedJob({ namespace, propagationPolicy: 'Background' });
      await eventually(
        'every managed Secret to be gone',
        async () => {
          await checkInvariants();
          const left = await api(k8s.CoreV1Api).listNamespacedSecret({
            namespace,
            labelSelector: 'secretlink.dev/managed-by=secretlink',
          });
          return left.items.length === 0 ? true : undefined;
        },
        { timeoutMs: boundMs * 2 },
      );
      expect(JSON.stringify(operator.audit).includes(value), `a value in an audit record (${replay})`).toBe(
        false,
      );
      const actions = operator.audit.reduce<Record<string, number>>((counts, record) => {
        counts[record.action] = (counts[record.action] ?? 0) + 1;
        return counts;
      }, {});
      console.log(
        `fuzz: ${replay}; accepted ${JSON.stringify(accepted)}; refused ${JSON.stringify(refusals)}; audited ${JSON.stringify(actions)}`,
      );
    },
    60_000 + steps * 2_000,
  );
});
