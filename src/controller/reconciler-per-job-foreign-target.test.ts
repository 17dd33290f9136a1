// In PerJob mode, as in Shared mode, the target name is claimed only once a live read shows it free: the cache
// holds only managed Secrets, so someone's ordinary Secret under that name is found only by reading it. A claim
// made over it would have the pod policy guard that Secret against its own users' pods, and the per-Job mutating
// policy rewrite Job pods away from it; a consuming Job already running at the first reconcile must not skip it.

import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { jobSecret, perJobHarness } from '../../test/support/per-job-cluster.ts';

const handmade: V1Secret = {
  metadata: { name: 'warehouse', namespace: 'etl', uid: 'uid-handmade', resourceVersion: '3' },
  data: {},
};

describe('a PerJob reference whose target name holds a Secret it did not create', () => {
  it('is a Conflict even when a consuming Job runs at its first reconcile: no claim, no Secret for the Job', async () => {
    const { cluster, reconcile, effects, records } = perJobHarness();
    cluster.secrets.set('warehouse', handmade);

    await reconcile();
    expect(effects).toEqual(['live read warehouse']);
    expect(cluster.secrets.has(jobSecret)).toBe(false);
    expect(cluster.status.managedSecret).toBeUndefined();
    expect(cluster.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Conflict',
    });
    expect(records.map((r) => r.action)).toEqual(['Refused']);

    // Nor on the next visit, which must not take the name for free because status holds no claim.
    await reconcile();
    expect(effects).toEqual(['live read warehouse']);
    expect(cluster.secrets.has(jobSecret)).toBe(false);
    expect(cluster.status.managedSecret).toBeUndefined();
  });
});
