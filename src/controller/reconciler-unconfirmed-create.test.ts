// A create the operator made but never saw confirmed (it stopped before the status write that records the uid)
// is known as the reference's own on the next reconcile by its keyed mark, and only by a mark made against the
// status as it stands: a Secret with the right labels and a copied or stale mark stays a Conflict.

import type { V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  heldSecret,
  holding,
  job,
  now,
  reference,
  store,
  target,
} from '../../test/support/held-secret-cluster.ts';
import { noLeases } from '../../test/support/no-leases.ts';
import { claimMarker } from '../audit/fingerprint.ts';
import type { ClusterView, ClusterWriter } from './ports.ts';
import { Reconciler } from './reconciler.ts';
import type { ReferenceStatus } from './status.ts';

const mark = claimMarker(Buffer.alloc(32, 7));

/** Status after the claim, before the create was confirmed: the target's name, no uid. */
const claimed: ReferenceStatus = {
  ...holding,
  managedSecret: { name: target },
};

/** The Secret the create made: the reference's labels, its grant and `claim` as its mark. */
function created(claim: string | undefined): V1Secret {
  const secret = heldSecret(reference(claimed));
  secret.metadata!.uid = 'uid-made';
  if (claim) secret.metadata!.annotations!['secretlink.dev/claim'] = claim;
  return secret;
}

async function reconcileWith(secret: V1Secret) {
  const statuses: ReferenceStatus[] = [];
  const effects: string[] = [];
  const view: ClusterView = {
    reference: () => reference(claimed),
    referencesTargeting: () => [reference(claimed)],
    referencesGuarding: () => [reference(claimed)],
    store: () => store,
    namespaceLabels: () => ({}),
    managedSecret: () => secret,
    managedSecretsOf: () => [secret],
    jobsReferencing: () => [job(false)],
    podsReferencing: () => [],
  };
  const refuse = (name: string) => async () => {
    effects.push(name);
    throw new Error(`${name} not expected`);
  };
  const writer: ClusterWriter = {
    readSecret: async () => secret,
    readJob: async () => undefined,
    createSecret: refuse('create'),
    replaceSecret: refuse('replace'),
    setSecretOwners: refuse('owners'),
    deleteSecret: refuse('delete'),
    addFinalizer: async () => {},
    removeFinalizer: async () => {},
    writeStatus: async (_, status) => {
      statuses.push(status);
      return `${20 + statuses.length}`;
    },
  };
  const reconciler = new Reconciler({
    view,
    writer,
    values: {
      ...noLeases,
      read: refuse('read') as never,
      versions: refuse('versions') as never,
    },
    audit: { name: 'memory', write: async () => {} },
    claimMark: mark,
    fingerprint: () => 'hmac-sha256:11',
    clock: { now: () => now, setTimer: () => ({ cancel() {} }) },
    logger: pino({ level: 'silent' }),
    refreshJitter: 0,
  });
  const result = await reconciler.reconcile('etl/warehouse', new AbortController().signal);
  return { result, statuses, effects };
}

describe('a create the operator never saw confirmed', () => {
  it("is recorded in status as the reference's own when its mark matches the status it was decided against", async () => {
    // The reference as cached has resourceVersion 10: the status write of the claim.
    const { result, statuses, effects } = await reconcileWith(created(mark(['uid-warehouse', target, '10'])));
    expect(effects).toEqual([]);
    expect(statuses.at(-1)?.managedSecret).toEqual({ name: target, uid: 'uid-made' });
    expect(result.requeueAfterMs).toBe(0);
  });

  it('stays a Conflict with no mark, or a mark made against another status', async () => {
    for (const claim of [
      undefined,
      mark(['uid-warehouse', target, '9']),
      mark(['uid-other', target, '10']),
    ]) {
      const { statuses, effects } = await reconcileWith(created(claim));
      expect(effects).toEqual([]);
      expect(statuses.every((status) => status.managedSecret?.uid !== 'uid-made')).toBe(true);
      expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        reason: 'Conflict',
      });
    }
  });
});
