// Audit records on the operator's JSON log stream, where log shippers already collect them. Each is one
// info line with `audit: true` and the fixed message "audit", so a query can select exactly these. When the
// record is in the signed audit file, the line also carries its `chain`, `seq` and `head` (the SHA-256 of its
// line in the file): every shipped log line is then an anchor the file can be checked against.
import type { Logger } from 'pino';
import type { AuditRecord, AuditSink, ChainPosition } from './types.ts';

export const auditLogMessage = 'audit';

export class LogAuditSink implements AuditSink {
  readonly name = 'log';
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  async write(record: AuditRecord, position?: ChainPosition): Promise<void> {
    this.logger.info({ audit: true, ...record, ...position }, auditLogMessage);
  }
}
