// A full audit volume (issue 14, item 8), on a real filesystem: a loop-mounted ext4 volume of 512 KiB that the
// test fills up and frees again. While the signed audit file cannot take records, the operator hands out no
// Secret (fail closed), says AuditUnavailable in the reference's status and fails its readiness, and still
// takes access away (a finished Job's Secret goes). Once space returns it grants again by itself, without a
// restart, and the audit file holds every record exactly once, in a chain that verifies.
//
// Bounds checked: a revocation during the outage happens within the same bound as without it (the default
// 30 s of `eventually`); grants resume within 30 s of space returning (a probe a second at most, and a
// waiting reference's retry is capped at 30 s).
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { verifyAuditFile } from '../../src/audit/verify.ts';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, environment, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret } from '../support/stores.ts';
import { canMountVolumes, mountTinyVolume, type TinyVolume } from '../support/tiny-volume.ts';

const mountable = await canMountVolumes();
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

let namespace: string;
let volume: TinyVolume | undefined;
let operator: TestOperator | undefined;

/**
 * Target names long enough that every record about them is over 1 KiB, so on a volume of 1 KiB blocks no record
 * fits in the slack of the audit file's last block once the volume is full.
 */
const longTarget = (name: string) => [name, ...Array.from({ length: 4 }, () => 'x'.repeat(60))].join('.');

beforeAll(async () => {
  if (!mountable) return;
  await installCrds();
  namespace = await createAwsTenant('audit-volume');
  volume = await mountTinyVolume(environment().runDir, `audit-volume-${namespace}`);
  operator = startTestOperator({ namespaces: [namespace], identity: 'audit-volume', auditDir: volume.dir });
});

afterAll(async () => {
  try {
    await operator?.stop();
    if (operator && volume) {
      // Kept with the run's other audit files, so the end-of-run check verifies this chain too.
      const kept = path.join(environment().runDir, runLayout.audit, path.basename(operator.auditFile));
      for (const suffix of ['', '.pub.pem', '.anchor.json']) {
        await copyFile(`${operator.auditFile}${suffix}`, `${kept}${suffix}`).catch(() => undefined);
      }
    }
    expect(operator?.sinkErrors ?? []).toEqual([]);
  } finally {
    await volume?.remove();
    if (namespace) await deleteNamespace(namespace);
  }
});

async function createReference(name: string, target: string, remote: string): Promise<void> {
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name },
      spec: {
        storeRef: { name: 'aws' },
        target: { name: target },
        data: [{ key: 'password', remote: { name: remote, property: 'password' } }],
        consumers: { matchLabels: { app: 'dbt' } },
      },
    },
  });
}

async function createJob(name: string, secretName: string): Promise<void> {
  await api(k8s.BatchV1Api).createNamespacedJob({
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

/** Ends a running Job now: a deadline of one second makes the Job controller fail it. */
async function endJob(name: string): Promise<void> {
  await api(k8s.BatchV1Api).patchNamespacedJob(
    { namespace, name, body: { spec: { activeDeadlineSeconds: 1 } } },
    mergePatch,
  );
}

async function readyOf(name: string): Promise<{ status?: string; reason?: string } | undefined> {
  const reference = (await customApi().getNamespacedCustomObject({ ...referenceApi, namespace, name })) as {
    status?: { conditions?: { type: string; status: string; reason: string }[] };
  };
  return reference.status?.conditions?.find((condition) => condition.type === 'Ready');
}

async function fileRecords(): Promise<AuditRecord[]> {
  const lines = (await readFile(operator!.auditFile, 'utf8')).split('\n').filter(Boolean);
  return lines.map((line) => JSON.parse(line) as AuditRecord).filter((entry) => 'action' in entry);
}

const recordsAbout = (records: AuditRecord[], reference: string) =>
  records.filter((record) => record.reference.name === reference).map((r) => [r.action, r.job?.name]);

async function auditAvailableMetric(): Promise<number | undefined> {
  return (await operator!.metrics.auditAvailable.get()).values[0]?.value;
}

describe.skipIf(!mountable)('a full audit volume (needs root to mount a loop device)', () => {
  it('refuses new Secrets while the audit file cannot take records, keeps revoking, and recovers', async () => {
    const earlyTarget = longTarget('early');
    const lateTarget = longTarget('late');
    await seedAwsSecret(`${namespace}/early`, { password: 'early-password' });
    await seedAwsSecret(`${namespace}/late`, { password: 'late-password' });
    await createReference('early', earlyTarget, `${namespace}/early`);
    await createJob('early-job', earlyTarget);
    await eventually('the early Secret', () => readSecretIfPresent(namespace, earlyTarget));
    await eventually('its grant in the audit file', async () =>
      recordsAbout(await fileRecords(), 'early').length === 1 ? true : undefined,
    );

    await volume!.fill();
    // A Job that starts now gets nothing: no Secret, and status and readiness say why.
    await createReference('late', lateTarget, `${namespace}/late`);
    await createJob('late-job', lateTarget);
    await eventually('AuditUnavailable in status', async () =>
      (await readyOf('late'))?.reason === 'AuditUnavailable' ? true : undefined,
    );
    expect(await readyOf('late')).toMatchObject({ status: 'False' });
    expect(await readSecretIfPresent(namespace, lateTarget)).toBeUndefined();
    expect(operator!.ready()).toBe(false);
    expect(await auditAvailableMetric()).toBe(0);

    // Taking access away does not wait for the audit file.
    await endJob('early-job');
    await eventually('the early Secret to be revoked while the volume is full', async () =>
      (await readSecretIfPresent(namespace, earlyTarget)) ? undefined : true,
    );
    expect(await readSecretIfPresent(namespace, lateTarget)).toBeUndefined();
    expect(recordsAbout(await fileRecords(), 'late')).toEqual([]);

    await volume!.free();
    await eventually('the late Secret once space returns', () => readSecretIfPresent(namespace, lateTarget));
    await eventually('the late reference Ready', async () =>
      (await readyOf('late'))?.status === 'True' ? true : undefined,
    );
    await eventually('the owed revocation to be recorded', async () =>
      recordsAbout(await fileRecords(), 'early').length === 2 ? true : undefined,
    );
    expect(operator!.ready()).toBe(true);
    expect(await auditAvailableMetric()).toBe(1);

    // Every record once: the grant and the revocation of the early Job, the grant of the late one.
    const records = await fileRecords();
    expect(recordsAbout(records, 'early')).toEqual([
      ['Materialized', 'early-job'],
      ['Revoked', 'early-job'],
    ]);
    expect(recordsAbout(records, 'late')).toEqual([['Materialized', 'late-job']]);
    expect(new Set(records.map((record) => record.id)).size).toBe(records.length);
    const verified = await verifyAuditFile(operator!.auditFile, { publicKey: operator!.auditPublicKey });
    expect(verified).toMatchObject({ ok: true });
  });
});
