// Dynamic credentials per Job (isolation: PerJob) against the real Vault database engine and PostgreSQL, with
// the shipped admission policies and the per-Job component installed and the operator under its own identity:
// each Job gets a login of its own, valid past the role's 20-second default TTL while the Job is entitled,
// and refused by PostgreSQL the moment that Job ends, passes its ttl or loses its reference, while the other
// Jobs' logins go on working.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { scanForCanary } from '../env/evidence/scan.ts';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig } from '../env/operator-identity.ts';
import { api, deleteNamespace, environment, eventually, readSecretIfPresent } from '../support/cluster.ts';
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
  type TestOperator,
} from '../support/operator.ts';
import { awaitPodRewrite, installPerJobAdmission } from '../support/per-job-admission.ts';

const reference = 'warehouse';
/** Lease ids and token accessors seen on Secrets: none may appear in a log, Event, status or audit record. */
const handles: string[] = [];

let namespace: string;
let operator: TestOperator;
let removeAdmission: (() => Promise<void>) | undefined;

beforeAll(async () => {
  await installCrds();
  removeAdmission = await installPerJobAdmission();
  // ttl 2m: well past the role's 20s default TTL, and long enough that one Job ends before the other's ttl.
  namespace = await createDynamicTenant('dynamic-per-job', { isolation: 'PerJob', ttl: '2m' });
  await installOperatorRbac(environment());
  await api(k8s.CoordinationV1Api)
    .deleteNamespacedLease({ namespace: operatorNamespace, name: 'secretlink-operator' })
    .catch(() => undefined);
  operator = startTestOperator({
    namespaces: [namespace],
    identity: 'dynamic-per-job-operator',
    leaseName: 'secretlink-operator',
    kubeConfig: await operatorKubeConfig(environment()),
  });
  await awaitPodRewrite(namespace, reference, { app: 'elt' });
});

afterAll(async () => {
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  if (namespace) await deleteNamespace(namespace);
  await removeAdmission?.();
});

/** The credential in a Job's own Secret, once written; its lease handle is remembered for the leak scans. */
async function credentialOf(job: k8s.V1Job): Promise<Login> {
  const name = `${reference}-${job.metadata!.uid}`;
  const secret = await eventually(`Secret ${name} with the Job's credential`, async () => {
    const found = await readSecretIfPresent(namespace, name);
    return found?.data?.username ? found : undefined;
  });
  return loginOf(secret, handles);
}

const refused = (what: string, login: Login, timeoutMs: number) =>
  eventually(what, async () => ((await logsIn(login)) ? undefined : true), { timeoutMs, intervalMs: 1000 });

/** The lease records of one Job, once its revocation is recorded (the refusal can come first). */
function revokedTrail(job: k8s.V1Job): Promise<[string, string][]> {
  return eventually(`the revocation of Job ${job.metadata!.name}'s lease to be recorded`, async () => {
    const trail = leaseTrail(job);
    return trail.some(([action]) => action === 'LeaseRevoked') ? trail : undefined;
  });
}

/** The lease records of one Job, in order: [action, reason]. */
function leaseTrail(job: k8s.V1Job): [string, string][] {
  return operator.audit
    .filter((record) => record.action.startsWith('Lease') && record.job?.uid === job.metadata!.uid)
    .map((record) => [record.action, record.reason]);
}

function fingerprintsOf(job: k8s.V1Job): Set<string | undefined> {
  return new Set(
    operator.audit
      .filter((record: AuditRecord) => record.lease && record.job?.uid === job.metadata!.uid)
      .map((record) => record.lease?.fingerprint),
  );
}

