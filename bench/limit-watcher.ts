// The limit secretlink is measured against (bench/limit.ts): the least a controller can do to give each Job
// its Secret. It watches the Jobs of one namespace and, the moment it sees an active Job, writes the Secret
// the Job's pod template names with that Job as an owner: one server-side apply per Job, with a field manager
// of the Job's own, so concurrent applies for the same Secret merge their ownerReferences instead of
// conflicting. When the last Job it saw for a Secret finishes, it deletes the Secret. No store call, no status,
// no client-side rate limit, every request at once; the same client library as the operator.
// With --after-start it keeps secretlink's contract on when a Job consumes (invariant 1: a Job consumes once it
// started): it writes a Job's Secret only once the Job controller has recorded the Job's `status.startTime`.
// Usage: KUBECONFIG=... node bench/limit-watcher.ts --namespace=<ns> [--after-start]
//        (prints "ready" once it watches)
import * as k8s from '@kubernetes/client-node';
import { isJobActive } from '../src/controller/consumers.ts';
import { argument } from './report.ts';
import { watchFrom } from './watch-from.ts';

const namespace = argument('namespace', '');
const afterStart = process.argv.includes('--after-start');
if (!namespace) throw new Error('--namespace is required');
const kubeConfig = new k8s.KubeConfig();
kubeConfig.loadFromDefault();
const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
const apply = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);

/** Secret name → uids of the active Jobs seen for it. */
const active = new Map<string, Set<string>>();
const seen = new Set<string>();
let failures = 0;

function onJob(job: k8s.V1Job): void {
  const uid = job.metadata?.uid;
  const name = job.metadata?.name;
  if (!uid || !name) return;
  for (const secret of secretNames(job)) {
    const jobs = active.get(secret) ?? new Set<string>();
    active.set(secret, jobs);
    const consuming = isJobActive(job) && (!afterStart || job.status?.startTime !== undefined);
    if (consuming && !seen.has(`${secret}/${uid}`)) {
      seen.add(`${secret}/${uid}`);
      jobs.add(uid);
      void grant(secret, name, uid);
    } else if (!isJobActive(job) && jobs.delete(uid) && jobs.size === 0) {
      void revoke(secret);
    }
  }
}

/** Retries a request that got no answer (a connection the API server closed under load), as any client would. */
async function retried<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof k8s.ApiException || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

async function grant(secret: string, job: string, uid: string): Promise<void> {
  try {
    await retried(() =>
      core.patchNamespacedSecret(
        {
          name: secret,
          namespace,
          fieldManager: `limit-${uid}`,
          force: true,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: {
              name: secret,
              ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid }],
            },
            data: { password: Buffer.from('limit').toString('base64') },
          },
        },
        apply,
      ),
    );
  } catch (error) {
    failures++;
    process.stderr.write(`grant ${secret} to ${job}: ${String(error).slice(0, 300)}\n`);
  }
}

async function revoke(secret: string): Promise<void> {
  try {
    await retried(() => core.deleteNamespacedSecret({ name: secret, namespace }));
  } catch (error) {
    failures++;
    process.stderr.write(`revoke ${secret}: ${String(error).slice(0, 300)}\n`);
  }
}

/** Secrets the pod template refers to through envFrom and env (what the benchmark's Jobs use). */
function secretNames(job: k8s.V1Job): string[] {
  const names = new Set<string>();
  for (const container of job.spec?.template?.spec?.containers ?? []) {
    for (const from of container.envFrom ?? []) if (from.secretRef?.name) names.add(from.secretRef.name);
    for (const env of container.env ?? [])
      if (env.valueFrom?.secretKeyRef?.name) names.add(env.valueFrom.secretKeyRef.name);
  }
  return [...names];
}

const list = await batch.listNamespacedJob({ namespace });
for (const job of list.items) onJob(job);
const watch = await watchFrom(
  kubeConfig,
  `/apis/batch/v1/namespaces/${namespace}/jobs`,
  {},
  list.metadata!.resourceVersion!,
  (type, object) => {
    if (type === 'ADDED' || type === 'MODIFIED') onJob(object as k8s.V1Job);
  },
  (error) => {
    process.stderr.write(`watch failed: ${String(error)}\n`);
    process.exit(1);
  },
);
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  watch.stop();
  process.stdout.write(`stopped; ${failures} failed requests\n`);
  process.exit(failures > 0 ? 1 : 0);
});
