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
