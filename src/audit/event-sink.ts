// Audit records as Kubernetes Events (events.k8s.io/v1) on the SecretReference, related to the Job when there
// is one, so `kubectl describe secretreference` and `kubectl events` show who got what and why.
import { ApiException, type EventsV1Api, type EventsV1Event, V1MicroTime } from '@kubernetes/client-node';
import type { AuditAction, AuditRecord, AuditSink } from './types.ts';

export const reportingController = 'secretlink.dev/operator';
/** The API server refuses an Event whose note is longer than this many bytes. */
export const maxNoteBytes = 1024;

/** What the operator did, in the Event's `action` field; the audit action itself is the Event's reason. */
const eventActions: Record<AuditAction, string> = {
  Materialized: 'WriteSecret',
  Refreshed: 'RefreshSecret',
  Revoked: 'DeleteSecret',
  Expired: 'DeleteSecret',
  Refused: 'RefuseJob',
  Failed: 'ResolveSecret',
  LeaseIssued: 'IssueCredential',
  LeaseRenewed: 'RenewCredential',
  LeaseRevoked: 'RevokeCredential',
};

const warnings = new Set<AuditAction>(['Refused', 'Failed']);

export class KubernetesEventSink implements AuditSink {
  readonly name = 'events';
  private readonly events: EventsV1Api;
  private readonly reportingInstance: string;

  /** `reportingInstance` names this replica, e.g. the pod name. */
  constructor(events: EventsV1Api, reportingInstance: string) {
    this.events = events;
    this.reportingInstance = reportingInstance;
  }

  async write(record: AuditRecord): Promise<void> {
    try {
      await this.events.createNamespacedEvent({
        namespace: record.reference.namespace,
        body: auditEvent(record, this.reportingInstance),
      });
    } catch (error) {
      // The Event is named by the record's id: AlreadyExists means this record was recorded before.
      if (error instanceof ApiException && error.code === 409) return;
      throw error;
    }
  }
}

export function auditEvent(record: AuditRecord, reportingInstance: string): EventsV1Event {
  const { reference, job } = record;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: eventName(reference.name, record.id), namespace: reference.namespace },
    eventTime: new V1MicroTime(record.time),
    type: warnings.has(record.action) ? 'Warning' : 'Normal',
    reason: record.action,
    action: eventActions[record.action],
    note: truncateUtf8(record.message, maxNoteBytes),
    regarding: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      namespace: reference.namespace,
      name: reference.name,
      ...(reference.uid ? { uid: reference.uid } : {}),
    },
    ...(job
      ? {
          related: {
            apiVersion: 'batch/v1',
            kind: 'Job',
            namespace: job.namespace,
            name: job.name,
            uid: job.uid,
          },
        }
      : {}),
    reportingController,
    reportingInstance: reportingInstance.slice(0, 128),
  };
}

/**
 * `<reference>.<record id>`: the same record always names the same Event, so a repeat (a retry, a restart, two
 * replicas) fails with AlreadyExists instead of showing one decision twice.
 */
export function eventName(referenceName: string, id: string): string {
  const prefix = referenceName.slice(0, 253 - id.length - 1).replace(/[^a-z0-9]+$/, '');
  return `${prefix}.${id}`;
}

/** At most `maxBytes` of UTF-8, cut at a character boundary and marked with an ellipsis when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const ellipsis = '…';
  let end = maxBytes - Buffer.byteLength(ellipsis);
  // Step back over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8') + ellipsis;
}
