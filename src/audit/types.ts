// The evidence secretlink leaves for every access decision. A record names who, what, which version and
// why, and carries a keyed fingerprint of the value so versions can be told apart; never the value itself.
import { createHash } from 'node:crypto';

export const auditActions = [
  'Materialized',
  'Refreshed',
  'Revoked',
  'Expired',
  'Refused',
  'Failed',
  // A dynamic credential's lease at the store: issued for, renewed for, and revoked from a Job's access.
  'LeaseIssued',
  'LeaseRenewed',
  'LeaseRevoked',
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditRecord {
  /**
   * Deterministic: the same decision or effect always gets the same id (`auditRecordId`), so a record emitted
   * again (a retried reconcile, a restarted operator) is recognised by every sink instead of counted twice.
   */
  id: string;
  /** RFC 3339 time of the decision. */
  time: string;
  action: AuditAction;
  reference: { namespace: string; name: string; uid?: string };
  store?: { kind: string; name: string; provider?: string };
  /** Remote secrets and the version ids involved. */
  remotes: { name: string; version?: string }[];
  /** The Secret the record is about; `uid` names the very Secret that was created, written or deleted. */
  targetSecret: { namespace: string; name: string; uid?: string };
  job?: { namespace: string; name: string; uid: string };
  /** Machine-readable cause, e.g. JobCompleted, TtlPassed, ConsumersMismatch, AccessDenied. */
  reason: string;
  /** Human-readable detail; built from names and reasons only. */
  message: string;
  /** hmac-sha256:<hex> of the Secret's content, keyed by a key only the operator holds. */
  fingerprint?: string;
  /** For Lease* actions: the lease, by a keyed fingerprint of its id (never the id), and when it ends at the latest. */
  lease?: { fingerprint: string; expiresAt?: string };
  /**
   * The replica (`--identity`) that took the decision or made the effect: for a grant or refresh, the one that
   * wrote the Secret (carried on it, so a record derived again by another replica still names the writer); for
   * anything else, the one that decided. Not part of the id: the same decision re-emitted is the same record.
   */
  operator?: string;
}

/** 32 hex digits of SHA-256 over the parts that identify one decision or effect. */
export function auditRecordId(parts: readonly (string | number | undefined)[]): string {
  return createHash('sha256')
    .update(JSON.stringify(parts.map((part) => part ?? '')), 'utf8')
    .digest('hex')
    .slice(0, 32);
}

/** Where a record stands in the signed audit chain: the chain (replica), its seq and the chain head after it. */
export interface ChainPosition {
  chain: string;
  seq: number;
  /** SHA-256 of the record's line in the audit file. */
  head: string;
}

/** Where audit records go. A sink must not throw for a bad record; it reports its own failures. */
export interface AuditSink {
  readonly name: string;
  /** `position` is given when the record was first appended to the signed chain. */
  write(record: AuditRecord, position?: ChainPosition): Promise<void>;
  close?(): Promise<void>;
}

/** Sends each record to every sink; one failing sink does not stop the others. */
export class AuditTrail implements AuditSink {
  readonly name = 'trail';
  private readonly sinks: AuditSink[];
  private readonly onSinkError: (sink: string, error: unknown) => void;

  constructor(sinks: AuditSink[], onSinkError: (sink: string, error: unknown) => void) {
    this.sinks = sinks;
    this.onSinkError = onSinkError;
  }

  async write(record: AuditRecord, position?: ChainPosition): Promise<void> {
    await Promise.all(
      this.sinks.map((sink) =>
        sink.write(record, position).catch((error: unknown) => this.onSinkError(sink.name, error)),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.close?.()));
  }
}