describe('dynamic credentials with per-Job Secrets', () => {
  let jobB: k8s.V1Job;

  it("give each Job its own login, end one Job's at its completion and the other's at its ttl", async () => {
    const jobA = await startEltJob(namespace, 'load-a', '35s');
    jobB = await startEltJob(namespace, 'load-b', '10m');
    const [loginA, loginB] = [await credentialOf(jobA), await credentialOf(jobB)];
    expect(loginA.username).not.toBe(loginB.username);
    expect(loginA.password).not.toBe(loginB.password);
    // The Job controller's pods were rewritten to their own Job's Secret.
    const podA = await eventually('a pod of Job load-a', async () => {
      const pods = await api(k8s.CoreV1Api).listNamespacedPod({
        namespace,
        labelSelector: 'job-name=load-a',
      });
      return pods.items[0];
    });
    expect(podA.spec?.containers[0]?.envFrom?.[0]?.secretRef?.name).toBe(
      `${reference}-${jobA.metadata!.uid}`,
    );

    expect(await logsIn(loginA)).toBe(true);
    expect(await logsIn(loginB)).toBe(true);
    const sessionA = openSession(loginA);
    // Past the role's 20s default TTL: each lease was renewed to its own Job's bound, so both still log in.
    await new Promise((resolve) => setTimeout(resolve, 21_000));
    expect(await logsIn(loginA)).toBe(true);
    expect(await logsIn(loginB)).toBe(true);

    // A completes: its login is refused by PostgreSQL and its open session ended; B's goes on.
    await eventually(
      "Job load-a's Secret to be revoked once it completes",
      async () =>
        (await readSecretIfPresent(namespace, `${reference}-${jobA.metadata!.uid}`)) ? undefined : true,
      { timeoutMs: 60_000 },
    );
    expect(await logsIn(loginA)).toBe(false);
    expect(await sessionA.ended).not.toBe(0);
    expect(await logsIn(loginB)).toBe(true);
    expect(leaseTrail(jobB)).toEqual([
      ['LeaseIssued', 'DynamicCredentialIssued'],
      ['LeaseRenewed', 'RenewedToBound'],
    ]);

    // B runs for ten minutes; its login ends at its two-minute ttl (PostgreSQL's VALID UNTIL is that bound,
    // and the operator revokes the lease then).
    await refused('the login of Job load-b to be refused after its ttl', loginB, 150_000);
    const running = await api(k8s.BatchV1Api).readNamespacedJob({ namespace, name: 'load-b' });
    expect(running.status?.active).toBe(1);

    expect(await revokedTrail(jobA)).toEqual([
      ['LeaseIssued', 'DynamicCredentialIssued'],
      ['LeaseRenewed', 'RenewedToBound'],
      ['LeaseRevoked', 'AccessEnded'],
    ]);
    expect(await revokedTrail(jobB)).toEqual([
      ['LeaseIssued', 'DynamicCredentialIssued'],
      ['LeaseRenewed', 'RenewedToBound'],
      ['LeaseRevoked', 'TtlPassed'],
    ]);
    // One lease per Job, told apart by fingerprint, and each Secret's end of access recorded for its Job.
    const [a, b] = [fingerprintsOf(jobA), fingerprintsOf(jobB)];
    expect([a.size, b.size]).toEqual([1, 1]);
    expect([...a][0]).not.toBe([...b][0]);
    const ends = await eventually("the end of both Jobs' access to be recorded", async () => {
      const found = operator.audit.filter((r) => r.action === 'Revoked' || r.action === 'Expired');
      return found.length >= 2 ? found : undefined;
    });
    expect(ends.map((r) => [r.action, r.job?.name]).sort()).toEqual([
      ['Expired', 'load-b'],
      ['Revoked', 'load-a'],
    ]);
  }, 300_000);

  it('revoke a login when its Job is deleted, whether or not garbage collection took its Secret first', async () => {
    const jobD = await startEltJob(namespace, 'load-d', '10m');
    const loginD = await credentialOf(jobD);
    expect(await logsIn(loginD)).toBe(true);
    await api(k8s.BatchV1Api).deleteNamespacedJob({
      namespace,
      name: 'load-d',
      propagationPolicy: 'Background',
    });
    await refused('the login of Job load-d to be refused once the Job is deleted', loginD, 30_000);
    const [action, reason] = (await revokedTrail(jobD)).at(-1) ?? [];
    expect(action).toBe('LeaseRevoked');
    // Revoked by the delete that ended its access, or from memory once garbage collection took the Secret.
    expect(['AccessEnded', 'SecretDeleted']).toContain(reason);
  });

  it("revoke a running Job's login when the reference is deleted", async () => {
    const jobC = await startEltJob(namespace, 'load-c', '10m');
    const loginC = await credentialOf(jobC);
    expect(await logsIn(loginC)).toBe(true);
    await customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace, name: reference });
    await refused('the login of Job load-c to be refused once its reference is deleted', loginC, 30_000);
    expect((await revokedTrail(jobC)).at(-1)).toEqual(['LeaseRevoked', 'ReferenceDeleted']);
    // Job load-b's Secret went at its ttl; nothing of it was revoked twice.
    expect(leaseTrail(jobB).filter(([action]) => action === 'LeaseRevoked')).toHaveLength(1);
  });

  it('never name a lease id or token accessor in a log, Event, status or audit record', async () => {
    expect(handles.length).toBe(8);
    await expectNoHandleInOperatorOutput(handles);
  });
});
