// Per-Job isolation (spec.isolation: PerJob), as a pure function. The reference-level plan still decides who
// consumes, who expired and who was refused; this decides each consuming Job's own Secret, named
// `<target>-<job uid>`, and which per-Job Secrets go. No I/O here.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { labels } from '../api/constants.ts';
import { isManagedFor, managedAnnotations } from './managed-secret.ts';
import type { ConsumingJob, EndedJob, ForeignPod, Plan, ReferenceFacts } from './plan.ts';
import type { PodUse } from './pod-index.ts';

/**
 * The Secret of one Job. The admission policies compute the same name in CEL, which has no hash function, so
 * it carries the Job's whole uid; a uid is assigned by the API server, so no one picks another Job's name.
 */
export function perJobSecretName(targetName: string, jobUid: string): string {
  return `${targetName}-${jobUid}`;
}

/** The Job a per-Job Secret was written for, from its operator-only label; undefined for any other Secret. */
export function perJobSecretJob(secret: V1Secret): string | undefined {
  return secret.metadata?.labels?.[labels.job] || undefined;
}

/**
 * The per-Job Secrets status says exist (each Job it lists as consuming held its own) that the cache lacks:
 * the cache may lag a create made moments ago. Read live, not taken for gone, they are neither created twice
 * nor their Job's access recorded as ended while the Secret still stands.
 */
export function unseenJobSecrets(
  status: { secretName?: string; consumingJobs?: { uid: string }[] },
  cached: V1Secret[],
  targetName: string,
): { name: string; jobUid: string }[] {
  const seen = new Set(cached.map((secret) => secret.metadata?.name));
  return (status.consumingJobs ?? [])
    .map((job) => ({ name: perJobSecretName(status.secretName ?? targetName, job.uid), jobUid: job.uid }))
    .filter(({ name }) => !seen.has(name));
}

/**
 * When the next per-Job Secret falls due for a check of its remote versions (ms from now), counted from each
 * one's last check. Coming back then, rather than a whole interval after whatever visit came last, keeps a
 * visit that found a Secret just short of due from leaving it another interval. Checks already due (the store
 * could not be asked now) are left to the other visits, so a key is not handed back at once over and over.
 */
export function nextJobCheckMs(
  lastChecks: Record<string, number>,
  refreshIntervalMs: number,
  now: number,
): number | undefined {
  const dueIn = Object.values(lastChecks)
    .map((last) => last + refreshIntervalMs - now)
    .filter((ms) => ms > 0);
  return dueIn.length > 0 ? Math.min(...dueIn) : undefined;
}

export type JobSecretAction =
  /** Read the values for this Job and create its Secret. */
  | 'create'
  /** The content definition changed: read again and replace. */
  | 'rewrite'
  /** Compare remote versions with the Secret's; replace only if one changed. */
  | 'refresh'
  | 'keep'
  /** The Job is no longer entitled (or its Secret carries an earlier target name): delete by uid. */
  | 'delete'
  /** Pods that the Job does not control refer to its Secret's name: write nothing for it while they do. */
  | 'withhold';

export interface JobSecretStep {
  action: JobSecretAction;
  /** The Secret's name: `<target>-<job uid>`, or for a delete the name it has. */
  name: string;
  job: { name: string; uid: string };
  /** For a Job that consumes: its entitlement (start and expiry). */
  entitlement?: ConsumingJob;
  /** The per-Job Secret that exists now, if any. */
  secret?: V1Secret;
  /** The Secret's only owner: its Job, so garbage collection removes it with that Job. */
  ownerReferences: V1OwnerReference[];
  /** With `withhold` (and the delete it causes): the pods in the way. */
  foreignPods?: ForeignPod[];
  /** With `delete`: whether the Job's access ends with it (false when only its name moves to a new target). */
  endsAccess?: boolean;
}

export interface PerJobInput {
  now: number;
  reference: Pick<ReferenceFacts, 'namespace' | 'name' | 'targetName' | 'contentHash' | 'refreshIntervalMs'>;
  /** The reference-level plan, made with no Secret under the target name and no pods (per-Job writes neither). */
  plan: Pick<Plan, 'consuming' | 'ended' | 'action' | 'standstill'>;
  storeReady: boolean;
  /** Secrets carrying this reference's managed labels, whatever their name (the managed-Secret cache). */
  secrets: V1Secret[];
  /** When each per-Job Secret's remote versions were last found current or written, by Secret uid. */
  lastChecks: Record<string, number>;
  /** Unfinished pods referring to each per-Job Secret name, by name. */
  pods: Record<string, PodUse[]>;
}

export interface PerJobPlan {
  steps: JobSecretStep[];
  /** Jobs whose access ended: those status recorded as consuming and no longer are, and owners of deleted Secrets. */
  ended: EndedJob[];
}

