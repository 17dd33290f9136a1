// Which Jobs may consume a SecretReference: pure decisions over a Job's pod template and state.
import type { V1Job, V1LabelSelectorRequirement } from '@kubernetes/client-node';
import { judgeSelector } from './label-selector.ts';

export interface ConsumerSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: V1LabelSelectorRequirement[];
  serviceAccountNames?: string[];
}

export type ConsumerVerdict = { allowed: true } | { allowed: false; reason: string };

/** Matches the Job's pod-template labels (what its pods will carry) and, when listed, its ServiceAccount. */
export function judgeConsumer(job: V1Job, consumers: ConsumerSelector): ConsumerVerdict {
  const labels = job.spec?.template?.metadata?.labels ?? {};
  const selector = judgeSelector(
    { matchLabels: consumers.matchLabels, matchExpressions: consumers.matchExpressions },
    labels,
  );
  if (!selector.matches) return { allowed: false, reason: `pod template ${selector.unmet}` };
  const allowedAccounts = consumers.serviceAccountNames ?? [];
  if (allowedAccounts.length > 0) {
    const account = job.spec?.template?.spec?.serviceAccountName || 'default';
    if (!allowedAccounts.includes(account)) {
      return {
        allowed: false,
        reason: `ServiceAccount "${account}" is not one of ${allowedAccounts.join(', ')}`,
      };
    }
  }
  return { allowed: true };
}

/** A Job is active until it has finished (Complete or Failed, or on its way there) or is being deleted. */
export function isJobActive(job: V1Job): boolean {
  if (job.metadata?.deletionTimestamp) return false;
  const finished = new Set(['Complete', 'Failed', 'SuccessCriteriaMet', 'FailureTarget']);
  return !(job.status?.conditions ?? []).some((c) => finished.has(c.type) && c.status === 'True');
}

/** A suspended Job has no pods (Kueue and other queues create Jobs suspended), so it needs no Secret. */
export function isJobSuspended(job: V1Job): boolean {
  return job.spec?.suspend === true;
}

/**
 * When the Job says it started: unset until it has, and reset by the Job controller when a suspended Job
 * resumes. Anyone who may write Job status can change it, so the plan counts ttl from the first start it
 * recorded, never from this value alone.
 */
export function jobStartTime(job: V1Job): number | undefined {
  const start = job.status?.startTime;
  return start ? new Date(start).getTime() : undefined;
}

/** The Job controller built into Kubernetes; a Job whose spec.managedBy names another is run elsewhere. */
const builtInJobController = 'kubernetes.io/job-controller';

/**
 * When a Job that the Job controller has not synced yet starts: when it was created. A Job created to run at
 * once (not suspended, run by the built-in Job controller) is started by that controller's first sync, which
 * under a burst of creates comes seconds later, and its pods are created in that same sync, before the start
 * is recorded: they need the Secret from then on. The creation time is set by the API server (no status writer
 * can move it) and is never later than the start, so ttl counted from it is never longer than from the start.
 * A Job that was ever suspended carries a Suspended condition and may have been held in a queue for hours:
 * only its own start counts, as for a Job another controller runs.
 */
export function provisionalStartTime(job: V1Job): number | undefined {
  if (job.status?.startTime || isJobSuspended(job)) return undefined;
  if (job.spec?.managedBy && job.spec.managedBy !== builtInJobController) return undefined;
  if ((job.status?.conditions ?? []).some((condition) => condition.type === 'Suspended')) return undefined;
  const created = job.metadata?.creationTimestamp;
  return created ? new Date(created).getTime() : undefined;
}
