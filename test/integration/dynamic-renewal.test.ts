// Leases held in increments (spec.dynamic.renewalIncrement: 15s) against the real OpenBao database engine and
// PostgreSQL, per Job: a running Job's login outlives the increment and the role's 20-second default TTL
// because the operator renews it; with the operator stopped, PostgreSQL refuses the login within the increment
// (plus a margin) though the Job's ttl is ten minutes away; and a restarted operator gives the Job's Secret a
// new credential in place of the one that lapsed.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig } from '../env/operator-identity.ts';
import { api, deleteNamespace, environment, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  createDynamicTenant,
  expectNoHandleInOperatorOutput,
  type Login,
  loginOf,
  logsIn,
  startEltJob,
} from '../support/dynamic-tenant.ts';
import { installCrds, startTestOperator, type TestOperator } from '../support/operator.ts';
import { awaitPodRewrite, installPerJobAdmission } from '../support/per-job-admission.ts';
import { stores } from '../support/stores.ts';

const reference = 'warehouse';
const incrementMs = 15_000;
const leaseName = 'secretlink-operator';
/** Lease ids and token accessors seen on Secrets: none may appear in a log, Event, status or audit record. */
const handles: string[] = [];

let namespace: string;
let operator: TestOperator | undefined;
let removeAdmission: (() => Promise<void>) | undefined;

async function startOperator(name: string): Promise<TestOperator> {
  return startTestOperator({
    namespaces: [namespace],
    identity: name,
    leaseName,
    kubeConfig: await operatorKubeConfig(environment()),
  });
}

beforeAll(async () => {
  await installCrds();
  removeAdmission = await installPerJobAdmission();
  namespace = await createDynamicTenant('dynamic-renewal', {
    isolation: 'PerJob',
    ttl: '10m',
    dynamic: { database: { role: stores().vault.databaseRole }, renewalIncrement: '15s' },
  });
  await installOperatorRbac(environment());
  await api(k8s.CoordinationV1Api)
    .deleteNamespacedLease({ namespace: operatorNamespace, name: leaseName })
    .catch(() => undefined);
  operator = await startOperator('dynamic-renewal-operator');
  await awaitPodRewrite(namespace, reference, { app: 'elt' });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors ?? []).toEqual([]);
  if (namespace) await deleteNamespace(namespace);
  await removeAdmission?.();
});

/** The credential in the Job's own Secret once it differs from `other`; its handle joins the leak scans. */
async function credentialOf(job: k8s.V1Job, other?: Login): Promise<Login> {
  const name = `${reference}-${job.metadata!.uid}`;
  const secret = await eventually(
    `Secret ${name} with ${other ? 'a new' : 'the Job'}'s credential`,
    async () => {
      const found = await readSecretIfPresent(namespace, name);
      const username = found?.data?.username && Buffer.from(found.data.username, 'base64').toString('utf8');
      return username && username !== other?.username ? found : undefined;
    },
    { timeoutMs: 60_000 },
  );
  return loginOf(secret!, handles);
}

/** The renewals the operator recorded for the Job, as [reason, the end it renewed to]. */
function renewalsOf(from: TestOperator, job: k8s.V1Job): [string, string | undefined][] {
  return from.audit
    .filter((record) => record.action === 'LeaseRenewed' && record.job?.uid === job.metadata!.uid)
    .map((record) => [record.reason, record.lease?.expiresAt]);
}

describe('a per-Job credential held in 15-second increments', () => {
  let job: k8s.V1Job;
  let login: Login;

  it('keeps logging in well past the increment while its Job runs: the operator renews it', async () => {
    job = await startEltJob(namespace, 'load', '10m');
    login = await credentialOf(job);
    expect(await logsIn(login)).toBe(true);
    // Three increments and more, past the role's 20 s default TTL as well: each renewal recorded for the Job.
    await eventually(
      'three renewals of the Job lease',
      async () =>
        renewalsOf(operator!, job).filter(([r]) => r === 'Renewed').length >= 3 ? true : undefined,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    expect(await logsIn(login)).toBe(true);
    // Renewed at issue to the increment (not to the ttl), then by the operator.
    expect(renewalsOf(operator!, job)[0]?.[0]).toBe('RenewedToIncrement');
    expect(
      operator!.audit.filter((r) => r.action === 'LeaseIssued' && r.job?.uid === job.metadata!.uid),
    ).toHaveLength(1);
    const status = await eventually('the CredentialsRenewed condition', async () => {
      const found = (await api(k8s.CustomObjectsApi).getNamespacedCustomObject({
        group: 'secretlink.dev',
        version: 'v1alpha1',
        plural: 'secretreferences',
        namespace,
        name: reference,
      })) as { status?: { conditions?: { type: string; status: string; reason: string }[] } };
      return found.status?.conditions?.find((c) => c.type === 'CredentialsRenewed');
    });
    expect(status).toMatchObject({ status: 'True', reason: 'Renewed' });
  }, 180_000);

  it('is refused by PostgreSQL within the increment (plus a margin) once the operator stops, its ttl far away', async () => {
    await operator!.stop();
    const stoppedAt = Date.now();
    // The operator revoked nothing: the lease is only left unrenewed.
    expect(operator!.audit.filter((r) => r.action === 'LeaseRevoked')).toEqual([]);
    const renewals = renewalsOf(operator!, job);
    // The last renewal held the lease at most one increment ahead of the stop.
    const heldUntil = Date.parse(renewals.at(-1)![1]!);
    expect(heldUntil - stoppedAt).toBeLessThanOrEqual(incrementMs);
    // Bound: the increment, plus 20 s for OpenBao's expiry (it revokes the lease, dropping the role) and the
    // 5 s the database plugin adds to VALID UNTIL, on a busy machine. The Job's ttl is ten minutes away.
    await eventually(
      'the login to be refused once its lease was not renewed',
      async () => ((await logsIn(login)) ? undefined : true),
      { timeoutMs: incrementMs + 20_000, intervalMs: 1_000 },
    );
    const running = await api(k8s.BatchV1Api).readNamespacedJob({ namespace, name: 'load' });
    expect(running.status?.active).toBe(1);
  }, 60_000);

  it("gives the running Job's Secret a new credential once the operator is back, revoking the lapsed one", async () => {
    const previous = operator!;
    operator = await startOperator('dynamic-renewal-operator-2');
    const fresh = await credentialOf(job, login);
    expect(await logsIn(fresh)).toBe(true);
    const trail = await eventually('the lapsed lease to be replaced in the audit trail', async () => {
      const records = operator!.audit.filter(
        (r) => r.action.startsWith('Lease') && r.job?.uid === job.metadata!.uid,
      );
      return records.some((r) => r.action === 'LeaseRevoked') ? records : undefined;
    });
    expect(trail.find((r) => r.action === 'LeaseRevoked')?.reason).toBe('CredentialReplaced');
    expect(previous.sinkErrors).toEqual([]);
  }, 90_000);

  it('never names a lease id or token accessor in a log, Event, status or audit record', async () => {
    expect(handles.length).toBe(4);
    await expectNoHandleInOperatorOutput(handles);
  });
});
