// What the demo says about each thing that happens: one line per Job start and end, pod start, audit record
// and intruder attempt. Pure, so the lines are tested without a cluster; they name objects, versions,
// reasons and fingerprints, never a value (an audit record holds none, and nothing else is read).
import type * as k8s from '@kubernetes/client-node';
import type { AuditRecord } from '../../src/audit/types.ts';

/** `HH:MM:SS  text`, in the local time of the terminal that watches. */
export function stamped(text: string, at = new Date()): string {
  return `${at.toTimeString().slice(0, 8)}  ${text}`;
}

export function jobStarted(job: k8s.V1Job): string {
  const cronJob = job.metadata?.ownerReferences?.find((owner) => owner.kind === 'CronJob')?.name;
  return `Job ${job.metadata?.name} started${cronJob ? ` (from CronJob ${cronJob})` : ''}`;
}

/** The line for a Job that just finished, or undefined while it runs. */
export function jobFinished(job: k8s.V1Job): string | undefined {
  const finished = job.status?.conditions?.find(
    (condition) =>
      (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
  );
  if (!finished) return undefined;
  return `Job ${job.metadata?.name} ${finished.type === 'Complete' ? 'completed' : 'failed'}`;
}

/** How a pod's containers take Secret `secretName`: env, envFrom or a volume; undefined if they do not. */
export function secretUse(pod: k8s.V1Pod, secretName: string): string | undefined {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const uses = new Set<string>();
  for (const container of containers) {
    if (container.envFrom?.some((source) => source.secretRef?.name === secretName)) uses.add('envFrom');
    if (container.env?.some((variable) => variable.valueFrom?.secretKeyRef?.name === secretName))
      uses.add('env');
  }
  if (pod.spec?.volumes?.some((volume) => volume.secret?.secretName === secretName)) uses.add('a volume');
  return uses.size > 0 ? [...uses].join(' and ') : undefined;
}

export function podRunning(pod: k8s.V1Pod, secretName: string, use: string): string {
  const job = pod.metadata?.labels?.['job-name'];
  // Running is what the API server confirms; under kwok no container really starts, so no more is claimed.
  return `pod ${pod.metadata?.name}${job ? ` of Job ${job}` : ''} is running with Secret ${secretName} (${use})`;
}

/** The line for one record of the operator's audit file. */
export function auditLine(record: AuditRecord): string {
  const secret = record.targetSecret.name;
  const job = record.job ? `Job ${record.job.name}` : 'no Job';
  const versions = record.remotes
    .map((remote) => `${remote.name}${remote.version ? ` version ${shortVersion(remote.version)}` : ''}`)
    .join(', ');
  const fingerprint = record.fingerprint
    ? `, fingerprint ${record.fingerprint.slice(0, 'hmac-sha256:'.length + 16)}…`
    : '';
  switch (record.action) {
    case 'Materialized':
      return `Secret ${secret} materialized for ${job} from ${record.store?.kind ?? 'store'} ${record.store?.name ?? ''} (${versions}${fingerprint}); audited, never the value`;
    case 'Refreshed':
      return `Secret ${secret} rewritten for ${job}: ${versions}${fingerprint}`;
    case 'Revoked':
      return `Secret ${secret} revoked: ${job} no longer needs it (${record.reason})`;
    case 'Expired':
      return `Secret ${secret} revoked: ${job} passed its ttl (${record.reason})`;
    default:
      return `${record.action} (${record.reason}): ${record.message}`;
  }
}

/** AWS version ids are UUIDs: the first block is enough to tell versions apart on screen. */
function shortVersion(version: string): string {
  return version.length > 12 ? `${version.slice(0, 8)}…` : version;
}

/** The line for an intruder pod the narrator tried to create: refused (as it must be) or, loudly, not. */
export function intruderLine(secretName: string, refusal: string | undefined): string {
  return refusal
    ? `an intruder pod that mounts Secret ${secretName} was refused by the API server: ${refusal}`
    : `WARNING: an intruder pod that mounts Secret ${secretName} was admitted; is the admission policy installed?`;
}
