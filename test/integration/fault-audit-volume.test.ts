// A full or read-only audit volume (issue 14, item 8), on a real filesystem: a loop-mounted ext4 volume of
// 512 KiB that the test fills up and frees again, or turns read-only with a filesystem error. While the signed audit file cannot take records, the operator hands out no
// Secret (fail closed), says AuditUnavailable in the reference's status and fails its readiness, and still
// takes access away (a finished Job's Secret goes). Once space returns it grants again by itself, without a
// restart, and the audit file holds every record exactly once, in a chain that verifies.
//
// Bounds checked: a revocation during the outage happens within the same bound as without it (the default
// 30 s of `eventually`); grants resume within 30 s of space returning (a probe a second at most, and a
// waiting reference's retry is capped at 30 s). A volume that turns read-only while it still has room (and
// still looks writable) is found before the next grant made more than a second after the last write that
// reached it: that grant, and every later one, is refused.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { runLayout } from '../env/evidence/end-of-run.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { deleteNamespace, environment, eventually, readSecretIfPresent } from '../support/cluster.ts';
import {
  auditFileRecords,
  createJob as createScenesJob,
  createReference as createScenesReference,
  endJob,
  expectChainIntact,
  readyOf,
} from '../support/fault-scenes.ts';
import { installCrds, startTestOperator, type TestOperator } from '../support/operator.ts';
import { seedAwsSecret } from '../support/stores.ts';
import { canMountVolumes, mountTinyVolume, type TinyVolume } from '../support/tiny-volume.ts';

const mountable = await canMountVolumes();

/** One operator in a namespace of its own, writing its audit file to a tiny volume of its own. */
interface Scene {
  namespace: string;
  volume: TinyVolume;
  operator: TestOperator;
}

/**
 * Target names long enough that every record about them is over 1 KiB, so on a volume of 1 KiB blocks no record
 * fits in the slack of the audit file's last block once the volume is full.
 */
const longTarget = (name: string) => [name, ...Array.from({ length: 4 }, () => 'x'.repeat(60))].join('.');

const scenes: Scene[] = [];

beforeAll(async () => {
  if (mountable) await installCrds();
});

afterAll(async () => {
  for (const scene of scenes) await endScene(scene);
});

async function startScene(name: string): Promise<Scene> {
  const namespace = await createAwsTenant(name);
  const volume = await mountTinyVolume(environment().runDir, `${name}-${namespace}`);
  const operator = startTestOperator({ namespaces: [namespace], identity: name, auditDir: volume.dir });
  const scene = { namespace, volume, operator };
  scenes.push(scene);
  return scene;
}

async function endScene({ namespace, volume, operator }: Scene): Promise<void> {
  try {
    await operator.stop();
    // Kept with the run's other audit files, so the end-of-run check verifies this chain too.
    const keptDir = path.join(environment().runDir, runLayout.audit);
    const kept = path.join(keptDir, path.basename(operator.auditFile));
    await mkdir(keptDir, { recursive: true });
    for (const suffix of ['', '.pub.pem', '.anchor.json']) {
      await copyFile(`${operator.auditFile}${suffix}`, `${kept}${suffix}`).catch(() => undefined);
    }
  } finally {
    await volume.remove();
    await deleteNamespace(namespace);
  }
}

const createReference = (namespace: string, name: string, target: string, remote: string) =>
  createScenesReference(namespace, name, {
    store: 'aws',
    remote,
    property: 'password',
    target: { name: target },
  });

const createJob = (namespace: string, name: string, secretName: string) =>
  createScenesJob(namespace, name, secretName, { runTime: '10m' });

const fileRecords = (operator: TestOperator) => auditFileRecords(operator.auditFile);

const recordsAbout = (records: AuditRecord[], reference: string) =>
  records.filter((record) => record.reference.name === reference).map((r) => [r.action, r.job?.name]);

async function auditAvailableMetric(operator: TestOperator): Promise<number | undefined> {
  return (await operator.metrics.auditAvailable.get()).values[0]?.value;
}