export function planPerJob(input: PerJobInput): PerJobPlan {
  const { reference, plan } = input;
  const own = input.secrets.filter(
    (secret) => isManagedFor(secret, reference.namespace, reference.name) && perJobSecretJob(secret),
  );
  // A target held by a Secret this reference did not create is not claimed, so no pod is rewritten to a
  // per-Job name: nothing is written for anyone then, as nothing is in Shared mode.
  const serving = plan.action !== 'conflict' && !plan.standstill;
  const steps: JobSecretStep[] = [];
  const kept = new Set<string>();
  for (const job of serving ? plan.consuming : []) {
    const name = perJobSecretName(reference.targetName, job.uid);
    const secret = own.find((s) => s.metadata?.name === name && perJobSecretJob(s) === job.uid);
    if (secret?.metadata?.uid) kept.add(secret.metadata.uid);
    const base = { name, job: { name: job.name, uid: job.uid }, entitlement: job, secret };
    const ownerReferences = [ownerReferenceTo(job)];
    const foreignPods = foreignPodsOf(input.pods[name] ?? [], job.uid);
    if (foreignPods.length > 0) {
      // Whatever is written under this name reaches those pods too. An existing Secret goes at once.
      if (secret) steps.push({ ...base, action: 'delete', ownerReferences, foreignPods, endsAccess: true });
      steps.push({ ...base, action: 'withhold', ownerReferences, foreignPods });
      continue;
    }
    const action = secretAction(input, secret);
    if (action) steps.push({ ...base, action, ownerReferences });
  }
  for (const secret of own) {
    if (kept.has(secret.metadata?.uid ?? '') || steps.some((s) => s.secret === secret)) continue;
    const uid = perJobSecretJob(secret)!;
    const job = plan.consuming.find((j) => j.uid === uid);
    const ownerName = secret.metadata?.ownerReferences?.find((o) => o.uid === uid)?.name ?? '';
    steps.push({
      action: 'delete',
      name: secret.metadata?.name ?? '',
      job: { name: job?.name ?? ownerName, uid },
      secret,
      ownerReferences: [],
      // Still consuming under a renamed target: the Job keeps access through its new Secret.
      endsAccess: !(serving && job),
    });
  }
  return { steps: steps.sort(byNameThenAction), ended: endedOf(input, steps) };
}

function secretAction(input: PerJobInput, secret: V1Secret | undefined): JobSecretAction | undefined {
  if (!secret) return input.storeReady ? 'create' : undefined;
  // The store cannot be used now: the Job keeps what it was given until its ttl.
  if (!input.storeReady) return 'keep';
  if (managedAnnotations(secret).contentHash !== input.reference.contentHash) return 'rewrite';
  const last = input.lastChecks[secret.metadata?.uid ?? ''];
  return last === undefined || input.now - last >= input.reference.refreshIntervalMs ? 'refresh' : 'keep';
}

/** The Jobs status recorded as consuming that no longer are, and the Job of every Secret deleted for good. */
function endedOf(input: PerJobInput, steps: JobSecretStep[]): EndedJob[] {
  const ended = new Map<string, EndedJob>();
  for (const end of input.plan.ended) ended.set(end.job.uid, { job: end.job, cause: end.cause });
  for (const step of steps) {
    if (step.action !== 'delete' || !step.endsAccess || ended.has(step.job.uid)) continue;
    ended.set(step.job.uid, {
      job: step.job,
      cause: 'Revoked',
      ...(step.foreignPods ? { reason: 'ForeignPodUsesTarget' as const } : {}),
    });
  }
  for (const step of steps) {
    const end = ended.get(step.job.uid);
    if (end && step.foreignPods && step.action === 'delete') end.reason = 'ForeignPodUsesTarget';
  }
  return [...ended.values()].sort(
    (a, b) => a.job.name.localeCompare(b.job.name) || a.job.uid.localeCompare(b.job.uid),
  );
}

function foreignPodsOf(pods: PodUse[], jobUid: string): ForeignPod[] {
  return pods
    .filter((pod) => pod.controllerJobUid !== jobUid)
    .map(({ name, uid }) => ({ name, uid }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function ownerReferenceTo(job: ConsumingJob): V1OwnerReference {
  // As in Shared mode: an owner for garbage collection only, neither controller nor blocking deletion.
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.name, uid: job.uid };
}

function byNameThenAction(a: JobSecretStep, b: JobSecretStep): number {
  // Deletes first, so a Secret under an earlier name goes before the new one is written.
  const rank = (s: JobSecretStep) => (s.action === 'delete' ? 0 : 1);
  return rank(a) - rank(b) || a.name.localeCompare(b.name);
}
