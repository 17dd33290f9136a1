// In PerJob mode each Job's own Secret is checked against the store once per refreshInterval, counted from its
// last check. A visit that comes a little before that (asked for by an earlier visit, a whole interval after it)
// finds the Secret not yet due; it must come back when it falls due, not a whole interval later, or a rotated
// value would reach the Job up to two intervals late.

import { describe, expect, it } from 'vitest';
import { jobSecret, perJobHarness } from '../../test/support/per-job-cluster.ts';

const interval = 5 * 60_000;

describe("a Job's own Secret in PerJob mode", () => {
  it('is looked at again when its check falls due, after a visit that found it not yet due', async () => {
    const { cluster, reconcile, effects } = perJobHarness();
    cluster.cached.add(jobSecret);
    const start = cluster.now;
    await reconcile();
    expect(effects).toEqual(['live read warehouse', 'store read', `create ${jobSecret}`]);

    cluster.now = start + interval - 1_000;
    const early = await reconcile();
    expect(effects).toEqual([]);
    expect(early.requeueAfterMs).toBe(1_000);

    cluster.now = start + interval;
    const due = await reconcile();
    expect(effects).toEqual(['store versions']);
    expect(due.requeueAfterMs).toBe(interval);
  });
});
