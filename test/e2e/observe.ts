// What the end-to-end suite reads back from the cluster: the pods of a Job, whether they ran, what the
// kubelet reported about them, and the operator's own pod.
import * as k8s from '@kubernetes/client-node';
import { operatorNamespace } from '../env/install.ts';
import { api } from '../support/cluster.ts';
import { eltContainer, printedFingerprints } from './elt-job.ts';
import { containerLog } from './on-target.ts';
import { operatorStatefulSet } from './operator-install.ts';

export async function jobsOfCronJobs(namespace: string): Promise<k8s.V1Job[]> {
  const jobs = await api(k8s.BatchV1Api).listNamespacedJob({ namespace });
  return jobs.items.filter((job) => job.metadata?.ownerReferences?.some((owner) => owner.kind === 'CronJob'));
}

export async function podOf(namespace: string, jobName: string): Promise<k8s.V1Pod | undefined> {
  const pods = await api(k8s.CoreV1Api).listNamespacedPod({
    namespace,
    labelSelector: `job-name=${jobName}`,
  });
  return pods.items[0];
}

/** The fingerprints the Job's container printed once its pod Succeeded; a Failed pod ends the wait. */
export async function printedBySucceededPod(namespace: string, jobName: string) {
  const pod = await podOf(namespace, jobName);
  if (pod?.status?.phase === 'Failed') throw new Error(`pod ${pod.metadata?.name} failed`);
  if (pod?.status?.phase !== 'Succeeded') return undefined;
  const log = await containerLog(pod, eltContainer);
  return log === undefined ? undefined : printedFingerprints(log);
}

export async function eventsOf(pod: k8s.V1Pod): Promise<k8s.CoreV1Event[]> {
  const events = await api(k8s.CoreV1Api).listNamespacedEvent({
    namespace: pod.metadata!.namespace!,
    fieldSelector: `involvedObject.uid=${pod.metadata!.uid}`,
  });
  return events.items;
}

export async function readyOperatorPod(): Promise<k8s.V1Pod | undefined> {
  const pods = await api(k8s.CoreV1Api).listNamespacedPod({
    namespace: operatorNamespace,
    labelSelector: 'app.kubernetes.io/name=secretlink',
  });
  return pods.items.find(
    (pod) =>
      pod.metadata?.name?.startsWith(operatorStatefulSet) &&
      !pod.metadata.deletionTimestamp &&
      pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'),
  );
}
