// A value leaves the operator's memory once its Secret is revoked and the value cache's lifetime has passed.
// What this can prove, honestly: a heap snapshot lists every reachable string but not the bytes of Buffers or
// typed arrays, and memory the process freed is not zeroed. So the test (1) takes a heap snapshot of the
// running operator (in-process, so the snapshot is the operator's heap), joins its concatenated strings
// back together (test/support/heap-strings.ts) and looks for the canary in every form it travels in (its
// text and its base64), and (2) keeps hold of every buffer the operator put the
// value in that a test can reach — what the store clients cached and what they handed out — and checks
// that those bytes were zeroed. The canary itself is held by the test only as bytes, never as a string.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretPayload } from '../../src/providers/backend.ts';
import { ResolvingClient } from '../../src/providers/resolving-client.ts';
import { defaultTuning } from '../../src/providers/types.ts';
import { ValueCache } from '../../src/providers/value-cache.ts';
import { allowedStores, awsStoreSpec } from '../env/stores/store-specs.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  eventually,
  readSecretIfPresent,
} from '../support/cluster.ts';
import { heapStrings } from '../support/heap-strings.ts';
import {
  customApi,
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import { seedAwsSecret, stores, uniqueSecretName } from '../support/stores.ts';

/** Random text only this file knows, held as bytes; every form the operator may keep it in is searched for. */
const canary = Buffer.from(randomBytes(24).toString('hex'));
/** The longest the cache keeps a value (a fixed version; a moving one goes sooner), plus room for timers. */
const cacheLifetimeMs = Math.max(defaultTuning.cacheTtlMs, defaultTuning.floatingCacheTtlMs) + 1_000;

let namespace: string;
let operator: TestOperator;
/** Every buffer the operator's store clients cached or handed out, kept so the test can read their bytes. */
const reachable: Buffer[] = [];
const restore: (() => void)[] = [];

function keepBuffers(): void {
  const set = ValueCache.prototype.set;
  ValueCache.prototype.set = function (this: ValueCache<unknown>, name, version, value, ttlMs) {
    const data = (value as Partial<SecretPayload>)?.data;
    if (Buffer.isBuffer(data)) reachable.push(data);
    return set.call(this, name, version, value, ttlMs);
  };
  const resolve = ResolvingClient.prototype.resolve;
  ResolvingClient.prototype.resolve = async function (this: ResolvingClient, remote, options) {
    const resolved = await resolve.call(this, remote, options);
    reachable.push(resolved.value);
    return resolved;
  };
  restore.push(() => {
    ValueCache.prototype.set = set;
    ResolvingClient.prototype.resolve = resolve;
  });
}

beforeAll(async () => {
  keepBuffers();
  await installCrds();
  namespace = await createNamespace('memory');
  await api(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'aws-credentials', annotations: allowedStores('aws') },
      stringData: { id: 'testing', secret: 'testing' },
    },
  });
  await customApi().createNamespacedCustomObject({
    ...storeApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: 'aws' },
      spec: awsStoreSpec(stores().aws),
    },
  });
  operator = startTestOperator({ namespaces: [namespace] });
});

afterAll(async () => {
  for (const undo of restore) undo();
  await operator?.stop();
  expect(operator?.sinkErrors).toEqual([]);
  await deleteNamespace(namespace);
});

/** Whether the Secret holds the canary; only a yes or no leaves this function, so no copy stays in scope. */
async function secretHoldsCanary(name: string): Promise<true | undefined> {
  const secret = await readSecretIfPresent(namespace, name);
  const encoded = secret?.data?.token;
  return encoded !== undefined && Buffer.from(encoded, 'base64').equals(canary) ? true : undefined;
}

async function materializeAndRevoke(): Promise<void> {
  const remote = uniqueSecretName(`${namespace}/memory`);
  // Binary, so the test never turns the canary into a string of its own.
  await seedAwsSecret(remote, new Uint8Array(canary));
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'canary' },
      spec: {
        storeRef: { name: 'aws' },
        data: [{ key: 'token', remote: { name: remote } }],
        consumers: { matchLabels: { app: 'memory' } },
      },
    },
  });
  await api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name: 'uses-canary' },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'memory' }, annotations: { 'secretlink.dev/simulated-run-time': '3s' } },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'job', image: 'busybox', envFrom: [{ secretRef: { name: 'canary' } }] }],
          },
        },
      },
    },
  });
  await eventually('the canary Secret to be written', () => secretHoldsCanary('canary'));
  await eventually(
    'the canary Secret to be revoked once the Job completes',
    async () => ((await readSecretIfPresent(namespace, 'canary')) ? undefined : true),
    { timeoutMs: 45_000 },
  );
}

/**
 * Whether a string of the heap holds the canary (as text or base64), or `marker`. The canary's strings are
 * made only after the snapshot and die with this call.
 */
function heapHolds(marker?: string): { canary: boolean; marker: boolean } {
  const texts = heapStrings();
  const forms = [canary.toString('latin1'), canary.toString('base64'), canary.toString('base64url')];
  return {
    canary: texts.some((text) => forms.some((form) => text.includes(form))),
    marker: marker !== undefined && texts.some((text) => text.includes(marker)),
  };
}

describe('values in the operator memory', () => {
  it('keeps no reachable copy of a revoked value once the cache lifetime has passed: the cache expires it on time and every buffer it owned is zeroed', async () => {
    await materializeAndRevoke();
    // The operator did read the value through the clients this test watches.
    expect(reachable.length).toBeGreaterThan(0);

    await sleep(cacheLifetimeMs);

    expect(reachable.filter((buffer) => buffer.includes(canary)).length).toBe(0);
    // Built from halves at run time and kept alive below: proves the search sees a concatenated string.
    const liveMarker = `marker-${randomBytes(12).toString('hex')}`;
    expect(heapHolds(liveMarker)).toEqual({ canary: false, marker: true });
  });
});
