// Which pods refer to which Secrets, for the one question the operator asks about pods: before it writes a
// target Secret, does any pod in the namespace that no consuming Job controls wait for it? (A pod created
// before its SecretReference, or naming the Secret with `optional: true`, was admitted and would receive
// every later write.) Pods are many, so the informer keeps only what that question needs: each pod is cut
// down, as it arrives, to its identity, its controller Job and the names of the Secrets it refers to.
import type {
  KubernetesObject,
  V1Container,
  V1EphemeralContainer,
  V1Job,
  V1ObjectMeta,
  V1OwnerReference,
  V1PodSpec,
} from '@kubernetes/client-node';
import { secretNamesReferencedBy } from './job-index.ts';

/** What the pod cache holds for one pod: never its spec, status or other metadata. */
export interface PodSecretUse extends KubernetesObject {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: Pick<V1ObjectMeta, 'name' | 'namespace' | 'uid' | 'resourceVersion' | 'ownerReferences'>;
  /** Every Secret the pod refers to, in any way a pod can, sorted. */
  secretNames: string[];
}

/** One pod that refers to a Secret, as the plan sees it. */
export interface PodUse {
  name: string;
  uid: string;
  /** uid of the batch/v1 Job named by the pod's controller ownerReference, when there is one. */
  controllerJobUid?: string;
  /** That Job's name, to look it up when the Job cache has not seen it yet. */
  controllerJobName?: string;
}

/**
 * Names of every Secret a pod refers to: those it hands to its containers (job-index.ts) and those the
 * kubelet fetches for the node on its behalf, imagePullSecrets and the credentials of storage volumes.
 * Any of them lets a pod's author obtain the Secret, so any of them counts here.
 */
export function secretNamesUsedByPod(spec: V1PodSpec | undefined): Set<string> {
  const names = secretNamesReferencedBy(spec);
  const add = (name: string | undefined) => {
    if (name) names.add(name);
  };
  if (!spec) return names;
  for (const pullSecret of spec.imagePullSecrets ?? []) add(pullSecret.name);
  for (const volume of spec.volumes ?? []) {
    add(volume.csi?.nodePublishSecretRef?.name);
    add(volume.azureFile?.secretName);
    add(volume.cephfs?.secretRef?.name);
    add(volume.rbd?.secretRef?.name);
    add(volume.iscsi?.secretRef?.name);
    add(volume.flexVolume?.secretRef?.name);
    add(volume.scaleIO?.secretRef?.name);
    add(volume.storageos?.secretRef?.name);
    add(volume.cinder?.secretRef?.name);
  }
  return names;
}

/** Names of every Secret the pods of any of `jobs` refer to (secretNamesUsedByPod of each pod template). */
export function secretNamesUsedByJobs(jobs: Iterable<V1Job>): Set<string> {
  const names = new Set<string>();
  for (const job of jobs) {
    for (const name of secretNamesUsedByPod(job.spec?.template?.spec)) names.add(name);
  }
  return names;
}

/**
 * Cuts a pod, as the API server sends it (plain JSON, in a list or a watch event), down to a PodSecretUse.
 * Runs before anything is cached, so the rest of the pod is garbage as soon as the event is handled.
 */
export function slimPod(raw: unknown): PodSecretUse {
  const pod = raw as {
    metadata?: V1ObjectMeta;
    spec?: V1PodSpec & { containers?: V1Container[]; ephemeralContainers?: V1EphemeralContainer[] };
  };
  const metadata = pod.metadata ?? {};
  const controller = metadata.ownerReferences?.find((owner) => owner.controller === true);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      ...(controller ? { ownerReferences: [slimOwner(controller)] } : {}),
    },
    secretNames: [...secretNamesUsedByPod(pod.spec)].sort(),
  };
}

function slimOwner(owner: V1OwnerReference): V1OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    controller: true,
  };
}

/** The pod as the plan needs it. */
export function podUse(pod: PodSecretUse): PodUse {
  const controller = pod.metadata.ownerReferences?.find(
    (owner) => owner.controller === true && owner.apiVersion === 'batch/v1' && owner.kind === 'Job',
  );
  return {
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
    ...(controller ? { controllerJobUid: controller.uid, controllerJobName: controller.name } : {}),
  };
}

/**
 * Pods indexed by the Secrets they refer to, kept current from pod informer events, so finding the pods
 * behind one Secret never scans every pod. Pods that refer to no Secret are not held at all.
 */
export class PodIndex {
  /** "namespace/secret" -> "namespace/pod" -> pod */
  readonly #bySecret = new Map<string, Map<string, PodUse>>();
  /** "namespace/pod" -> the pod's secret names as last seen */
  readonly #secretsByPod = new Map<string, readonly string[]>();

  /**
   * Records the current state of `pod` (added or updated) and returns the names of the Secrets in its
   * namespace whose set of referring pods may have changed. A pod's references cannot change after
   * creation, but its controller can (orphaning, adoption), so every upsert reports its Secrets.
   */
  upsert(pod: PodSecretUse): Set<string> {
    const { namespace, podKey } = keysOf(pod);
    const before = this.#secretsByPod.get(podKey) ?? [];
    const after = pod.secretNames;
    for (const secretName of before) {
      if (!after.includes(secretName)) this.#unlink(namespace, secretName, podKey);
    }
    const use = podUse(pod);
    for (const secretName of after) {
      const secretKey = `${namespace}/${secretName}`;
      let pods = this.#bySecret.get(secretKey);
      if (!pods) {
        pods = new Map();
        this.#bySecret.set(secretKey, pods);
      }
      pods.set(podKey, use);
    }
    if (after.length > 0) this.#secretsByPod.set(podKey, after);
    else this.#secretsByPod.delete(podKey);
    return new Set([...before, ...after]);
  }

  /** Forgets a deleted (or finished) `pod`; returns the names of the Secrets it referred to. */
  remove(pod: PodSecretUse): Set<string> {
    const { namespace, podKey } = keysOf(pod);
    const before = this.#secretsByPod.get(podKey) ?? [];
    for (const secretName of before) this.#unlink(namespace, secretName, podKey);
    this.#secretsByPod.delete(podKey);
    return new Set(before);
  }

  /** Pods in `namespace` that refer to the Secret `secretName`, sorted by name. */
  podsReferencing(namespace: string, secretName: string): PodUse[] {
    const pods = [...(this.#bySecret.get(`${namespace}/${secretName}`)?.values() ?? [])];
    return pods.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Number of pods that refer to at least one Secret. */
  get size(): number {
    return this.#secretsByPod.size;
  }

  #unlink(namespace: string, secretName: string, podKey: string): void {
    const secretKey = `${namespace}/${secretName}`;
    const pods = this.#bySecret.get(secretKey);
    pods?.delete(podKey);
    if (pods?.size === 0) this.#bySecret.delete(secretKey);
  }
}

function keysOf(pod: PodSecretUse): { namespace: string; podKey: string } {
  const namespace = pod.metadata.namespace ?? '';
  return { namespace, podKey: `${namespace}/${pod.metadata.name ?? ''}` };
}
