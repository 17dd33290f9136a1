// Which Jobs refer to which Secrets. A Job is a potential consumer of a managed Secret only if its pod
// template hands that Secret's data to a container: as a volume, a projected volume source, an env var or
// an envFrom source, in any container, init container or ephemeral container. imagePullSecrets are
// credentials for the kubelet, not data for the job, so they do not count; nor do the credential fields of
// storage volume plugins (csi, cephfs, rbd, azureFile, ...), which go to a storage driver.
import type { V1Container, V1EphemeralContainer, V1Job, V1PodSpec } from '@kubernetes/client-node';
import { isJobActive, isJobSuspended, jobStartTime, provisionalStartTime } from './consumers.ts';

/** Names of the Secrets whose data `podSpec` hands to its containers. */
export function secretNamesReferencedBy(podSpec: V1PodSpec | undefined): Set<string> {
  const names = new Set<string>();
  const add = (name: string | undefined) => {
    if (name) names.add(name);
  };
  if (!podSpec) return names;

  for (const volume of podSpec.volumes ?? []) {
    add(volume.secret?.secretName);
    for (const source of volume.projected?.sources ?? []) add(source.secret?.name);
  }
  const containers: Array<V1Container | V1EphemeralContainer> = [
    ...(podSpec.containers ?? []),
    ...(podSpec.initContainers ?? []),
    ...(podSpec.ephemeralContainers ?? []),
  ];
  for (const container of containers) {
    for (const variable of container.env ?? []) add(variable.valueFrom?.secretKeyRef?.name);
    for (const source of container.envFrom ?? []) add(source.secretRef?.name);
  }
  return names;
}

/**
 * Jobs indexed by the Secrets their pod templates refer to, kept current from Job informer events, so
 * finding the Jobs behind one Secret never scans every Job. Holds the Job objects it was given (the
 * informer's frozen copies) and never modifies them.
 */
export class JobIndex {
  /** "namespace/secret" -> "namespace/job" -> Job */
  readonly #bySecret = new Map<string, Map<string, V1Job>>();
  /** "namespace/job" -> secret names the Job refers to */
  readonly #secretsByJob = new Map<string, Set<string>>();
  /** "namespace/job" -> entitlementFacts of the Job as last seen */
  readonly #factsByJob = new Map<string, string>();

  /**
   * Records the current state of `job` (added or updated) and returns the names of the Secrets in its
   * namespace whose set of referring Jobs may have changed: those it refers to now and those it referred
   * to before. Those are the Secrets whose owners need another look. An update that changes none of the
   * Job's references and nothing that decides its entitlement (a pod became ready, say) returns none.
   */
  upsert(job: V1Job): Set<string> {
    const { namespace, jobKey } = keysOf(job);
    const before = this.#secretsByJob.get(jobKey) ?? new Set<string>();
    const after = secretNamesReferencedBy(job.spec?.template?.spec);
    const facts = entitlementFacts(job);
    const unchanged =
      this.#factsByJob.get(jobKey) === facts &&
      before.size === after.size &&
      [...after].every((n) => before.has(n));
    for (const secretName of before) {
      if (!after.has(secretName)) this.#unlink(namespace, secretName, jobKey);
    }
    for (const secretName of after) {
      const secretKey = `${namespace}/${secretName}`;
      let jobs = this.#bySecret.get(secretKey);
      if (!jobs) {
        jobs = new Map();
        this.#bySecret.set(secretKey, jobs);
      }
      jobs.set(jobKey, job);
    }
    if (after.size > 0) {
      this.#secretsByJob.set(jobKey, after);
      this.#factsByJob.set(jobKey, facts);
    } else {
      this.#secretsByJob.delete(jobKey);
      this.#factsByJob.delete(jobKey);
    }
    return unchanged ? new Set() : new Set([...before, ...after]);
  }

  /** Forgets a deleted `job`; returns the names of the Secrets it referred to. */
  remove(job: V1Job): Set<string> {
    const { namespace, jobKey } = keysOf(job);
    const before = this.#secretsByJob.get(jobKey) ?? new Set<string>();
    for (const secretName of before) this.#unlink(namespace, secretName, jobKey);
    this.#secretsByJob.delete(jobKey);
    this.#factsByJob.delete(jobKey);
    return before;
  }

  /** Jobs in `namespace` whose pod templates refer to the Secret `secretName`, in no particular order. */
  jobsReferencing(namespace: string, secretName: string): V1Job[] {
    return [...(this.#bySecret.get(`${namespace}/${secretName}`)?.values() ?? [])];
  }

  /** Number of Jobs that refer to at least one Secret. */
  get size(): number {
    return this.#secretsByJob.size;
  }

  #unlink(namespace: string, secretName: string, jobKey: string): void {
    const secretKey = `${namespace}/${secretName}`;
    const jobs = this.#bySecret.get(secretKey);
    jobs?.delete(jobKey);
    if (jobs?.size === 0) this.#bySecret.delete(secretKey);
  }
}

/** Everything about a Job that decides whether, and until when, it may consume a Secret (consumers.ts). */
export function entitlementFacts(job: V1Job): string {
  return JSON.stringify([
    job.metadata?.uid ?? null,
    job.spec?.template?.metadata?.labels ?? {},
    job.spec?.template?.spec?.serviceAccountName ?? null,
    isJobActive(job),
    isJobSuspended(job),
    jobStartTime(job) ?? null,
    provisionalStartTime(job) ?? null,
  ]);
}

function keysOf(job: V1Job): { namespace: string; jobKey: string } {
  const namespace = job.metadata?.namespace ?? '';
  return { namespace, jobKey: `${namespace}/${job.metadata?.name ?? ''}` };
}