describe.skipIf(!mountable)('a full or read-only audit volume (needs root to mount a loop device)', () => {
  it('refuses new Secrets while the audit file cannot take records, keeps revoking, and recovers', async () => {
    const { namespace, volume, operator } = await startScene('audit-volume');
    const earlyTarget = longTarget('early');
    const lateTarget = longTarget('late');
    await seedAwsSecret(`${namespace}/early`, { password: 'early-password' });
    await seedAwsSecret(`${namespace}/late`, { password: 'late-password' });
    await createReference(namespace, 'early', earlyTarget, `${namespace}/early`);
    await createJob(namespace, 'early-job', earlyTarget);
    await eventually('the early Secret', () => readSecretIfPresent(namespace, earlyTarget));
    await eventually('its grant in the audit file', async () =>
      recordsAbout(await fileRecords(operator), 'early').length === 1 ? true : undefined,
    );

    await volume.fill();
    // A Job that starts now gets nothing: no Secret, and status and readiness say why.
    await createReference(namespace, 'late', lateTarget, `${namespace}/late`);
    await createJob(namespace, 'late-job', lateTarget);
    await eventually('AuditUnavailable in status', async () =>
      (await readyOf(namespace, 'late'))?.reason === 'AuditUnavailable' ? true : undefined,
    );
    expect(await readyOf(namespace, 'late')).toMatchObject({ status: 'False' });
    expect(await readSecretIfPresent(namespace, lateTarget)).toBeUndefined();
    expect(operator.ready()).toBe(false);
    expect(await auditAvailableMetric(operator)).toBe(0);

    // Taking access away does not wait for the audit file.
    await endJob(namespace, 'early-job');
    await eventually('the early Secret to be revoked while the volume is full', async () =>
      (await readSecretIfPresent(namespace, earlyTarget)) ? undefined : true,
    );
    expect(await readSecretIfPresent(namespace, lateTarget)).toBeUndefined();
    expect(recordsAbout(await fileRecords(operator), 'late')).toEqual([]);

    await volume.free();
    await eventually('the late Secret once space returns', () => readSecretIfPresent(namespace, lateTarget));
    await eventually('the late reference Ready', async () =>
      (await readyOf(namespace, 'late'))?.status === 'True' ? true : undefined,
    );
    await eventually('the owed revocation to be recorded', async () =>
      recordsAbout(await fileRecords(operator), 'early').length === 2 ? true : undefined,
    );
    expect(operator.ready()).toBe(true);
    expect(await auditAvailableMetric(operator)).toBe(1);

    // Every record once: the grant and the revocation of the early Job, the grant of the late one.
    const records = await fileRecords(operator);
    expect(recordsAbout(records, 'early')).toEqual([
      ['Materialized', 'early-job'],
      ['Revoked', 'early-job'],
    ]);
    expect(recordsAbout(records, 'late')).toEqual([['Materialized', 'late-job']]);
    await expectChainIntact(operator);
    expect(operator.sinkErrors).toEqual([]);
  });

  it('refuses the first grant after the volume turns read-only with room left, and keeps what it served', async () => {
    const { namespace, volume, operator } = await startScene('audit-readonly');
    await seedAwsSecret(`${namespace}/served`, { password: 'served-password' });
    await seedAwsSecret(`${namespace}/after`, { password: 'after-password' });
    await createReference(namespace, 'served', 'served', `${namespace}/served`);
    await createJob(namespace, 'served-job', 'served');
    await eventually('the served Secret', () => readSecretIfPresent(namespace, 'served'));
    await eventually('its grant in the audit file', async () =>
      recordsAbout(await fileRecords(operator), 'served').length === 1 ? true : undefined,
    );

    // A disk error with errors=remount-ro: the volume stops taking writes, yet statfs still reports room and
    // access(2) still says writable. The proof of writability is at most a second old at any grant: after a
    // second, no earlier write vouches for the volume any more.
    await volume.turnReadOnly();
    await sleep(1_100);
    await createReference(namespace, 'after', 'after', `${namespace}/after`);
    await createJob(namespace, 'after-job', 'after');
    await eventually('AuditUnavailable in status', async () =>
      (await readyOf(namespace, 'after'))?.reason === 'AuditUnavailable' ? true : undefined,
    );
    expect(await readSecretIfPresent(namespace, 'after')).toBeUndefined();
    expect(operator.ready()).toBe(false);
    expect(await auditAvailableMetric(operator)).toBe(0);
    // What was served stays: the entitled Job keeps its Secret.
    expect(await readSecretIfPresent(namespace, 'served')).toBeDefined();

    // Nothing was handed out past the last record the file holds, and that file still verifies.
    const records = await fileRecords(operator);
    expect(recordsAbout(records, 'after')).toEqual([]);
    expect(recordsAbout(records, 'served')).toEqual([['Materialized', 'served-job']]);
    await expectChainIntact(operator);
  });
});
