// The Secret cache can lag the operator's own writes (after an API server restart its watch resumes late), in
// PerJob mode as in Shared mode: a Job's own Secret created moments ago may be missing from it at the next
// reconcile. Status lists the Job as consuming only while its own Secret exists, so a consuming Job whose Secret
// the cache lacks has it read live: no second create (nor store read), no status that drops the Job, and once
// the Job ends one delete of that very Secret and one end of access recorded, with its uid.

import { describe, expect, it } from 'vitest';
import { job } from '../../test/support/held-secret-cluster.ts';
import { perJobHarness as harness, jobSecret } from '../../test/support/per-job-cluster.ts';
import type { ReferenceStatus } from './status.ts';

const ready = (status: ReferenceStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready');

describe("in PerJob mode, a Job's own Secret that status records and the cache has not seen yet", () => {
  it('is read live, not created again, and the Job stays consuming in status', async () => {
    const { cluster, reconcile, effects, records, statuses } = harness();
    await reconcile();
    expect(effects).toEqual(['live read warehouse', 'store read', `create ${jobSecret}`]);
    expect(statuses.at(-1)?.consumingJobs?.map((j) => j.name)).toEqual(['dbt']);
    const written = statuses.length;

    // The cache has not seen the create; the next reconcile (the status write wakes it) must not redo it.
    await reconcile();
    expect(effects).toEqual([`live read ${jobSecret}`]);
    expect(statuses.length).toBe(written);
    expect(cluster.status.consumingJobs?.map((j) => j.name)).toEqual(['dbt']);
    expect(ready(cluster.status)).toMatchObject({ status: 'True', reason: 'Materialized' });
    expect(records.map((r) => [r.action, r.job?.name])).toEqual([['Materialized', 'dbt']]);

    // Once the cache holds it, nothing is read live any more.
    cluster.cached.add(jobSecret);
    await reconcile();
    expect(effects).toEqual([]);
  });

  it('is read live and revoked when its Job ended: one delete of that Secret, one end record, no Conflict', async () => {
    const { cluster, reconcile, effects, records, statuses } = harness();
    await reconcile();
    const uid = cluster.secrets.get(jobSecret)?.metadata?.uid;
    cluster.job = job(true);

    await reconcile();
    expect(effects).toEqual([`live read ${jobSecret}`, `delete ${jobSecret} ${uid}`]);
    expect(cluster.secrets.size).toBe(0);
    expect(records.map((r) => [r.action, r.job?.name, r.targetSecret.uid])).toEqual([
      ['Materialized', 'dbt', uid],
      ['Revoked', 'dbt', uid],
    ]);
    expect(cluster.status.consumingJobs ?? []).toEqual([]);

    // The cache catches up (the Secret is gone from it too): nothing more to do, nothing more to say.
    await reconcile();
    expect(effects).toEqual([]);
    expect(records).toHaveLength(2);
    expect(statuses.map((s) => ready(s)?.reason)).not.toContain('Conflict');
  });

  it('is taken for gone, after one live read, when the API server has none either', async () => {
    const { cluster, reconcile, effects, records } = harness();
    await reconcile();
    // Garbage collection, say, removed it before the cache saw it; the Job ended meanwhile.
    cluster.secrets.clear();
    cluster.job = job(true);
    await reconcile();
    expect(effects).toEqual([`live read ${jobSecret}`]);
    expect(records.map((r) => [r.action, r.job?.name])).toEqual([
      ['Materialized', 'dbt'],
      ['Revoked', 'dbt'],
    ]);
    expect(cluster.status.consumingJobs ?? []).toEqual([]);
  });
});
