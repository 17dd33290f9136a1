// In-process figures for the reference index, no environment needed (`node bench/reference-index.ts`):
// 10,000 SecretReferences in one namespace, each with its managed Secret, and 1,000 active Jobs mounting three
// targets each, fed through the controller's caches and event routing as a restart's initial lists would be;
// then the cache reads of 10,000 reconciles (a restart), made through the index, against the namespace scans
// they replace, timed on a sample and scaled up (the scans are quadratic over a whole restart).
import { performance } from 'node:perf_hooks';
import type { V1Job } from '@kubernetes/client-node';
import pino from 'pino';
import { labels } from '../src/api/constants.ts';
import type { SecretReference } from '../src/api/types.ts';
import { ControllerCaches, routeEvents } from '../src/controller/controller.ts';
import { secretNamesUsedByPod } from '../src/controller/pod-index.ts';
import { targetNameOf } from '../src/controller/reference-facts.ts';
import { guardedNames } from '../src/controller/tracked-secrets.ts';
import type { WorkQueue } from '../src/runtime/workqueue.ts';
import { cacheInformers } from '../test/support/cache-informer.ts';

const references = Number(process.env.BENCH_REFERENCES ?? 10_000);
const jobs = Number(process.env.BENCH_JOBS ?? 1_000);
const scanSample = 200;
const namespace = 'bench';

const referenceAt = (i: number): SecretReference =>
  ({
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: { namespace, name: `ref-${i}`, uid: `uid-${i}`, creationTimestamp: new Date(i * 1000) },
    spec: { storeRef: { name: 'vault' }, target: { name: `secret-${i}` }, consumers: {} },
    status: { managedSecret: { name: `secret-${i}`, uid: `uid-secret-${i}` } },
  }) as unknown as SecretReference;

const jobAt = (j: number): V1Job => ({
  metadata: { namespace, name: `job-${j}`, uid: `uid-job-${j}` },
  spec: {
    template: {
      spec: {
        containers: [
          {
            name: 'main',
            envFrom: [0, 1, 2].map((k) => ({ secretRef: { name: `secret-${(j * 7 + k) % references}` } })),
          },
        ],
      },
    },
  },
  status: { active: 1, startTime: new Date() },
});

const { informers, asControllerInformers } = cacheInformers();
const caches = new ControllerCaches(asControllerInformers);
const queued = new Set<string>();
routeEvents(
  caches,
  { add: (key: string) => queued.add(key) } as unknown as WorkQueue,
  pino({ level: 'silent' }),
);
const view = caches.view();

const time = (run: () => void) => {
  const start = performance.now();
  run();
  return performance.now() - start;
};

const feedMs = time(() => {
  for (let j = 0; j < jobs; j++) informers.jobs.put(jobAt(j));
  for (let i = 0; i < references; i++) informers.secretReferences.put(referenceAt(i));
  for (let i = 0; i < references; i++) {
    informers.managedSecrets.put({
      metadata: { namespace, name: `secret-${i}`, labels: { [labels.reference]: `ref-${i}` } },
    });
  }
});

// What a reconcile reads about other references and its Secrets, as the reconciler reads it.
let found = 0;
const reconcileReads = (reference: SecretReference) => {
  const target = targetNameOf(reference);
  const consumers = view.jobsReferencing(namespace, target);
  found += view.referencesTargeting(namespace, target).length;
  const names = new Set<string>();
  for (const job of consumers)
    for (const name of secretNamesUsedByPod(job.spec?.template?.spec)) names.add(name);
  for (const name of names) found += view.referencesGuarding(namespace, name).length;
  found += view.managedSecretsOf(namespace, reference.metadata.name!).length;
};
// The same reads as the namespace scans made them before the index (twice the references, once the Secrets).
const scanReads = (reference: SecretReference) => {
  const target = targetNameOf(reference);
  found += informers.secretReferences
    .list(namespace)
    .filter((other) => targetNameOf(other) === target).length;
  found += informers.secretReferences
    .list(namespace)
    .map((other) => guardedNames(other.status ?? {}))
    .filter((guarded) => guarded.length > 0).length;
  found += informers.managedSecrets
    .list(namespace)
    .filter((secret) => secret.metadata?.labels?.[labels.reference] === reference.metadata.name).length;
};

const all = informers.secretReferences.list(namespace);
const indexedMs = time(() => {
  for (const reference of all) reconcileReads(reference);
});
const sample = all.slice(0, scanSample);
const scanSampleMs = time(() => {
  for (const reference of sample) scanReads(reference);
});

const ms = (value: number) => `${value.toFixed(0)} ms`;
console.log(`${references} references, ${jobs} active Jobs, one namespace`);
console.log(
  `feeding the initial lists through the indexes and event routing: ${ms(feedMs)} (${queued.size} keys queued)`,
);
console.log(`cache reads of ${references} reconciles through the index: ${ms(indexedMs)}`);
console.log(
  `the same reads as namespace scans: ${ms(scanSampleMs)} for ${scanSample} reconciles, ` +
    `about ${ms((scanSampleMs * references) / scanSample)} for ${references}`,
);
console.log(`(${found} objects found)`);
