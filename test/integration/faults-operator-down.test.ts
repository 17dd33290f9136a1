// While no operator replica runs: a Job passes its ttl, and consuming Jobs are deleted in each way the API
// allows. ownerReferences (garbage collection) alone handle Job deletion; the ttl is the operator's to
// enforce, and so is a Secret whose owners were orphaned where the job-cascade admission policy is not
// installed. With the policy installed, orphaning is refused and garbage collection keeps its promise.
// Bound checked: every Secret that outlived its entitlement while the operator was down is deleted within
// restartBoundMs of a replica starting (its lease, 4 s here and --lease-duration in a deployment, plus the
// time to sync its caches and run one reconcile).
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsTenant } from '../support/aws-tenant.ts';
import {
  api,
  deleteNamespace,
  eventually,
  kubectl,
  readSecretIfPresent,
  statusCodeOf,
} from '../support/cluster.ts';
import { createJob, createReference, secretGone, secretHolds } from '../support/fault-scenes.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret, uniqueSecretName } from '../support/stores.ts';

const restartBoundMs = 15_000;
const policyFile = path.resolve(import.meta.dirname, '../../config/admission/job-cascade.yaml');

let namespace: string;
let operator: TestOperator;
let remote: string;

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('faults-down');
  remote = uniqueSecretName('faults-down');
  await seedAwsSecret(remote, 'down-v1');
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await kubectl('delete', '--ignore-not-found', '-f', policyFile);
  await deleteNamespace(namespace);
});

const batch = () => api(k8s.BatchV1Api);

async function expiresAtOf(reference: string): Promise<number> {
  const object = (await customApi().getNamespacedCustomObject({
    ...referenceApi,
    namespace,
    name: reference,
  })) as { status?: { consumingJobs?: { expiresAt: string }[] } };
  return Date.parse(object.status?.consumingJobs?.[0]?.expiresAt ?? '');
}

/** The refusal's message, or undefined when the API server accepted the call. */
async function refusal(call: Promise<unknown>): Promise<string | undefined> {
  return call.then(
    () => undefined,
    (error: unknown) => {
      expect(statusCodeOf(error)).toBe(403);
      return String((error as k8s.ApiException<string>).body);
    },
  );
}

const owners = async (name: string) =>
  (await readSecretIfPresent(namespace, name))?.metadata?.ownerReferences ?? [];

describe('while no operator runs', () => {
  it('expires a Job past its ttl, and removes Secrets orphaned by Job deletes, within the bound of a replica starting', async () => {
    for (const name of ['capped', 'orphaned', 'defaulted', 'guarded']) {
      await createReference(namespace, name, {
        store: 'aws',
        remote,
        ...(name === 'capped' ? { ttl: '1m' } : {}),
      });
      await createJob(namespace, `${name}-job`, name, { runTime: '10m' });
    }
    for (const name of ['capped', 'orphaned', 'defaulted', 'guarded'])
      await secretHolds(namespace, name, 'down-v1');
    const expiry = await eventually('the ttl to be recorded', async () => {
      const at = await expiresAtOf('capped');
      return Number.isNaN(at) ? undefined : at;
    });
    await operator.stop();

    // Without the policy, an orphaning delete strips the Secret's owner instead of deleting it: explicitly,
    // and by batch/v1's default when no propagationPolicy is given.
    await batch().deleteNamespacedJob({ namespace, name: 'orphaned-job', propagationPolicy: 'Orphan' });
    await batch().deleteNamespacedJob({ namespace, name: 'defaulted-job' });
    for (const name of ['orphaned', 'defaulted']) {
      await eventually(`the garbage collector to orphan ${name}`, async () =>
        (await owners(name)).length === 0 ? true : undefined,
      );
      expect(await readSecretIfPresent(namespace, name)).toBeDefined();
    }

    // With the policy, each way of orphaning a consuming Job is refused, and a cascading delete takes the
    // Secret with it through garbage collection alone.
    await kubectl('apply', '-f', policyFile);
    const guarded = { namespace, name: 'guarded-job' };
    await eventually('the job-cascade policy to be enforced', async () =>
      (await refusal(batch().deleteNamespacedJob({ ...guarded, propagationPolicy: 'Orphan', dryRun: 'All' })))
        ? true
        : undefined,
    );
    const policy = await eventually('the policy to be type-checked', async () => {
      const current = await api(k8s.AdmissionregistrationV1Api).readValidatingAdmissionPolicy({
        name: 'secretlink-job-cascade',
      });
      return current.status?.observedGeneration === current.metadata?.generation ? current : undefined;
    });
    expect(policy.status?.typeChecking?.expressionWarnings ?? []).toEqual([]);
    const orphan = await refusal(batch().deleteNamespacedJob({ ...guarded, propagationPolicy: 'Orphan' }));
    expect(orphan).toContain(
      `Job guarded-job may own Secret guarded of SecretReference ${namespace}/guarded`,
    );
    expect(await refusal(batch().deleteNamespacedJob(guarded))).toContain('--cascade=background');
    expect(await refusal(batch().deleteNamespacedJob({ ...guarded, orphanDependents: true }))).toBeDefined();
    const finalizer = await refusal(
      batch().patchNamespacedJob(
        { ...guarded, body: { metadata: { finalizers: ['orphan'] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
    expect(finalizer).toContain('the orphan finalizer would keep the Secret');
    await batch().deleteNamespacedJob({ ...guarded, propagationPolicy: 'Background' });
    await secretGone(namespace, 'guarded');

    // The ttl passes while no replica runs: the Secret stays, as nothing but the operator enforces it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiry + 1_000 - Date.now())));
    expect(await readSecretIfPresent(namespace, 'capped')).toBeDefined();
    const running = await batch().readNamespacedJob({ namespace, name: 'capped-job' });
    expect(running.status?.active).toBe(1);

    operator = startTestOperator({ namespaces: [namespace], audit: operator.audit });
    const startedAt = Date.now();
    for (const name of ['capped', 'orphaned', 'defaulted']) await secretGone(namespace, name, restartBoundMs);
    expect(Date.now() - startedAt).toBeLessThanOrEqual(restartBoundMs);
    // Counted by record id: the restarted replica emits each held Secret's last grant again under the same id,
    // which the file and Event sinks take as already recorded and this in-memory list keeps.
    const actions = (job: string) => [
      ...new Map(operator.audit.filter((r) => r.job?.name === job).map((r) => [r.id, r.action])).values(),
    ];
    await eventually('the expiry and revocations to be audited', async () =>
      actions('capped-job').length === 2 && actions('defaulted-job').length === 2 ? true : undefined,
    );
    expect(actions('capped-job')).toEqual(['Materialized', 'Expired']);
    expect(actions('orphaned-job')).toEqual(['Materialized', 'Revoked']);
    expect(actions('defaulted-job')).toEqual(['Materialized', 'Revoked']);
  }, 120_000);

  it('lets a namespace be deleted with a consuming Job in it while the policy is installed', async () => {
    expect((await batch().readNamespacedJob({ namespace, name: 'capped-job' })).status?.active).toBe(1);
    await api(k8s.CoreV1Api).deleteNamespace({ name: namespace });
    await eventually(
      'the namespace to be gone',
      () =>
        api(k8s.CoreV1Api)
          .readNamespace({ name: namespace })
          .then(
            () => undefined,
            (error: unknown) => (statusCodeOf(error) === 404 ? true : undefined),
          ),
      { timeoutMs: 60_000 },
    );
  }, 90_000);
});
